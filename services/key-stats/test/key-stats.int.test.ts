import { createPrismaClient, type PrismaClient, shouldRetryDbError } from "@apimon/db";
import { dlqTopic, type UsageEvent } from "@apimon/events";
import {
  type BatchingProducer,
  type ConsumerRunner,
  createBatchingProducer,
  createConsumerRunner,
  createKafka,
  fetchEndOffsets,
  type KafkaClient,
  subscription,
  topicName,
} from "@apimon/kafka";
import { createMetricsRegistry, type Registry } from "@apimon/observability";
import {
  createTcpProxy,
  createTestDatabase,
  createTestTopics,
  makeUsageEvent,
  type TestDatabase,
  type TestTopics,
  testInfra,
  testLogger,
  uniqueName,
  waitFor,
} from "@apimon/testkit";
import { createUsageEventsHandler } from "../src/handlers/usage-events";
import { createKeyStatsMetrics } from "../src/metrics";
import { createKeyStatsStore } from "../src/stats-store";
import {
  expectedStats,
  keyStats,
  publishInChunks,
  seedKeys,
  storedAndEndOffsets,
  streamWithDuplicates,
  totalUsage,
  usage,
  waitForStoredOffsetsAtEnd,
  waitForTotalUsage,
} from "./support";

const logger = testLogger("key-stats-test");
let db: TestDatabase;
let kafka: KafkaClient;
const runs: TestTopics[] = [];
const runners: ConsumerRunner[] = [];
const clients: PrismaClient[] = [];
const producers: BatchingProducer[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  kafka = createKafka({ brokers: testInfra.kafkaBrokers, clientId: "key-stats-int", logger });
});

afterAll(async () => {
  await Promise.all(producers.map((p) => p.disconnect()));
  await Promise.all(runners.splice(0).map((r) => r.stop()));
  await Promise.all(clients.map((c) => c.$disconnect()));
  await Promise.all(runs.map((run) => run.cleanup()));
  await db?.drop();
});

/** The usage topic and its DLQ under a new prefix, so that one test's offsets are its own. */
async function freshTopics(label: string): Promise<TestTopics> {
  const run = await createTestTopics(label, [usage], { kafka, logger, withDlq: true });
  runs.push(run);
  return run;
}

/** key-stats as main.ts wires it, on the given database url. */
async function startKeyStats(run: TestTopics, databaseUrl: string, groupId = run.group("key-stats")) {
  const prisma = createPrismaClient({ connectionString: databaseUrl, connectionTimeoutMs: 2000 });
  clients.push(prisma);
  const registry = createMetricsRegistry("key-stats", { defaultMetrics: false });
  const handler = createUsageEventsHandler({
    store: createKeyStatsStore({ prisma }),
    groupId,
    metrics: createKeyStatsMetrics(registry),
    logger,
  });
  const runner = createConsumerRunner({
    kafka,
    groupId,
    logger,
    registry,
    topicPrefix: run.prefix,
    maxBatchSize: 200,
    maxWaitTimeMs: 200,
    subscriptions: [subscription(usage, handler.handle)],
    initialOffset: handler.initialOffset,
    isRetriable: shouldRetryDbError,
    retry: { initialMs: 50, maxMs: 500 },
  });
  runners.push(runner);
  await runner.start();
  return { runner, registry, groupId };
}

function newProducer(prefix: string): BatchingProducer {
  const producer = createBatchingProducer({ kafka, logger, topicPrefix: prefix });
  producers.push(producer);
  return producer;
}

async function metricValues(registry: Registry, name: string) {
  const metric = registry.getSingleMetric(name);
  return metric ? (await metric.get()).values : [];
}

async function outcomes(registry: Registry): Promise<Record<string, number>> {
  const values = await metricValues(registry, "key_stats_events_total");
  return Object.fromEntries(values.map((v) => [String(v.labels.outcome), v.value]));
}

/** How many times the runner retried a batch so far. */
async function retries(registry: Registry): Promise<number> {
  return (await metricValues(registry, "kafka_consumer_retries_total")).reduce((sum, v) => sum + v.value, 0);
}

async function dlqDepth(prefix: string): Promise<number> {
  const offsets = await fetchEndOffsets(kafka, topicName(dlqTopic(usage), prefix));
  return offsets.reduce((sum, p) => sum + Number(p.high - p.low), 0);
}

/**
 * Publishes the rest of a stream, waits for the counts, and expects each key counted exactly and
 * nothing dead-lettered.
 */
