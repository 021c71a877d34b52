import { type ConsumerProgress, fetchConsumerLag, type KafkaClient } from "@apimon/kafka";
import { createPeriodicTask, gauge, type Logger, type Registry } from "@apimon/observability";

export interface LagMonitorOptions {
  kafka: KafkaClient;
  groupId: string;
  /** The broker-side topic name (prefix included). */
  topic: string;
  logger: Logger;
  registry?: Registry;
  /** How often the broker is asked for high watermarks and the group's commits. */
  intervalMs: number;
}

export interface LagMonitor {
  /** Refreshes once, then every intervalMs in the background. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The consumer runner's onProgress: lowers the gauge as batches commit, between refreshes. */
  onProgress(progress: ConsumerProgress): void;
  /** Asks the broker now. */
  refresh(): Promise<void>;
}

/**
 * `usage_recorder_consumer_lag{topic,partition}`: messages of each partition that the group
 * has not written and committed yet (high watermark − committed offset). The broker is asked
 * every intervalMs (one admin connection, two requests), so the gauge also grows while a
 * partition is paused (a database outage) and drops to 0 once it caught up. In between, each
 * committed batch lowers it against the last known high watermark.
 */
export function createLagMonitor({
  kafka,
  groupId,
  topic,
  logger,
  registry,
  intervalMs,
}: LagMonitorOptions): LagMonitor {
  const log = logger.child({ component: "lag-monitor" });
  const lag = gauge(
    registry,
    "usage_recorder_consumer_lag",
    "Messages per partition not yet written and committed (high watermark - committed offset)",
    ["topic", "partition"],
  );
  const highs = new Map<number, bigint>();
  let failing = false;

  async function refresh(): Promise<void> {
    try {
      for (const p of await fetchConsumerLag(kafka, groupId, topic)) {
        highs.set(p.partition, p.high);
        lag.set({ topic, partition: String(p.partition) }, Number(p.lag));
      }
      if (failing) log.info("consumer lag readable again");
      failing = false;
    } catch (error) {
      // The gauge keeps its last values; the consumer's own health says whether Kafka is gone.
      if (!failing) log.warn({ err: error }, "could not read consumer lag");
      failing = true;
    }
  }

  const task = createPeriodicTask({
    name: "lag monitor",
    logger: log,
    intervalMs,
    firstRun: "await",
    run: refresh,
  });

  return {
    start: () => task.start(),
    stop: () => task.stop(),
    onProgress({ topic: name, partition, nextOffset }) {
      if (name !== topic) return;
      const high = highs.get(partition);
      if (high === undefined) return;
      const next = BigInt(nextOffset);
      lag.set({ topic, partition: String(partition) }, Number(high > next ? high - next : 0n));
    },
    refresh: () => task.runNow(),
  };
}
