import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { topics, type UsageEvent } from "@apimon/events";
import { type BatchingProducer, createBatchingProducer, type KafkaClient, topicName } from "@apimon/kafka";
import { createMetricsRegistry } from "@apimon/observability";
import {
  type ControlledBroker,
  createTestTopics,
  limitRecordSize,
  makeUsageEvent,
  metricValue,
  privateBroker,
  readToEnd,
  testLogger,
  waitFor,
} from "@apimon/testkit";
import { openUsageSpool } from "../src/usage/spool";
import { createUsagePublisher, type UsagePublisher } from "../src/usage/usage-publisher";

const logger = testLogger("usage-publisher-int");
const KEYS = 12;

let broker: ControlledBroker | undefined;
let kafka: KafkaClient;
let spoolDir: string;
const producers: BatchingProducer[] = [];

beforeAll(async () => {
  // A private broker (own runtime dir, free ports, small heap), so stopping it harms no one.
  broker = await privateBroker("usage-kafka");
  broker.control("start");
  kafka = broker.impatientClient("usage-outage", logger);
}, 180_000);

beforeEach(() => {
  spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), "apimon-usage-spool-"));
});

afterEach(async () => {
  await Promise.all(producers.splice(0).map((p) => p.disconnect().catch(() => {})));
  fs.rmSync(spoolDir, { recursive: true, force: true });
});

afterAll(() => broker?.dispose(), 60_000);

function publisherFor(prefix: string) {
  const registry = createMetricsRegistry("edge", { defaultMetrics: false });
  // A producer of its own, with chunkSize ≤ maxBatchMessages: one sendBatch per chunk.
  const producer = createBatchingProducer({
    kafka,
    logger,
    topicPrefix: prefix,
    maxBatchMessages: 500,
    registry,
  });
  producers.push(producer);
  const spool = openUsageSpool({ dir: spoolDir, logger, registry, maxSegmentBytes: 256 * 1024 });
  const publisher = createUsagePublisher({ producer, spool, logger, registry, retryMs: 200, chunkSize: 500 });
  return { publisher, spool, registry };
}

/** Records `count` events over keys 1..KEYS, a few per tick, never awaiting the publisher. */
async function recordSteadily(
  publisher: UsagePublisher,
  count: number,
  recorded: UsageEvent[],
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const event = makeUsageEvent({ apiKeyId: (i % KEYS) + 1 });
    recorded.push(event);
    const started = performance.now();
    publisher.record(event);
    // record() must not block on Kafka (a generous bound, not a latency assertion).
    expect(performance.now() - started).toBeLessThan(250);
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
  }
}

/** Every usage event on the topic (as of now), in offset order per partition. */
async function readTopic(prefix: string): Promise<UsageEvent[]> {
  return (await readToEnd(kafka, prefix, topics.usageEvents, { logger })).map((m) => m.value);
}

/** No loss (by event id) and per-key order by first occurrence; returns how many duplicates Kafka holds. */
function reconcile(consumed: UsageEvent[], recorded: UsageEvent[]): number {
  const firstSeen = new Map<string, UsageEvent>();
  for (const e of consumed) if (!firstSeen.has(e.id)) firstSeen.set(e.id, e);
  expect([...firstSeen.keys()].sort()).toEqual(recorded.map((e) => e.id).sort());
  const perKey = (list: Iterable<UsageEvent>) => {
    const map = new Map<number, string[]>();
    for (const e of list) map.set(e.apiKeyId, [...(map.get(e.apiKeyId) ?? []), e.id]);
    return map;
  };
  // A key lives in one partition, so its first occurrences come in offset order.
  const got = perKey(firstSeen.values());
  for (const [key, ids] of perKey(recorded)) expect({ key, ids: got.get(key) }).toEqual({ key, ids });
  return consumed.length - firstSeen.size;
}

