import { type DlqRecord, dlqTopic, type TopicSpec, topics } from "@apimon/events";
import { makeUsageEvent, uniqueName, waitFor } from "@apimon/testkit";
import {
  createConsumerRunner,
  type KafkaClient,
  readDeadLetters,
  replayDeadLetters,
  subscription,
  summarizeDeadLetters,
  topicName,
} from "../src";
import { logger, usageTopicsForFile } from "./support";

const usage = topics.usageEvents as TopicSpec<unknown>;

const topicsOfFile = usageTopicsForFile("kdlq", { withDlq: true });
let kafka: KafkaClient;
let prefix: string;

beforeAll(() => {
  ({ kafka, prefix } = topicsOfFile());
});

interface Read {
  value: string | null;
  key: string | null;
  replayedFrom: string | undefined;
}

/**
 * Everything committed to partition 0 of the usage topic, as the services' consumers see it
 * (read_committed): a sentinel written last marks the end, since transaction markers and
 * aborted messages make the high watermark no count of what a consumer gets.
 */
async function readPartitionZero(): Promise<Read[]> {
  const name = topicName(usage, prefix);
  const sentinel = uniqueName("sentinel");
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: name, messages: [{ partition: 0, value: sentinel }] });
  await producer.disconnect();
  const seen: Read[] = [];
  let done = false;
  const consumer = kafka.consumer({ groupId: uniqueName("kdlq-reader"), maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic: name, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      if (partition !== 0 || done) return;
      const value = message.value?.toString("utf8") ?? null;
      if (value === sentinel) done = true;
      else if (!value?.startsWith("sentinel"))
        seen.push({
          value,
          key: message.key?.toString("utf8") ?? null,
          replayedFrom: message.headers?.["apimon-replayed-from"]?.toString(),
        });
    },
  });
  await waitFor(() => done, { timeoutMs: 30_000, what: "the sentinel" });
  await consumer.disconnect();
  return seen;
}

