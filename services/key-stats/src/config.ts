import {
  DEFAULT_PORTS,
  databaseConfig,
  databaseEnv,
  envTypes,
  kafkaConfig,
  kafkaEnv,
  loggingConfig,
  loggingEnv,
  parseEnv,
} from "@apimon/config";
import { z } from "zod";

/** key-stats' settings. DATABASE_URL may hold a password: never log this object. */
export function loadConfig(env = process.env) {
  const raw = parseEnv(
    {
      ...loggingEnv,
      ...databaseEnv,
      ...kafkaEnv,
      /** Health, readiness and metrics. */
      KEY_STATS_PORT: envTypes.port(DEFAULT_PORTS.keyStats),
      KEY_STATS_HOST: z.string().default("0.0.0.0"),
      /** Also the group_id of its rows in consumer_offsets. */
      KEY_STATS_GROUP_ID: z.string().min(1).max(200).default("key-stats"),
      /** Events per transaction at most. */
      KEY_STATS_MAX_BATCH_SIZE: envTypes.positiveInt(500),
      /**
       * Days a counted event's id is kept (in counted_events, after it was counted) so that a
       * copy of it is not counted again: at least the usage topic's retention (7 days), plus a
       * margin for a copy published late (an edge's spool sent again after a restart).
       */
      KEY_STATS_COUNTED_EVENTS_RETENTION_DAYS: envTypes.positiveInt(8),
      /** Pause between runs that create counted_events' daily partitions and drop expired ones. */
      KEY_STATS_COUNTED_EVENTS_INTERVAL_MS: envTypes.positiveInt(3_600_000),
      /** How long a member that died silently keeps its partitions (Kafka's minimum is 6000). */
      KEY_STATS_SESSION_TIMEOUT_MS: envTypes.positiveInt(30_000),
    },
    env,
  );
  return {
    port: raw.KEY_STATS_PORT,
    host: raw.KEY_STATS_HOST,
    groupId: raw.KEY_STATS_GROUP_ID,
    maxBatchSize: raw.KEY_STATS_MAX_BATCH_SIZE,
    countedEvents: {
      retentionDays: raw.KEY_STATS_COUNTED_EVENTS_RETENTION_DAYS,
      intervalMs: raw.KEY_STATS_COUNTED_EVENTS_INTERVAL_MS,
    },
    sessionTimeoutMs: raw.KEY_STATS_SESSION_TIMEOUT_MS,
    database: databaseConfig(raw),
    kafka: kafkaConfig(raw),
    ...loggingConfig(raw),
  };
}

export type Config = ReturnType<typeof loadConfig>;
