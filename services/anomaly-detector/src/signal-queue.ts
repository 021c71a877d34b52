import { type AlertSignal, topics } from "@apimon/events";
import type { PublisherDeps } from "@apimon/kafka";
import { counter, gauge } from "@apimon/observability";

export interface SignalQueue {
  /** Queues signals in the order they arose. */
  push(signals: AlertSignal[]): void;
  /**
   * Publishes everything queued (in order, through the batching producer) and resolves when the
   * broker acknowledged it all; rejects when some could not be sent. Those stay queued, ahead of
   * newer ones, for the next flush.
   */
  flush(): Promise<void>;
  depth(): number;
}

/**
 * The one way signals leave the detector. Batch handlers flush before their offsets are
 * committed (so a signal is never lost to a crash), the tick flushes what it resolved; a send
 * that failed keeps its signals queued, so they go out with the next flush instead of vanishing.
 */
export function createSignalQueue({ producer, logger, registry }: PublisherDeps): SignalQueue {
  const published = counter(
    registry,
    "detector_signals_total",
    "Alert signals published, by type, severity and state",
    ["type", "severity", "state"],
  );
  const depth = gauge(registry, "detector_signal_queue_depth", "Signals waiting to be published");
  let queue: AlertSignal[] = [];
  let flushing: Promise<void> | undefined;

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      const results = await Promise.allSettled(batch.map((s) => producer.publish(topics.alertSignals, s)));
      const failed = batch.filter((_, i) => results[i]?.status === "rejected");
      for (const [i, s] of batch.entries()) {
        if (results[i]?.status === "fulfilled")
          published.inc({ type: s.type, severity: s.severity, state: s.state });
      }
      if (failed.length > 0) {
        queue = [...failed, ...queue];
        depth.set(queue.length);
        const reason = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
        logger.warn(
          { err: reason.reason, failed: failed.length },
          "alert signals not published; kept for retry",
        );
        throw reason.reason;
      }
      for (const s of batch) {
        logger.info(
          {
            fingerprint: s.fingerprint,
            severity: s.severity,
            state: s.state,
            observedValue: s.observedValue,
          },
          "alert signal",
        );
      }
      depth.set(queue.length);
    }
  }

  return {
    push(signals) {
      if (signals.length === 0) return;
      queue.push(...signals);
      depth.set(queue.length);
    },
    async flush() {
      // One drain at a time keeps signals of one fingerprint in order; a caller arriving while
      // one runs waits for it and then drains what it queued itself.
      while (flushing) await flushing.catch(() => {});
      if (queue.length === 0) return;
      flushing = drain().finally(() => {
        flushing = undefined;
      });
      await flushing;
    },
    depth: () => queue.length,
  };
}
