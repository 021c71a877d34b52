import { makeUsageEvent, sendRaw, testInfra, uniqueName, waitFor } from "@apimon/testkit";
import {
  type ConsumerProgress,
  createConsumerRunner,
  createKafka,
  deleteConsumerGroups,
  fetchConsumerLag,
  fetchEndOffsets,
  subscription,
} from "../src";
import { logger, usage, usageTopicsForFile } from "./support";

const topicsOfFile = usageTopicsForFile("kadmin", { withDlq: true });

describe("kafka admin helpers and consumer progress", () => {
  it("reports each partition's start and end offsets, a runner's progress up to them (invalid messages included) and the group's lag", async () => {
    const run = topicsOfFile();
    const { kafka, prefix } = run;
    const name = run.name(usage);
    const empty = await fetchEndOffsets(kafka, name);
    expect(empty).toHaveLength(usage.partitions);
    expect(empty.map((p) => p.partition)).toEqual([...Array(usage.partitions).keys()]);
    expect(empty.every((p) => p.low === 0n && p.high === 0n)).toBe(true);

    // Partition 2 ends with a message that fails the schema: progress must still reach its end.
    await sendRaw(kafka, name, [
      { partition: 0, value: JSON.stringify(makeUsageEvent()) },
      { partition: 0, value: JSON.stringify(makeUsageEvent()) },
      { partition: 2, value: JSON.stringify(makeUsageEvent()) },
      { partition: 2, value: "{not json" },
    ]);
    const ends = await fetchEndOffsets(kafka, name);
    expect(ends.filter((p) => p.high > p.low).map((p) => [p.partition, p.high])).toEqual([
      [0, 2n],
      [2, 2n],
    ]);

    const progress: ConsumerProgress[] = [];
    const groupId = uniqueName("g");
    const runner = createConsumerRunner({
      kafka,
      groupId,
      logger,
      topicPrefix: prefix,
      subscriptions: [subscription(usage, async () => {})],
      onProgress: (p) => progress.push(p),
    });
    await runner.start();
    await waitFor(() => progress.filter((p) => p.partition === 2 && p.nextOffset === "2").length > 0, {
      timeoutMs: 30_000,
      what: "progress to the end of partition 2",
    });
    await waitFor(() => progress.some((p) => p.partition === 0 && p.nextOffset === "2"), {
      timeoutMs: 30_000,
      what: "progress to the end of partition 0",
    });
    expect(progress.every((p) => p.topic === name)).toBe(true);

    // The group committed to the end of both partitions; a group that never read lags by all.
    const lag = await fetchConsumerLag(kafka, groupId, name);
    expect(lag).toHaveLength(usage.partitions);
    expect(lag.filter((p) => p.committed !== null).map((p) => [p.partition, p.committed, p.lag])).toEqual([
      [0, 2n, 0n],
      [2, 2n, 0n],
    ]);
    expect(lag.every((p) => p.lag === 0n)).toBe(true);
    const idle = await fetchConsumerLag(kafka, uniqueName("never-read"), name);
    expect(idle.filter((p) => p.lag > 0n).map((p) => [p.partition, p.committed, p.lag])).toEqual([
      [0, null, 2n],
      [2, null, 2n],
    ]);
    await runner.stop();

    // The group has no members left, so it can go; an unknown group is reported, not thrown.
    expect(await deleteConsumerGroups(kafka, [groupId])).toEqual([]);
    expect(await deleteConsumerGroups(kafka, [uniqueName("never-existed")])).toHaveLength(1);
  });

  it("fails for a topic that does not exist", async () => {
    // Few retries: kafkajs retries an unknown topic, in case its metadata is only late.
    const impatient = createKafka({
      brokers: testInfra.kafkaBrokers,
      clientId: "kafka-admin-int",
      logger,
      retry: { retries: 1, initialRetryTimeMs: 50 },
    });
    await expect(fetchEndOffsets(impatient, `${topicsOfFile().prefix}no.such.topic`)).rejects.toThrow(
      /does not host this topic-partition/,
    );
  });
});
