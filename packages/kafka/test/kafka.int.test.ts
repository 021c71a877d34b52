import { dlqRecordSchema, dlqTopic, type UsageEvent } from "@apimon/events";
import { createMetricsRegistry } from "@apimon/observability";
import {
  createTestTopics,
  deleteTopics,
  limitRecordSize,
  makeUsageEvent,
  sendRaw,
  type TestTopics,
  testInfra,
  uniqueName,
  uniqueTopicPrefix,
  waitFor,
} from "@apimon/testkit";
import type { Kafka } from "kafkajs";
import {
  type ConsumedMessage,
  type ConsumerRunner,
  createBatchingProducer,
  createConsumerRunner,
  createKafka,
  ensureTopics,
  fetchEndOffsets,
  RetriableError,
  subscription,
  topicName,
} from "../src";
import { logger, usage } from "./support";

const usageDlq = dlqTopic(usage);
let kafka: Kafka;
let prefix: string;
const runs: TestTopics[] = [];
/** Topics a test creates itself, outside its run's. */
const created: string[] = [];
const runners: ConsumerRunner[] = [];

beforeAll(() => {
  kafka = createKafka({ brokers: testInfra.kafkaBrokers, clientId: "kafka-int", logger });
});

// Every test gets its own topics, so offsets and DLQ contents are its alone.
beforeEach(async () => {
  const run = await createTestTopics("kafka", [usage], { kafka, logger, withDlq: true });
  runs.push(run);
  prefix = run.prefix;
});

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

afterAll(async () => {
  await Promise.all(runs.map((run) => run.cleanup()));
  await deleteTopics(kafka, created);
});

/** Each test reads only its own events, picked out by a per-test edge instance name. */
function consumeInto(
  groupId: string,
  instance: string,
  handler: (messages: ConsumedMessage<UsageEvent>[]) => Promise<void> | void,
  options: {
    maxBatchSize?: number;
    registry?: ReturnType<typeof createMetricsRegistry>;
    isRetriable?: (error: unknown) => boolean;
  } = {},
): ConsumerRunner {
  const runner = createConsumerRunner({
    kafka,
    groupId,
    logger,
    topicPrefix: prefix,
    retry: { initialMs: 20, maxMs: 200 },
    maxBatchSize: options.maxBatchSize ?? 500,
    registry: options.registry,
    isRetriable: options.isRetriable,
    subscriptions: [
      subscription(usage, async (messages) => {
        const mine = messages.filter((m) => m.value.edgeInstance === instance);
        if (mine.length > 0) await handler(mine);
      }),
    ],
  });
  runners.push(runner);
  return runner;
}

/** Starts a consumer of `instance`'s events in a group of its own; answers what it has received so far. */
async function receiveAll(instance: string): Promise<ConsumedMessage<UsageEvent>[]> {
  const received: ConsumedMessage<UsageEvent>[] = [];
  await consumeInto(uniqueName("g"), instance, (m) => void received.push(...m)).start();
  return received;
}

async function readDlq(groupId: string, expected: number, instance: string) {
  const records: ReturnType<typeof dlqRecordSchema.parse>[] = [];
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic: topicName(usageDlq, prefix), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const record = dlqRecordSchema.parse(JSON.parse(String(message.value)));
      if (record.key?.startsWith(instance)) records.push(record);
    },
  });
  await waitFor(() => records.length >= expected, { timeoutMs: 20_000, what: "DLQ records" });
  await consumer.disconnect();
  return records;
}

/** Lowers the DLQ topic's max.message.bytes and waits until the broker applies it. */
const limitDlqRecordSize = (bytes: number) => limitRecordSize(kafka, topicName(usageDlq, prefix), bytes);