async function publishRestAndExpectExactCounts(
  producer: BatchingProducer,
  rest: UsageEvent[],
  {
    chunk,
    events,
    keyIds,
    total,
    prefix,
  }: { chunk: number; events: UsageEvent[]; keyIds: number[]; total: number; prefix: string },
): Promise<void> {
  await publishInChunks(producer, rest, { chunk });
  await producer.disconnect();
  await waitForTotalUsage(db, keyIds, total);
  // Give a wrongly repeated batch the chance to show up before asserting the exact sum.
  await new Promise((r) => setTimeout(r, 500));
  expect(await keyStats(db, keyIds)).toEqual(expectedStats(events, keyIds));
  expect(await totalUsage(db, keyIds)).toBe(total);
  expect(await dlqDepth(prefix)).toBe(0);
}

// Generous: the outcome is asserted, never the speed, and the test machine is shared.
jest.setTimeout(300_000);

describe("key-stats counting usage events into api_keys", () => {
  it("counts 10,000 events of which 5 % were published twice as exactly 10,000, with each key's latest use", async () => {
    const run = await freshTopics("ks-dups");
    const { prefix } = run;
    const keyIds = await seedKeys(db, uniqueName("dups"), 40);
    const { events, publishOrder } = streamWithDuplicates(keyIds, { total: 10_000, duplicateShare: 0.05 });
    expect(publishOrder).toHaveLength(10_500);
    // Events of a key that was deleted meanwhile: skipped, but they still move the offset on.
    const orphans = Array.from({ length: 30 }, () => makeUsageEvent({ apiKeyId: 999_999 }));

    const { registry, groupId } = await startKeyStats(run, db.url);
    const producer = newProducer(prefix);
    await publishInChunks(producer, [...publishOrder, ...orphans], { chunk: 1000 });
    await producer.disconnect();

    await waitForTotalUsage(db, keyIds, 10_000);
    await waitForStoredOffsetsAtEnd(db, kafka, prefix, groupId);

    expect(await keyStats(db, keyIds)).toEqual(expectedStats(events, keyIds));
    expect(await totalUsage(db, keyIds)).toBe(10_000);
    expect(await outcomes(registry)).toEqual({ counted: 10_000, duplicate: 500, unknown_key: 30 });
    expect(await dlqDepth(prefix)).toBe(0);
    const writes = (await metricValues(registry, "key_stats_write_duration_seconds")) as {
      metricName?: string;
      value: number;
    }[];
    const committed = writes.find((v) => v.metricName === "key_stats_write_duration_seconds_count");
    expect(committed?.value).toBeGreaterThan(0);
    const lag = await metricValues(registry, "kafka_consumer_lag");
    expect(lag.length).toBeGreaterThan(0);
  });

  it("counts a copy of an event once although 25,000 events of its partition and a restart came between", async () => {
    const run = await freshTopics("ks-late-copy");
    const { prefix } = run;
    // One key, so every event lands in the same partition, in publish order.
    const [keyId] = await seedKeys(db, uniqueName("late"), 1);
    const original = makeUsageEvent({ apiKeyId: keyId });
    const between = Array.from({ length: 25_000 }, () => makeUsageEvent({ apiKeyId: keyId }));
    const after = Array.from({ length: 10 }, () => makeUsageEvent({ apiKeyId: keyId }));
    const ids = [keyId as number];

    const first = await startKeyStats(run, db.url);
    const producer = newProducer(prefix);
    await publishInChunks(producer, [original, ...between], { chunk: 1000 });
    await waitForTotalUsage(db, ids, 25_001, 200_000);
    await first.runner.stop();

    // A new process of the same group: nothing of the first one's memory survives.
    const second = await startKeyStats(run, db.url, first.groupId);
    await publishInChunks(producer, [original, ...after], { chunk: 100 });
    await producer.disconnect();
    await waitForStoredOffsetsAtEnd(
      db,
      kafka,
      prefix,
      first.groupId,
      "the stored offsets to reach the end of the partition",
    );

    // The copy sits 25,001 offsets behind its original, in the same partition: a window of the
    // last 20,000 messages would have forgotten the original and counted it twice.
    const { end } = await storedAndEndOffsets(db, kafka, prefix, first.groupId);
    expect(Object.values(end)).toEqual([25_012]);
    expect(await totalUsage(db, ids)).toBe(25_011);
    expect(await outcomes(second.registry)).toEqual({ counted: 10, duplicate: 1 });
    expect(await dlqDepth(prefix)).toBe(0);
  });

  it("loses and repeats nothing when Postgres goes away mid-stream and comes back", async () => {
    const run = await freshTopics("ks-pg");
    const { prefix } = run;
    const keyIds = await seedKeys(db, uniqueName("pg"), 25);
    const { events, publishOrder } = streamWithDuplicates(keyIds, { total: 10_000, duplicateShare: 0.05 });
    const target = new URL(db.url);
    const proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    try {
      const { registry } = await startKeyStats(run, viaProxy.toString());
      const producer = newProducer(prefix);
      const firstPart = publishOrder.slice(0, 4000);
      await publishInChunks(producer, firstPart, { chunk: 500 });
      await waitFor(async () => (await totalUsage(db, keyIds)) > 0, {
        timeoutMs: 120_000,
        what: "first counts",
      });

      // Postgres "restarts": every connection is cut and new ones are refused for a while,
      // while events keep coming. A COMMIT already on the wire may still land (the client then
      // sees an error and retries a batch that did commit: the stored offset makes it a no-op).
      await proxy.interrupt();
      await publishInChunks(producer, publishOrder.slice(4000, 8000), { chunk: 500 });
      await waitFor(async () => (await retries(registry)) >= 2, { timeoutMs: 120_000, what: "retries" });
      const countedDuringOutage = await totalUsage(db, keyIds);
      const retriesSoFar = await retries(registry);
      await waitFor(async () => (await retries(registry)) >= retriesSoFar + 2, {
        timeoutMs: 120_000,
        what: "more retries",
      });
      expect(await totalUsage(db, keyIds)).toBe(countedDuringOutage);
      expect(countedDuringOutage).toBeLessThan(10_000);

      await proxy.resume();
      await publishRestAndExpectExactCounts(producer, publishOrder.slice(8000), {
        chunk: 500,
        events,
        keyIds,
        total: 10_000,
        prefix,
      });
    } finally {
      await proxy.close();
    }
  });

  it("counts exactly when its privileges on api_keys are revoked for 10 s and then restored", async () => {
    const run = await freshTopics("ks-grant");
    const { prefix } = run;
    const keyIds = await seedKeys(db, uniqueName("grant"), 10);
    const { events, publishOrder } = streamWithDuplicates(keyIds, { total: 3000, duplicateShare: 0.05 });
    // The test database belongs to a superuser, whom no REVOKE stops: key-stats runs as its own role.
    const role = uniqueName("key_stats").replaceAll("-", "_");
    const admin = db.prisma;
    await admin.$executeRawUnsafe(`create role "${role}" login`);
    try {
      await admin.$executeRawUnsafe(`grant usage on schema public to "${role}"`);
      await admin.$executeRawUnsafe(
        `grant select, insert, update on all tables in schema public to "${role}"`,
      );
      const asRole = new URL(db.url);
      asRole.username = role;
      asRole.password = "";
      const { registry } = await startKeyStats(run, asRole.toString());
      const producer = newProducer(prefix);
      await publishInChunks(producer, publishOrder.slice(0, 1000), { chunk: 250 });
      await waitFor(async () => (await totalUsage(db, keyIds)) > 0, {
        timeoutMs: 120_000,
        what: "first counts",
      });

      await admin.$executeRawUnsafe(`revoke update on api_keys from "${role}"`);
      const revokedAt = Date.now();
      await publishInChunks(producer, publishOrder.slice(1000, 2000), { chunk: 250 });
      await waitFor(async () => (await retries(registry)) >= 2, { timeoutMs: 120_000, what: "retries" });
      const countedWhileRevoked = await totalUsage(db, keyIds);
      await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - revokedAt))));
      expect(await totalUsage(db, keyIds)).toBe(countedWhileRevoked);
      expect(countedWhileRevoked).toBeLessThan(3000);
      expect(await dlqDepth(prefix)).toBe(0);

      await admin.$executeRawUnsafe(`grant update on api_keys to "${role}"`);
      await publishRestAndExpectExactCounts(producer, publishOrder.slice(2000), {
        chunk: 250,
        events,
        keyIds,
        total: 3000,
        prefix,
      });
    } finally {
      await Promise.all(runners.splice(0).map((r) => r.stop()));
      await admin.$executeRawUnsafe(`drop owned by "${role}"`);
      await admin.$executeRawUnsafe(`drop role "${role}"`);
    }
  });
});
