import { DEFAULT_PORTS, envTypes, parseServiceEnv } from "@apimon/config";
import { DEFAULT_MAX_BATCH_SIZE, DEFAULT_PARTITIONS_CONCURRENTLY } from "./detector-service";
import { DEFAULT_MAX_TRACKED_IPS } from "./domain/auth-state";
import { DEFAULT_UPDATE_INTERVAL_MS } from "./domain/detector";
import { DEFAULT_MAX_TRACKED_ENDPOINTS } from "./domain/usage-state";

/** The anomaly detector's settings (the alert thresholds themselves live in Postgres). */
export function loadConfig(env = process.env) {
  const { settings, raw } = parseServiceEnv(
    {
      prefix: "DETECTOR",
      port: DEFAULT_PORTS.anomalyDetector,
      groupId: "anomaly-detector",
      database: true,
      kafka: true,
    },
    {
      /** How often the alert_settings row is checked for changes. */
      DETECTOR_SETTINGS_POLL_MS: envTypes.positiveInt(2000),
      /** How often quiet periods are checked (resolution, de-escalation). */
      DETECTOR_TICK_MS: envTypes.positiveInt(1000),
      /** How often at most a firing condition reports its count of matches and latest value. */
      DETECTOR_UPDATE_INTERVAL_MS: envTypes.positiveInt(DEFAULT_UPDATE_INTERVAL_MS),
      /** Largest slice of a partition handled (and its signals flushed) at once. */
      DETECTOR_MAX_BATCH_SIZE: envTypes.positiveInt(DEFAULT_MAX_BATCH_SIZE),
      /** Partitions handled concurrently. */
      DETECTOR_PARTITIONS_CONCURRENTLY: envTypes.positiveInt(DEFAULT_PARTITIONS_CONCURRENTLY),
      /** Client IPs with auth failures tracked per partition; past it the least recently failing are dropped. */
      DETECTOR_MAX_TRACKED_IPS: envTypes.positiveInt(DEFAULT_MAX_TRACKED_IPS),
      /** Endpoints (of every key) tracked per usage partition; past it the least recently called are dropped. */
      DETECTOR_MAX_TRACKED_ENDPOINTS: envTypes.positiveInt(DEFAULT_MAX_TRACKED_ENDPOINTS),
    },
    env,
  );
  return {
    ...settings,
    settingsPollMs: raw.DETECTOR_SETTINGS_POLL_MS,
    tickMs: raw.DETECTOR_TICK_MS,
    updateIntervalMs: raw.DETECTOR_UPDATE_INTERVAL_MS,
    maxBatchSize: raw.DETECTOR_MAX_BATCH_SIZE,
    partitionsConcurrently: raw.DETECTOR_PARTITIONS_CONCURRENTLY,
    maxTrackedIps: raw.DETECTOR_MAX_TRACKED_IPS,
    maxTrackedEndpoints: raw.DETECTOR_MAX_TRACKED_ENDPOINTS,
  };
}

export type Config = ReturnType<typeof loadConfig>;