describe("kafka package on a real broker", () => {
  it("produces in batches and consumes with a consumer group, in order per key", async () => {
    const instance = uniqueName("order");
    const producer = createBatchingProducer({ kafka, logger, topicPrefix: prefix, lingerMs: 5 });
    const received = await receiveAll(instance);

    const sent = Array.from({ length: 300 }, (_, i) =>
      makeUsageEvent({ apiKeyId: (i % 5) + 1, edgeInstance: instance, statusCode: 200 + (i % 3) }),
    );
    await Promise.all(sent.map((e) => producer.publish(usage, e)));
    await producer.disconnect();

    await waitFor(() => received.length >= 300, { timeoutMs: 30_000, what: "300 events" });
    expect(received.map((m) => m.value.id).sort()).toEqual(sent.map((e) => e.id).sort());
    for (let key = 1; key <= 5; key++) {
      const order = received.filter((m) => m.value.apiKeyId === key).map((m) => m.value.id);
      expect(order).toEqual(sent.filter((e) => e.apiKeyId === key).map((e) => e.id));
      expect(new Set(received.filter((m) => m.value.apiKeyId === key).map((m) => m.partition)).size).toBe(1);
    }
    expect(received[0]?.key).toBe(String(received[0]?.value.apiKeyId));
  });

  it("creates topics idempotently, even when two processes race to create the same ones", async () => {
    const racePrefix = uniqueTopicPrefix("race");
    const specs = [usage, usageDlq];
    const [a, b] = await Promise.all([
      ensureTopics(kafka, { prefix: racePrefix, specs }),
      ensureTopics(kafka, { prefix: racePrefix, specs }),
    ]);
    created.push(...(a?.created ?? []), ...(b?.created ?? []));
    const again = await ensureTopics(kafka, { prefix: racePrefix, specs });
    expect(again).toEqual({
      created: [],
      existing: [topicName(usage, racePrefix), topicName(usageDlq, racePrefix)],
    });
    const admin = kafka.admin();
    await admin.connect();
    const { topics: meta } = await admin.fetchTopicMetadata({ topics: [topicName(usage, racePrefix)] });
    await admin.disconnect();
    expect(meta[0]?.partitions).toHaveLength(usage.partitions);
  });

  it("refuses to publish an event that breaks its contract", async () => {
    const producer = createBatchingProducer({ kafka, logger, topicPrefix: prefix });
    await expect(producer.publish(usage, { ...makeUsageEvent(), statusCode: 42 })).rejects.toThrow(
      /statusCode/,
    );
    await producer.disconnect();
    await expect(producer.publish(usage, makeUsageEvent())).rejects.toThrow("producer is closed");
  });

  it("publishes a chunk with one promise, in order per key, or nothing when one event breaks the contract", async () => {
    const instance = uniqueName("all");
    const producer = createBatchingProducer({ kafka, logger, topicPrefix: prefix, maxQueuedMessages: 250 });
    const received = await receiveAll(instance);

    const chunk = Array.from({ length: 200 }, (_, i) =>
      makeUsageEvent({ apiKeyId: (i % 3) + 1, edgeInstance: instance }),
    );
    const broken = [
      makeUsageEvent({ edgeInstance: instance }),
      { ...makeUsageEvent({ edgeInstance: instance }), statusCode: 42 },
    ];
    await expect(producer.publishAll(usage, broken)).rejects.toThrow(/statusCode/);
    // Over maxQueuedMessages: refused whole, nothing queued.
    await expect(
      producer.publishAll(
        usage,
        Array.from({ length: 251 }, () => makeUsageEvent({ edgeInstance: instance })),
      ),
    ).rejects.toThrow(/queue/i);
    expect(producer.depth()).toBe(0); // the refused chunks queued nothing
    // A chunk its caller already validated goes out unchecked, exactly as given.
    await producer.publishAll(usage, chunk.slice(0, 100), { validated: true });
    await producer.publishAll(usage, chunk.slice(100));
    await producer.disconnect();
    await expect(producer.publishAll(usage, chunk)).rejects.toThrow("producer is closed");

    await waitFor(() => received.length >= 200, { timeoutMs: 30_000, what: "200 events" });
    expect(received.map((m) => m.value.id).sort()).toEqual(chunk.map((e) => e.id).sort());
    expect(received.find((m) => m.value.id === chunk[0]?.id)?.value).toEqual(chunk[0]);
    for (let key = 1; key <= 3; key++) {
      expect(received.filter((m) => m.value.apiKeyId === key).map((m) => m.value.id)).toEqual(
        chunk.filter((e) => e.apiKeyId === key).map((e) => e.id),
      );
    }
  });

  it("sends malformed messages to the DLQ with the reason and source offset, and goes on", async () => {
    const instance = uniqueName("dlq");
    const received: string[] = [];
    const groupId = uniqueName("g");
    await consumeInto(groupId, instance, (m) => void received.push(...m.map((x) => x.value.id))).start();

    const good1 = makeUsageEvent({ apiKeyId: 9, edgeInstance: instance });
    const good2 = makeUsageEvent({ apiKeyId: 9, edgeInstance: instance });
    const key = `${instance}-k`;
    // One partition for all four, so the bad ones sit between the good ones.
    await sendRaw(kafka, topicName(usage, prefix), [
      { key, partition: 0, value: JSON.stringify(good1) },
      { key, partition: 0, value: "{not json" },
      { key, partition: 0, value: JSON.stringify({ ...good2, statusCode: "two hundred" }) },
      { key, partition: 0, value: Buffer.from([0xff, 0xfe, 0x00]) },
      { key, partition: 0, value: JSON.stringify(good2) },
    ]);

    await waitFor(() => received.length >= 2, { timeoutMs: 30_000, what: "the valid events" });
    expect(received).toEqual([good1.id, good2.id]);

    const records = await readDlq(uniqueName("dlq-reader"), 3, instance);
    expect(records).toHaveLength(3);
    const [badJson, badSchema, badBytes] = records;
    expect(badJson).toMatchObject({
      sourceTopic: topicName(usage, prefix),
      partition: 0,
      consumerGroup: groupId,
      key,
      value: "{not json",
      valueEncoding: "utf8",
    });
    expect(badJson?.error).toMatch(/^invalid JSON/);
    expect(badSchema?.error).toMatch(/^schema usage.events.v1: statusCode: /);
    expect(badBytes).toMatchObject({
      valueEncoding: "base64",
      value: Buffer.from([0xff, 0xfe, 0x00]).toString("base64"),
    });
    expect(BigInt(badSchema?.offset ?? 0)).toBe(BigInt(badJson?.offset ?? 0) + 1n);

    // The group's committed offset is past all five messages.
    const admin = kafka.admin();
    await admin.connect();
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topicName(usage, prefix)] });
    await admin.disconnect();
    const p0 = offsets?.partitions.find((p) => p.partition === 0);
    expect(BigInt(p0?.offset ?? -1)).toBe(BigInt(badJson?.offset ?? 0) + 4n);
  });

  it("dead-letters a message the DLQ topic refuses as too large as a summary, and goes on", async () => {
    const instance = uniqueName("toolarge");
    await limitDlqRecordSize(20_000);

    const received: string[] = [];
    await consumeInto(
      uniqueName("g"),
      instance,
      (m) => void received.push(...m.map((x) => x.value.id)),
    ).start();
    const good = makeUsageEvent({ apiKeyId: 9, edgeInstance: instance });
    const key = `${instance}-k`;
    const huge = `{not json ${"x".repeat(50_000)}`;
    await sendRaw(kafka, topicName(usage, prefix), [
      { key, partition: 0, value: huge, headers: { trace: "t-1" } },
      { key, partition: 0, value: "{small" },
      { key, partition: 0, value: JSON.stringify(good) },
    ]);

    await waitFor(() => received.length >= 1, { timeoutMs: 30_000, what: "the valid event" });
    expect(received).toEqual([good.id]);
    const records = await readDlq(uniqueName("dlq-reader"), 2, instance);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      key,
      value: null,
      headers: {},
      truncated: true,
      valueBytes: Buffer.byteLength(huge),
    });
    expect(records[0]?.error).toMatch(/^invalid JSON/);
    expect(records[1]).toMatchObject({ key, value: "{small" });
    expect(records[1]?.truncated).toBeUndefined();
  });

  it("skips, logs and counts a failed message the DLQ refuses even as a summary, and goes on", async () => {
    const instance = uniqueName("refused");
    await limitDlqRecordSize(100);
    const registry = createMetricsRegistry("t", { defaultMetrics: false });
    const received: string[] = [];
    await consumeInto(uniqueName("g"), instance, (m) => void received.push(...m.map((x) => x.value.id)), {
      registry,
    }).start();
    const good = makeUsageEvent({ apiKeyId: 9, edgeInstance: instance });
    await sendRaw(kafka, topicName(usage, prefix), [
      { key: `${instance}-k`, partition: 0, value: "{not json" },
      { key: `${instance}-k`, partition: 0, value: JSON.stringify(good) },
    ]);

    await waitFor(() => received.length >= 1, { timeoutMs: 30_000, what: "the valid event" });
    expect(received).toEqual([good.id]);
    const dropped = (await registry.getSingleMetric("kafka_consumer_dlq_dropped_total")?.get())?.values;
    expect(dropped?.map((v) => v.value)).toEqual([1]);
    const offsets = await fetchEndOffsets(kafka, topicName(usageDlq, prefix));
    expect(offsets.reduce((n, p) => n + Number(p.high - p.low), 0)).toBe(0);
  });

  it("retries a handler error marked retriable or accepted by isRetriable and loses nothing; dead-letters only the message that fails for good", async () => {
    const instance = uniqueName("retry");
    const registry = createMetricsRegistry("t", { defaultMetrics: false });
    const events = Array.from({ length: 20 }, (_, i) =>
      makeUsageEvent({ apiKeyId: 3, edgeInstance: instance, endpoint: `/e/${i}` }),
    );
    const poison = events[7]?.id;
    const flaky = events[12]?.id;
    const busy = events[15]?.id;
    let flakyFailures = 0;
    let busyFailures = 0;
    const isRetriable = (error: unknown) => (error as { code?: unknown }).code === "BUSY";
    const handled = new Set<string>();
    await consumeInto(
      uniqueName("g"),
      instance,
      (messages) => {
        if (messages.some((m) => m.value.id === flaky) && flakyFailures < 3) {
          flakyFailures++;
          throw new RetriableError("database restarting");
        }
        if (messages.some((m) => m.value.id === busy) && busyFailures < 2) {
          busyFailures++;
          throw Object.assign(new Error("busy"), { code: "BUSY" });
        }
        if (messages.some((m) => m.value.id === poison)) throw new Error("cannot handle this one");
        for (const m of messages) handled.add(m.value.id);
      },
      { registry, isRetriable },
    ).start();

    const producer = createBatchingProducer({ kafka, logger, topicPrefix: prefix, lingerMs: 50 });
    await Promise.all(events.map((e) => producer.publish(usage, e, { key: `${instance}-k` })));
    await producer.disconnect();

    await waitFor(() => handled.size >= 19, { timeoutMs: 30_000, what: "19 handled events" });
    expect(flakyFailures).toBe(3);
    expect(busyFailures).toBe(2);
    expect([...handled].sort()).toEqual(
      events
        .map((e) => e.id)
        .filter((id) => id !== poison)
        .sort(),
    );
    const [record] = await readDlq(uniqueName("dlq-reader"), 1, instance);
    expect(record?.error).toBe("handler error: cannot handle this one");
    expect(JSON.parse(record?.value ?? "{}").id).toBe(poison);
    const retried = (await registry.getSingleMetric("kafka_consumer_retries_total")?.get())?.values;
    expect(retried).toEqual([{ labels: { topic: topicName(usage, prefix) }, value: 5 }]);
  });

  it("resumes after a stop mid-batch without skipping a message", async () => {
    const instance = uniqueName("resume");
    const groupId = uniqueName("g");
    const events = Array.from({ length: 600 }, (_, i) =>
      makeUsageEvent({ apiKeyId: 4, edgeInstance: instance, endpoint: `/e/${i}` }),
    );
    const producer = createBatchingProducer({ kafka, logger, topicPrefix: prefix, lingerMs: 20 });
    await Promise.all(events.map((e) => producer.publish(usage, e, { key: `${instance}-k` })));
    await producer.disconnect();

    const firstRun: string[] = [];
    const first = consumeInto(
      groupId,
      instance,
      async (messages) => {
        await new Promise((r) => setTimeout(r, 40));
        firstRun.push(...messages.map((m) => m.value.id));
      },
      { maxBatchSize: 25 },
    );
    await first.start();
    await waitFor(() => firstRun.length >= 100, { timeoutMs: 30_000, what: "the first 100" });
    await first.stop();
    const seenBeforeStop = firstRun.length;
    expect(seenBeforeStop).toBeLessThan(600);

    // Nothing was committed beyond what the handler finished.
    const admin = kafka.admin();
    await admin.connect();
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topicName(usage, prefix)] });
    await admin.disconnect();
    const committed = offsets?.partitions.map((p) => Number(p.offset)).filter((o) => o >= 0) ?? [];
    expect(committed).toEqual([seenBeforeStop]);

    const secondRun: string[] = [];
    await consumeInto(groupId, instance, (m) => void secondRun.push(...m.map((x) => x.value.id)), {
      maxBatchSize: 25,
    }).start();
    await waitFor(() => new Set([...firstRun, ...secondRun]).size >= 600, {
      timeoutMs: 30_000,
      what: "all 600",
    });

    const all = [...firstRun, ...secondRun];
    expect(new Set(all).size).toBe(600);
    // The first run committed every slice it finished, so nothing it handled is handled again.
    expect(secondRun.filter((id) => firstRun.includes(id))).toEqual([]);
    expect(all).toEqual(events.map((e) => e.id));
  });
});
