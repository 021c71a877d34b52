import type { UsageEvent } from "@apimon/events";
import { makeUsageEvent, sendRaw, uniqueName } from "@apimon/testkit";
import { fetchCommittedOffsets, fetchOffsetsByTimestamp, replayPartitions } from "../src";
import { logger, usage, usageTopicsForFile } from "./support";

const topicsOfFile = usageTopicsForFile("kreplay");

describe("partition replay", () => {
  it("re-reads offset ranges by partition, skipping invalid messages, and finds offsets by timestamp", async () => {
    const run = topicsOfFile();
    const { kafka, prefix } = run;
    const name = run.name(usage);
    const before = Date.now();
    const event = (i: number) => JSON.stringify(makeUsageEvent({ apiKeyId: i + 1 }));
    await sendRaw(kafka, name, [
      ...Array.from({ length: 20 }, (_, i) => ({ partition: 0, value: event(i) })),
      ...Array.from({ length: 5 }, (_, i) => ({ partition: 3, value: i === 2 ? "{not json" : event(i) })),
    ]);

    const fromStart = await fetchOffsetsByTimestamp(kafka, name, before - 60_000);
    expect(fromStart.get(0)).toBe(0n);
    // No message that recent: the high watermark.
    const future = await fetchOffsetsByTimestamp(kafka, name, Date.now() + 60_000);
    expect([future.get(0), future.get(3), future.get(1)]).toEqual([20n, 5n, 0n]);
    const committed = await fetchCommittedOffsets(kafka, uniqueName("nobody"), name);
    expect(committed.get(0)).toBeNull();

    const seen: { partition: number; offset: string; key: number }[] = [];
    const result = await replayPartitions<UsageEvent>({
      kafka,
      logger,
      topic: usage,
      topicPrefix: prefix,
      ranges: [
        { partition: 0, from: 5n, to: 15n },
        { partition: 3, from: 0n, to: 5n },
        { partition: 1, from: 0n, to: 0n },
      ],
      onMessages: (messages, partition) => {
        for (const m of messages) seen.push({ partition, offset: m.offset, key: m.value.apiKeyId });
      },
    });
    expect(result.messages).toBe(14);
    expect(seen.filter((s) => s.partition === 0).map((s) => s.offset)).toEqual(
      Array.from({ length: 10 }, (_, i) => String(i + 5)),
    );
    expect(seen.filter((s) => s.partition === 3).map((s) => s.offset)).toEqual(["0", "1", "3", "4"]);
  });
});
