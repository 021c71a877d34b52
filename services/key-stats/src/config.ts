import { DEFAULT_PORTS, envTypes, parseServiceEnv } from "@apimon/config";

/** key-stats' settings. DATABASE_URL may hold a password: never log this object. */
export function loadConfig(env = process.env) {
  const { settings, raw } = parseServiceEnv(
    {
      prefix: "KEY_STATS",
      // Health, readiness and metrics.
      port: DEFAULT_PORTS.keyStats,
      // Also the group_id of its rows in consumer_offsets.
      groupId: { fallback: "key-stats", maxLength: 200 },
      database: true,
      kafka: true,
    },
    {
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
    ...settings,
    maxBatchSize: raw.KEY_STATS_MAX_BATCH_SIZE,
    countedEvents: {
      retentionDays: raw.KEY_STATS_COUNTED_EVENTS_RETENTION_DAYS,
      intervalMs: raw.KEY_STATS_COUNTED_EVENTS_INTERVAL_MS,
    },
    sessionTimeoutMs: raw.KEY_STATS_SESSION_TIMEOUT_MS,
  };
}

export type Config = ReturnType<typeof loadConfig>;
