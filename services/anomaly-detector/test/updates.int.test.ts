import type { UsageEvent } from "@apimon/events";
import { makeUsageEvent, uniqueName } from "@apimon/testkit";
import { createHarness, type Harness, ofKey } from "./harness";

// A firing condition reports its running count of matches and latest value at most once per
// update interval (a second here), so the open alert's count and last-seen time stay true.
let h: Harness;
let detector: Awaited<ReturnType<Harness["startDetector"]>>;
let now = Date.now();

beforeAll(async () => {
  h = await createHarness("detector-updates", { quietPeriodSeconds: 3600 });
  detector = await h.startDetector({
    groupId: uniqueName("detector-updates"),
    clock: () => now,
    updateIntervalMs: 1000,
  });
});

afterAll(async () => {
  await h?.close();
});

const at = (ms: number) => new Date(ms).toISOString();
const slow = (occurredAt: number, responseTimeMs = 1500): UsageEvent =>
  makeUsageEvent({ apiKeyId: 301, endpoint: "/export", responseTimeMs, occurredAt: at(occurredAt) });
const counts = (signals: { state: string; occurrences?: number; observedAt: string }[]) =>
  signals.map((s) => `${s.state} ${s.occurrences} ${s.observedAt}`);

describe("a firing condition's updates through the broker", () => {
  it("reports its matches at most once per interval, then the ones left on the tick", async () => {
    const t0 = Date.now() - 60_000;
    now = Date.now();
    await h.sendUsage([slow(t0), slow(t0 + 500), slow(t0 + 1200, 1800), slow(t0 + 1500), slow(t0 + 2500)]);
    const signals = await h.waitForSignals((s) => s.filter(ofKey(301)).length >= 3, "three signals");
    expect(counts(signals.filter(ofKey(301)))).toEqual([
      `firing 1 ${at(t0)}`,
      `firing 3 ${at(t0 + 1200)}`,
      `firing 5 ${at(t0 + 2500)}`,
    ]);
    expect(signals.filter(ofKey(301))[1]).toMatchObject({
      severity: "warning",
      observedValue: 1.8,
      message: "key 301, GET /export: a request took 1.8 s, slower than the warning threshold of 1 s",
    });

    // A match within the interval waits; once the partition is idle, the tick reports it.
    await h.sendUsage([slow(t0 + 2800)]);
    await h.waitForSignals(() => true, "the late match handled");
    await detector.service.tick();
    expect(h.signals.filter(ofKey(301))).toHaveLength(3);
    now = Date.now() + 11_000;
    const after = await h.waitForSignals((s) => s.filter(ofKey(301)).length >= 4, "the tick's update");
    expect(counts(after.filter(ofKey(301))).at(-1)).toBe(`firing 6 ${at(t0 + 2800)}`);
  });
});