describe("dead-letter replay", () => {
  it("writes each dead letter back exactly once, across an aborted batch and a replay in parts", async () => {
    const name = topicName(usage, prefix);
    const dlqName = topicName(dlqTopic(usage), prefix);
    // The live path: a consumer dead-letters what it cannot decode and what its handler refuses.
    const poison = 13;
    const good = (i: number) => JSON.stringify(makeUsageEvent({ apiKeyId: i }));
    const originals = [good(1), "{not json", good(poison), good(2), '{"id":"wrong shape"}', good(poison)];
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: name,
      messages: originals.map((value, i) => ({ partition: 0, key: `k${i}`, value })),
    });
    const runner = createConsumerRunner({
      kafka,
      logger,
      groupId: uniqueName("kdlq-live"),
      topicPrefix: prefix,
      maxWaitTimeMs: 200,
      subscriptions: [
        subscription(topics.usageEvents, async (messages) => {
          if (messages.some((m) => m.value.apiKeyId === poison)) throw new Error("cannot handle key 13");
        }),
      ],
    });
    await runner.start();
    await waitFor(async () => (await summarizeDeadLetters(kafka, [usage], prefix))[0]?.pending === 4n, {
      timeoutMs: 60_000,
      what: "four dead letters",
    });
    await runner.stop();
    // A record cut short when it was dead-lettered cannot be written back whole.
    const cut: DlqRecord = {
      sourceTopic: name,
      partition: 0,
      offset: "99",
      consumerGroup: "g",
      key: "big",
      value: '{"id":',
      valueEncoding: "utf8",
      headers: {},
      error: "too large",
      failedAt: new Date().toISOString(),
      truncated: true,
      valueBytes: 2_000_000,
    };
    await producer.send({ topic: dlqName, messages: [{ key: "big", value: JSON.stringify(cut) }] });
    await producer.disconnect();

    expect(await summarizeDeadLetters(kafka, [usage], prefix)).toEqual([
      { topic: name, deadLetterTopic: dlqName, written: 5n, pending: 5n },
    ]);
    // Undecodable messages are dead-lettered before the handler runs, so they come first.
    const letters = await readDeadLetters({ kafka, logger, source: usage, prefix });
    expect(
      letters.map((l) => [l.offset, l.record.key, l.record.value, l.record.error.split(":")[0]]),
    ).toEqual([
      ["0", "k1", "{not json", "invalid JSON"],
      ["1", "k4", '{"id":"wrong shape"}', "schema usage.events.v1"],
      ["2", "k2", originals[2], "handler error"],
      ["3", "k5", originals[5], "handler error"],
      ["4", "big", '{"id":', "too large"],
    ]);

    // A replay that fails before its transaction commits writes nothing and moves nothing.
    await expect(
      replayDeadLetters({
        kafka,
        logger,
        source: usage,
        prefix,
        beforeCommit: () => {
          throw new Error("crash before commit");
        },
      }),
    ).rejects.toThrow("crash before commit");
    expect((await summarizeDeadLetters(kafka, [usage], prefix))[0]?.pending).toBe(5n);

    expect(await replayDeadLetters({ kafka, logger, source: usage, prefix, limit: 2 })).toEqual({
      replayed: 2,
      skipped: [],
    });
    expect((await summarizeDeadLetters(kafka, [usage], prefix))[0]?.pending).toBe(3n);
    const rest = await replayDeadLetters({ kafka, logger, source: usage, prefix });
    expect(rest.replayed).toBe(2);
    expect(rest.skipped.map((l) => l.offset)).toEqual(["4"]);
    expect(await replayDeadLetters({ kafka, logger, source: usage, prefix })).toEqual({
      replayed: 0,
      skipped: [],
    });
    expect(await readDeadLetters({ kafka, logger, source: usage, prefix })).toEqual([]);

    const read = await readPartitionZero();
    expect(read.filter((r) => r.replayedFrom === undefined).map((r) => r.value)).toEqual(originals);
    expect(read.filter((r) => r.replayedFrom !== undefined)).toEqual([
      { value: "{not json", key: "k1", replayedFrom: `${dlqName}/0/0` },
      { value: '{"id":"wrong shape"}', key: "k4", replayedFrom: `${dlqName}/0/1` },
      { value: originals[2], key: "k2", replayedFrom: `${dlqName}/0/2` },
      { value: originals[5], key: "k5", replayedFrom: `${dlqName}/0/3` },
    ]);
  });
  it("fences a replay that stalled mid-transaction: the next one aborts it and writes each letter once", async () => {
    const name = topicName(usage, prefix);
    const dlqName = topicName(dlqTopic(usage), prefix);
    const letter = (n: number): DlqRecord => ({
      sourceTopic: name,
      partition: 0,
      offset: String(1000 + n),
      consumerGroup: "g",
      key: `stalled-${n}`,
      value: `{"stalled":${n}}`,
      valueEncoding: "utf8",
      headers: { "x-origin": "test" },
      error: "handler error: test",
      failedAt: new Date().toISOString(),
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: dlqName,
      messages: [1, 2, 3].map((n) => ({ key: `stalled-${n}`, value: JSON.stringify(letter(n)) })),
    });
    await producer.disconnect();

    // The first replay stops inside its transaction, as a process that hangs or dies there would.
    let stalled: () => void = () => {};
    let release: () => void = () => {};
    const inside = new Promise<void>((resolve) => {
      stalled = resolve;
    });
    const first = replayDeadLetters({
      kafka,
      logger,
      source: usage,
      prefix,
      beforeCommit: () => {
        stalled();
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    });
    await inside;
    const second = await replayDeadLetters({ kafka, logger, source: usage, prefix });
    expect(second).toEqual({ replayed: 3, skipped: [] });
    release();
    await expect(first).rejects.toThrow();

    const replayed = (await readPartitionZero()).filter((r) => r.key?.startsWith("stalled-"));
    expect(replayed.map((r) => [r.key, r.value])).toEqual([
      ["stalled-1", '{"stalled":1}'],
      ["stalled-2", '{"stalled":2}'],
      ["stalled-3", '{"stalled":3}'],
    ]);
    expect((await summarizeDeadLetters(kafka, [usage], prefix))[0]?.pending).toBe(0n);
  });
});
