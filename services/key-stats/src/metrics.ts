import { Counter, Histogram, type Registry } from "@apimon/observability";

/**
 * key-stats' own series. Consumer lag per partition and batch sizes come from the consumer
 * runner (`kafka_consumer_lag`, `kafka_consumer_batch_size`) on the same registry.
 */
export function createKeyStatsMetrics(registry: Registry) {
  return {
    events: new Counter({
      name: "key_stats_events_total",
      help: "Usage events by outcome: counted, duplicate (published twice), redelivered (below the stored offset), unknown_key (key deleted)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    writeDuration: new Histogram({
      name: "key_stats_write_duration_seconds",
      help: "Time of one batch's transaction (offset lock, counters, offset), committed ones only",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
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
