import { topics } from "@apimon/events";
import { fetchEndOffsets, topicName } from "@apimon/kafka";
import { makeUsageEvent, uniqueName } from "@apimon/testkit";
import { createHarness, type Harness, ofKey, summary } from "./harness";

let h: Harness;

beforeAll(async () => {
  h = await createHarness("detector-rebuild", {});
});

afterAll(async () => {
  await h?.close();
});

/** Sends one event and answers the partition it went to. */
async function sendAndLocate(apiKeyId: number, responseTimeMs: number): Promise<number> {
  const topic = topicName(topics.usageEvents, h.prefix);
  const before = await fetchEndOffsets(h.kafka, topic);
  await h.sendUsage([makeUsageEvent({ apiKeyId, responseTimeMs })]);
  const after = await fetchEndOffsets(h.kafka, topic);
  const grown = after.find((p) => p.high > (before.find((b) => b.partition === p.partition)?.high ?? 0n));
  if (!grown) throw new Error(`no partition took key ${apiKeyId}'s event`);
  return grown.partition;
}

describe("anomaly detector state rebuild", () => {
  it("signals what reached a partition its group had never committed, once the partitions are assigned again", async () => {
    const groupId = uniqueName("detector-rebuild");
    const first = await h.startDetector({ groupId });
    // The group reads and commits the partition of key 301 only.
    const committed = await sendAndLocate(301, 1500);
    await h.waitForSignals((s) => summary(s, ofKey(301)).length >= 1, "key 301's slow call");
    await first.stop();

    // While no detector runs, a slow call of a key on another partition, one the group never
    // committed because it had been empty.
    let key = 302;
    while ((await sendAndLocate(key, 20)) === committed) key++;
    await h.sendUsage([makeUsageEvent({ apiKeyId: key, endpoint: "/slow", responseTimeMs: 1500 })]);

    const second = await h.startDetector({ groupId });
    const signals = await h.waitForSignals(
      (s) => summary(s, ofKey(key)).length >= 1,
      `key ${key}'s slow call, read after the restart`,
    );
    expect(summary(signals, ofKey(key))).toEqual([
      `firing warning response_time:key=${key}:endpoint=GET /slow`,
    ]);
    await second.stop();
  });
});
