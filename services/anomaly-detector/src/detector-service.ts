import { shouldRetryDbError } from "@apimon/db";
import { topics } from "@apimon/events";
import {
  type BatchingProducer,
  type ConsumerProgress,
  type ConsumerRunner,
  createConsumerRunner,
  type KafkaClient,
  subscription,
} from "@apimon/kafka";
import { Counter, createPeriodicTask, Gauge, type Logger, type Registry } from "@apimon/observability";
import { createDetector, type Detector } from "./domain/detector";
import { handleAuthFailures } from "./handlers/auth-failures";
import { handleUsageEvents } from "./handlers/usage-events";
import { createStateRebuilder, type StateRebuilder } from "./rebuild";
import type { SettingsSource } from "./settings-source";
import { createSignalQueue, type SignalQueue } from "./signal-queue";

export interface DetectorService {
  start(): Promise<void>;
  /** Stops the tick and the consumer (letting the batch in flight finish), then flushes signals. */
  stop(): Promise<void>;
  /** Consuming in its group, with every assigned partition's state rebuilt. */
  isReady(): boolean;
  /** One tick now (also run every tickMs): resolution and de-escalation at the clock's time. */
  tick(): Promise<void>;
  readonly detector: Detector;
  readonly signals: SignalQueue;
  readonly rebuilder: StateRebuilder;
  readonly runner: ConsumerRunner;
}

export interface DetectorServiceDeps {
  kafka: KafkaClient;
  producer: BatchingProducer;
  settings: SettingsSource;
  logger: Logger;
  registry?: Registry;
  groupId: string;
  topicPrefix?: string;
  tickMs: number;
  /** Client IPs whose auth failures are tracked per partition; the least recently failing go first. */
  maxTrackedIps?: number;
  maxTrackedEndpoints?: number;
  /** How often at most a firing condition reports its count of matches and latest value. */
  updateIntervalMs?: number;
  /** The clock of quiet-period resolution (windows use the events' own occurredAt). */
  clock?: () => number;
  /** Largest slice handed to the rules at once: one signal flush (broker round trip) per slice. */
  maxBatchSize?: number;
  /** Partitions handled at once: their signal flushes share broker round trips instead of queueing. */
  partitionsConsumedConcurrently?: number;
  /** Told after each slice was handled, its signals published and its offset committed. */
  onProgress?: (progress: ConsumerProgress) => void;
}

const SWEEP_EVERY_MS = 60_000;
export const DEFAULT_MAX_BATCH_SIZE = 2000;
export const DEFAULT_PARTITIONS_CONCURRENTLY = 12;

/**
 * The detector's moving parts: a consumer runner over usage.events.v1 and auth.failures.v1
 * feeding the rules, the state rebuild on assignment, the signal queue, and the periodic tick.
 */
export function createDetectorService({
  kafka,
  producer,
  settings,
  logger,
  registry,
  groupId,
  topicPrefix = "",
  tickMs,
  clock = Date.now,
  maxBatchSize = DEFAULT_MAX_BATCH_SIZE,
  partitionsConsumedConcurrently = DEFAULT_PARTITIONS_CONCURRENTLY,
  maxTrackedIps,
  maxTrackedEndpoints,
  updateIntervalMs,
  onProgress,
}: DetectorServiceDeps): DetectorService {
  const log = logger.child({ component: "detector" });
  const detector = createDetector({
    thresholds: settings.current,
    clock,
    maxTrackedIps,
    maxTrackedEndpoints,
    updateIntervalMs,
  });
  const signals = createSignalQueue({ producer, logger: log, registry });
  const rebuilder = createStateRebuilder({
    kafka,
    groupId,
    topicPrefix,
    logger,
    detector,
    thresholds: settings.current,
    registry,
  });
  const deps = { detector, signals, rebuilder };
  const runner = createConsumerRunner({
    kafka,
    groupId,
    logger,
    registry,
    topicPrefix,
    maxBatchSize,
    partitionsConsumedConcurrently,
    subscriptions: [
      subscription(topics.usageEvents, handleUsageEvents(deps)),
      subscription(topics.authFailures, handleAuthFailures(deps)),
    ],
    // Every consumer's policy: the rules themselves read no table, but a database error on this
    // path would be retried until the database answers, not dead-lettered.
    isRetriable: shouldRetryDbError,
    onProgress,
    onAssignment: (assignment) => rebuilder.onAssignment(assignment),
    initialOffset: (topic, partition) => rebuilder.initialOffset(topic, partition),
  });
  if (registry) {
    new Gauge({
      name: "detector_conditions",
      help: "Conditions by state: firing, or pending (matching but damped)",
      labelNames: ["state"],
      registers: [registry],
      collect() {
        let firing = 0;
        let pending = 0;
        for (const c of detector.conditions()) {
          if (c.firing !== null) firing++;
          else if (c.consecutive > 0) pending++;
        }
        this.set({ state: "firing" }, firing);
        this.set({ state: "pending" }, pending);
      },
    });
    new Gauge({
      name: "detector_keys",
      help: "API keys with usage state in memory",
      registers: [registry],
      collect() {
        this.set(detector.keyCount());
      },
    });
    new Gauge({
      name: "detector_endpoints",
      help: "Endpoints (of every key) with usage state in memory",
      registers: [registry],
      collect() {
        this.set(detector.endpointCounts().tracked);
      },
    });
    new Counter({
      name: "detector_endpoints_evicted_total",
      help: "Endpoints forgotten to keep under DETECTOR_MAX_TRACKED_ENDPOINTS per partition",
      registers: [registry],
      collect() {
        this.reset();
        this.inc(detector.endpointCounts().evicted);
      },
    });
  }

  let lastSweep = 0;
  let evictedSeen = 0;

  async function tick(): Promise<void> {
    const now = clock();
    signals.push(detector.tick(now));
    if (now - lastSweep >= SWEEP_EVERY_MS) {
      detector.sweep(now);
      lastSweep = now;
      const { tracked, evicted } = detector.endpointCounts();
      if (evicted > evictedSeen) {
        log.warn(
          { evicted: evicted - evictedSeen, tracked },
          "more endpoints than DETECTOR_MAX_TRACKED_ENDPOINTS per partition: the least recently called " +
            "were forgotten, with their error-rate windows. Paths that carry names (/api/users/alice) " +
            "become one endpoint with EDGE_ENDPOINT_PATTERNS",
        );
        evictedSeen = evicted;
      }
    }
    try {
      await signals.flush();
    } catch (err) {
      // Kept queued; the next tick or batch sends them.
      log.warn({ err }, "tick could not publish its signals");
    }
  }
  const ticker = createPeriodicTask({ name: "detector tick", logger: log, intervalMs: tickMs, run: tick });

  return {
    async start() {
      await runner.start();
      await ticker.start();
    },
    async stop() {
      await ticker.stop();
      await runner.stop();
      await signals
        .flush()
        .catch((err) => log.error({ err, left: signals.depth() }, "signals left unpublished"));
    },
    isReady: () => runner.isHealthy() && rebuilder.isIdle(),
    tick,
    detector,
    signals,
    rebuilder,
    runner,
  };
}
