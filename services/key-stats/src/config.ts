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
       * Messages per partition whose event ids are remembered, so that an event published twice
       * is counted once; also how far before the stored offset a newly assigned partition is
       * re-read to rebuild that memory. 0 turns the duplicate check off.
       */
      KEY_STATS_DEDUP_WINDOW: envTypes.nonNegativeInt(20_000),
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
    dedupWindow: raw.KEY_STATS_DEDUP_WINDOW,
    sessionTimeoutMs: raw.KEY_STATS_SESSION_TIMEOUT_MS,
    database: databaseConfig(raw),
    kafka: kafkaConfig(raw),
    ...loggingConfig(raw),
  };
}

export type Config = ReturnType<typeof loadConfig>;
