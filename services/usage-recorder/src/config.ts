import { DEFAULT_PORTS, envTypes, parseServiceEnv } from "@apimon/config";
import { z } from "zod";

/** The usage recorder's settings. DATABASE_URL may hold a password: never log this object. */
export function loadConfig(env = process.env) {
  const { settings, raw } = parseServiceEnv(
    {
      prefix: "USAGE_RECORDER",
      port: DEFAULT_PORTS.usageRecorder,
      groupId: "usage-recorder",
      database: true,
      kafka: true,
    },
    {
      /** Most rows written by one bulk statement (and committed after it). */
      USAGE_RECORDER_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(2000),
      /** Partitions whose batches are written at the same time (each on its own connection). */
      USAGE_RECORDER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(3),
      /** Database connections; at least the concurrency plus one for maintenance and probes. */
      USAGE_RECORDER_DB_POOL_SIZE: envTypes.positiveInt(5),
      /** A dead instance leaves the group after this long (the broker's minimum is 6 s). */
      USAGE_RECORDER_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(30_000),
      /** How often the lag gauge is refreshed from the broker (high watermarks and commits). */
      USAGE_RECORDER_LAG_INTERVAL_MS: envTypes.positiveInt(10_000),
      /** Daily partitions of api_usage made ahead of time, beyond today. */
      USAGE_PARTITION_DAYS_AHEAD: envTypes.nonNegativeInt(3),
      /** Whole UTC days of api_usage kept before today; older partitions are dropped. */
      USAGE_RETENTION_DAYS: envTypes.positiveInt(30),
      /** How often partitions are created ahead and old ones dropped. */
      USAGE_PARTITION_INTERVAL_MS: envTypes.positiveInt(3_600_000),
    },
    env,
  );
  return {
    ...settings,
    batchSize: raw.USAGE_RECORDER_BATCH_SIZE,
    concurrency: raw.USAGE_RECORDER_CONCURRENCY,
    sessionTimeoutMs: raw.USAGE_RECORDER_SESSION_TIMEOUT_MS,
    lagIntervalMs: raw.USAGE_RECORDER_LAG_INTERVAL_MS,
    partitions: {
      daysAhead: raw.USAGE_PARTITION_DAYS_AHEAD,
      retentionDays: raw.USAGE_RETENTION_DAYS,
      intervalMs: raw.USAGE_PARTITION_INTERVAL_MS,
    },
    database: { ...settings.database, poolSize: raw.USAGE_RECORDER_DB_POOL_SIZE },
  };
}

export type Config = ReturnType<typeof loadConfig>;
