import { Counter, Histogram, type Registry } from "@apimon/observability";

/**
 * key-stats' own series. Consumer lag per partition and batch sizes come from the consumer
 * runner (`kafka_consumer_lag`, `kafka_consumer_batch_size`) on the same registry.
 */
export function createKeyStatsMetrics(registry: Registry) {
  return {
    events: new Counter({
      name: "key_stats_events_total",
      help: "Usage events by outcome: counted, duplicate (an event counted before, published again), redelivered (below the stored offset), unknown_key (key deleted)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    writeDuration: new Histogram({
      name: "key_stats_write_duration_seconds",
      help: "Time of one batch's transaction (offset lock, counted events, counters, offset), committed ones only",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    maintenanceRuns: new Counter({
      name: "key_stats_counted_events_maintenance_runs_total",
      help: "Runs that create counted_events' daily partitions and drop those past retention, by outcome (ok, error)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    countedEventsExpired: new Counter({
      name: "key_stats_counted_events_expired_total",
      help: "counted_events past retention: partitions dropped, rows deleted from the default partition",
      labelNames: ["what"],
      registers: [registry],
    }),
    batchKeys: new Histogram({
      name: "key_stats_batch_keys",
      help: "Distinct API keys updated per batch",
      buckets: [1, 5, 10, 25, 50, 100, 250, 500],
      registers: [registry],
    }),
  };
}

export type KeyStatsMetrics = ReturnType<typeof createKeyStatsMetrics>;
