import { makeUsageEvent, sendRaw, type TestTopics, uniqueName, waitFor } from "@apimon/testkit";
import { type ConsumerRunner, createConsumerRunner, type KafkaClient, subscription } from "../src";
import { logger, usage, usageTopicsForFile } from "./support";

const topicsOfFile = usageTopicsForFile("kafka-seek");
let run: TestTopics;
let kafka: KafkaClient;
let prefix: string;
let topic: string;
const runners: ConsumerRunner[] = [];

beforeAll(async () => {
  run = topicsOfFile();
  ({ kafka, prefix } = run);
  topic = run.name(usage);
  // Offsets 0..19.
  await send(20);
});

/** Appends `count` events to partition 0. */
function send(count: number): Promise<void> {
  return sendRaw(
    kafka,
    topic,
    Array.from({ length: count }, (_, i) => ({
      key: "k",
      partition: 0,
      value: JSON.stringify(makeUsageEvent({ endpoint: `/e/${i}` })),
    })),
  );
}

// Before the file's topics and groups go: a group with members cannot be deleted.
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

/** Runs a group over the topic, recording the offsets handed to the handler and the lookups. */
async function consume(groupId: string, initialOffset: (partition: number) => string | undefined) {
  const offsets: number[] = [];
  const lookups: number[] = [];
  const runner = createConsumerRunner({
    kafka,
    groupId,
    logger,
    topicPrefix: prefix,
    maxWaitTimeMs: 200,
    subscriptions: [
      subscription(usage, async (messages) => {
        offsets.push(...messages.map((m) => Number(m.offset)));
      }),
    ],
    initialOffset: async (t, partition) => {
      expect(t).toBe(topic);
      lookups.push(partition);
      return initialOffset(partition);
    },
  });
  runners.push(runner);
  run.adoptGroups(groupId);
  await runner.start();
  return { runner, offsets, lookups };
}

describe("consumer runner initial offsets", () => {
  it("starts a partition where initialOffset says, forwards past the group's position", async () => {
    const { runner, offsets, lookups } = await consume(uniqueName("g"), (p) => (p === 0 ? "12" : undefined));
    await waitFor(() => offsets.includes(19), { timeoutMs: 30_000, what: "offset 19" });
    await runner.stop();
    expect(offsets).toEqual([12, 13, 14, 15, 16, 17, 18, 19]);
    // Asked once, for the one partition that had something to read.
    expect(lookups).toEqual([0]);
  });

  it("seeks backwards past the group's committed offset, once per assignment", async () => {
    const groupId = uniqueName("g");
    const first = await consume(groupId, () => undefined);
    await waitFor(() => first.offsets.includes(19), { timeoutMs: 30_000, what: "offset 19" });
    await first.runner.stop();
    expect(first.offsets).toEqual(Array.from({ length: 20 }, (_, i) => i));

    // The group committed 20; the stored offset says 15 was the last one applied for good. The
    // runner asks when the partition has something to read, i.e. once offset 20 arrives.
    const second = await consume(groupId, (p) => (p === 0 ? "16" : undefined));
    await send(1);
    await waitFor(() => second.offsets.includes(20), { timeoutMs: 30_000, what: "offset 20" });
    await second.runner.stop();
    expect(second.offsets).toEqual([16, 17, 18, 19, 20]);
    expect(second.lookups).toEqual([0]);
  });
});