describe("usage publisher against a topic's size limit", () => {
  it("sends what the topic refuses as too large in smaller pieces and drops only an event too large alone", async () => {
    const { prefix } = await createTestTopics("usage-size", [topics.usageEvents], { kafka, logger });
    const topic = topicName(topics.usageEvents, prefix);
    const eventBytes = JSON.stringify(makeUsageEvent()).length;
    const { publisher, spool, registry } = publisherFor(prefix);

    // About 30 events to a record batch: a chunk of hundreds is refused whole.
    await limitRecordSize(kafka, topic, 30 * eventBytes);
    const recorded: UsageEvent[] = [];
    for (let i = 0; i < 400; i++) {
      const event = makeUsageEvent({ apiKeyId: (i % KEYS) + 1 });
      recorded.push(event);
      publisher.record(event);
    }
    await waitFor(() => publisher.depth() === 0, { timeoutMs: 60_000, what: "the 400 events sent" });
    // Every event, in order per key. A refused request may have been written for some of its
    // partitions; those events come again with their half (consumers are idempotent on the id).
    reconcile(await readTopic(prefix), recorded);
    expect(spool.depth()).toBe(0);
    expect(publisher.isHealthy()).toBe(true);
    expect(await metricValue(registry, "edge_usage_events_total", { result: "dropped" })).toBe(0);

    // One event alone is more than the topic takes now; the events around it still are not.
    await limitRecordSize(kafka, topic, eventBytes + 200);
    const huge = makeUsageEvent({ apiKeyId: 1, endpoint: `/${"x".repeat(511)}` });
    const after = [makeUsageEvent({ apiKeyId: 1 }), makeUsageEvent({ apiKeyId: 2 })];
    publisher.record(after[0] as UsageEvent);
    publisher.record(huge);
    publisher.record(after[1] as UsageEvent);
    await waitFor(() => publisher.depth() === 0, { timeoutMs: 60_000, what: "the last three handled" });
    reconcile(await readTopic(prefix), [...recorded, ...after]);
    expect(await metricValue(registry, "edge_usage_events_total", { result: "dropped" })).toBe(1);
    expect(spool.depth()).toBe(0);
    expect(publisher.isHealthy()).toBe(true);
    await publisher.close();
  }, 120_000);
});

describe("usage publisher against a Kafka outage", () => {
  it("keeps recording while Kafka is down and delivers every event, in order per key", async () => {
    // No cleanup: the private broker is removed with its topics.
    const { prefix } = await createTestTopics("usage", [topics.usageEvents], { kafka, logger });
    const { publisher, spool } = publisherFor(prefix);
    const recorded: UsageEvent[] = [];

    await recordSteadily(publisher, 800, recorded);
    await waitFor(() => publisher.depth() === 0, { timeoutMs: 60_000, what: "events before the outage" });
    expect(publisher.isHealthy()).toBe(true);

    broker?.control("stop");
    await recordSteadily(publisher, 1500, recorded);
    await waitFor(() => !publisher.isHealthy() && spool.depth() > 0, {
      timeoutMs: 60_000,
      what: "the publisher to spool",
    });
    await recordSteadily(publisher, 500, recorded);

    broker?.control("start");
    await recordSteadily(publisher, 700, recorded);
    await waitFor(() => publisher.depth() === 0 && spool.depth() === 0 && publisher.isHealthy(), {
      timeoutMs: 120_000,
      what: "the spool drained",
    });
    await publisher.close();

    const duplicates = reconcile(await readTopic(prefix), recorded);
    process.stdout.write(`usage outage: ${recorded.length} recorded, ${duplicates} duplicates in Kafka\n`);
  }, 400_000);

  it("leaves events in the spool when closed while Kafka is down; the next publisher replays them", async () => {
    const { prefix } = await createTestTopics("usage-restart", [topics.usageEvents], { kafka, logger });
    const recorded: UsageEvent[] = [];

    broker?.control("stop");
    const first = publisherFor(prefix);
    await recordSteadily(first.publisher, 600, recorded);
    await first.publisher.close();
    expect(first.spool.depth()).toBe(600);

    broker?.control("start");
    const second = publisherFor(prefix);
    expect(second.spool.depth()).toBe(600);
    await recordSteadily(second.publisher, 200, recorded);
    await waitFor(() => second.publisher.depth() === 0 && second.publisher.isHealthy(), {
      timeoutMs: 120_000,
      what: "the replay after a restart",
    });
    await second.publisher.close();

    const duplicates = reconcile(await readTopic(prefix), recorded);
    process.stdout.write(`usage restart: ${recorded.length} recorded, ${duplicates} duplicates in Kafka\n`);
  }, 400_000);
});
