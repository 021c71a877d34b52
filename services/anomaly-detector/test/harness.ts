// Shared set-up of the detector's integration tests: unique topics and groups on the real
// broker, a migrated test database holding alert_settings, a producer of events, and a reader
// that collects every alert signal the detector publishes.
import type { Prisma } from "@apimon/db";
import type { AlertSignal, AuthFailure, UsageEvent } from "@apimon/events";
import { topics } from "@apimon/events";
import {
  type BatchingProducer,
  createBatchingProducer,
  fetchEndOffsets,
  type KafkaClient,
} from "@apimon/kafka";
import { createMetricsRegistry, type Logger, type Registry } from "@apimon/observability";
import {
  createTestDatabase,
  createTestTopics,
  readTopic,
  type TestDatabase,
  type TestTopics,
  testLogger,
  waitFor,
} from "@apimon/testkit";
import { createDetectorService, type DetectorService } from "../src/detector-service";
import { createPrismaSettingsStore, createSettingsSource, type SettingsSource } from "../src/settings-source";

export const logger: Logger = testLogger("anomaly-detector-test");

export interface Harness {
  kafka: KafkaClient;
  prefix: string;
  db: TestDatabase;
  producer: BatchingProducer;
  /** Every signal read so far, in arrival order. */
  signals: AlertSignal[];
  sendUsage(events: UsageEvent[]): Promise<void>;
  sendAuth(failures: AuthFailure[]): Promise<void>;
  /** Writes the alert_settings row (the alerts API's job in production). */
  saveThresholds(thresholds: Record<string, unknown>): Promise<void>;
  /** Waits until `probe` holds over the signals, then until every signal published so far was read. */
  waitForSignals(probe: (signals: AlertSignal[]) => boolean, what: string): Promise<AlertSignal[]>;
  startDetector(options: { groupId: string; clock?: () => number; updateIntervalMs?: number }): Promise<{
    service: DetectorService;
    settings: SettingsSource;
    registry: Registry;
    stop(): Promise<void>;
  }>;
  close(): Promise<void>;
}

/** The detector's inputs (with their dead-letter topics) and its output, for one test run. */
export async function createDetectorTopics(label: string): Promise<TestTopics> {
  const run = await createTestTopics(label, [topics.usageEvents, topics.authFailures], {
    logger,
    withDlq: true,
  });
  await run.ensure([topics.alertSignals]);
  return run;
}

export async function createHarness(label: string, thresholds: Record<string, unknown>): Promise<Harness> {
  const run = await createDetectorTopics(label);
  const { kafka, prefix } = run;
  const db = await createTestDatabase();
  const producer = createBatchingProducer({ kafka, logger, topicPrefix: prefix });
  const stoppers = new Set<() => Promise<void>>();

  /** Next offset to handle per `topic:partition`, across the detectors started here. */
  const handled = new Map<string, bigint>();
  const read = new Map<number, bigint>();
  const reader = await readTopic(run, topics.alertSignals, {
    label: `${label}-reader`,
    logger,
    onProgress: (p) => read.set(p.partition, BigInt(p.nextOffset)),
  });
  const signals = reader.values;

  const harness: Harness = {
    kafka,
    prefix,
    db,
    producer,
    signals,
    async sendUsage(events) {
      await Promise.all(events.map((e) => producer.publish(topics.usageEvents, e)));
    },
    async sendAuth(failures) {
      await Promise.all(failures.map((f) => producer.publish(topics.authFailures, f)));
    },
    async saveThresholds(thresholds) {
      const next = thresholds as Prisma.InputJsonObject;
      await db.prisma.alertSettings.upsert({
        where: { id: 1 },
        create: { id: 1, alertThresholds: next, repeatIntervalSeconds: 3600, escalation: {} },
        update: { alertThresholds: next },
      });
    },
    async waitForSignals(probe, what) {
      await waitFor(() => probe(signals), { timeoutMs: 30_000, what });
      // Every event sent so far was handled (its signals published) ...
      for (const spec of [topics.usageEvents, topics.authFailures]) {
        const name = run.name(spec);
        const inputs = await fetchEndOffsets(kafka, name);
        await waitFor(
          () => inputs.every((e) => e.high === 0n || (handled.get(`${name}:${e.partition}`) ?? 0n) >= e.high),
          { timeoutMs: 30_000, what: `the detector to handle all of ${name}` },
        );
      }
      // ... and every signal published so far was read.
      const ends = await fetchEndOffsets(kafka, run.name(topics.alertSignals));
      await waitFor(() => ends.every((e) => e.high === 0n || (read.get(e.partition) ?? 0n) >= e.high), {
        timeoutMs: 30_000,
        what: "the signal reader to catch up",
      });
      return signals;
    },
    async startDetector({ groupId, clock, updateIntervalMs }) {
      run.adoptGroups(groupId);
      const registry = createMetricsRegistry("anomaly-detector", { defaultMetrics: false });
      const settings = createSettingsSource({
        store: createPrismaSettingsStore(db.prisma),
        logger,
        pollMs: 100,
        registry,
      });
      await settings.start();
      const detectorProducer = createBatchingProducer({ kafka, logger, topicPrefix: prefix, registry });
      const service = createDetectorService({
        kafka,
        producer: detectorProducer,
        settings,
        logger,
        registry,
        groupId,
        topicPrefix: prefix,
        tickMs: 100,
        clock,
        updateIntervalMs,
        onProgress: (p) => {
          const id = `${p.topic}:${p.partition}`;
          const next = BigInt(p.nextOffset);
          if (next > (handled.get(id) ?? 0n)) handled.set(id, next);
        },
      });
      await service.start();
      await waitFor(() => service.isReady(), { timeoutMs: 30_000, what: "the detector to be ready" });
      const stop = async () => {
        stoppers.delete(stop);
        settings.stop();
        await service.stop();
        await detectorProducer.disconnect();
      };
      stoppers.add(stop);
      return { service, settings, registry, stop };
    },
    async close() {
      await Promise.all([...stoppers].map((stop) => stop()));
      await reader.stop();
      await producer.disconnect();
      await run.cleanup();
      await db.drop();
    },
  };
  await harness.saveThresholds(thresholds);
  return harness;
}

/** The signals matching `which`, as `state severity fingerprint` lines in arrival order. */
export function summary(signals: AlertSignal[], which: (s: AlertSignal) => boolean): string[] {
  return signals.filter(which).map((s) => `${s.state} ${s.severity} ${s.fingerprint}`);
}

/** Signals about one API key. */
export const ofKey = (apiKeyId: number) => (s: AlertSignal) => s.scope.apiKeyId === apiKeyId;
