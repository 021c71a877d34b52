import { counter, histogram, type Registry } from "@apimon/observability";

/**
 * key-stats' own series. Consumer lag per partition and batch sizes come from the consumer
 * runner (`kafka_consumer_lag`, `kafka_consumer_batch_size`) on the same registry.
 */
export function createKeyStatsMetrics(registry: Registry) {
  return {
    events: counter(
      registry,
      "key_stats_events_total",
      "Usage events by outcome: counted, duplicate (an event counted before, published again), redelivered (below the stored offset), unknown_key (key deleted)",
      ["outcome"],
    ),
    writeDuration: histogram(
      registry,
      "key_stats_write_duration_seconds",
      "Time of one batch's transaction (offset lock, counted events, counters, offset), committed ones only",
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    ),
    maintenanceRuns: counter(
      registry,
      "key_stats_counted_events_maintenance_runs_total",
      "Runs that create counted_events' daily partitions and drop those past retention, by outcome (ok, error)",
      ["outcome"],
    ),
    countedEventsExpired: counter(
      registry,
      "key_stats_counted_events_expired_total",
      "counted_events past retention: partitions dropped, rows deleted from the default partition",
      ["what"],
    ),
    batchKeys: histogram(
      registry,
      "key_stats_batch_keys",
      "Distinct API keys updated per batch",
      [1, 5, 10, 25, 50, 100, 250, 500],
    ),
  };
}

export type KeyStatsMetrics = ReturnType<typeof createKeyStatsMetrics>;
