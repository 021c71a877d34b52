import type { UsageEvent } from "@apimon/events";
import { makeUsageEvent, uniqueName, waitFor } from "@apimon/testkit";
import { createHarness, type Harness, ofKey, summary } from "./harness";

const THRESHOLDS = {
  usage_spike: { warning: 2, critical: 3, windowSeconds: 60, baselineSeconds: 600, minBaselineRequests: 10 },
  quietPeriodSeconds: 3600,
};

let h: Harness;

beforeAll(async () => {
  h = await createHarness("detector-restart", THRESHOLDS);
});

afterAll(async () => {
  await h?.close();
});

const W = 60_000;

/**
 * One key's usage by minute window, counted from seven windows ago: `window(n, count)` is `count`
 * requests 100 ms apart at the start of window n.
 */
function windowsOf(key: number) {
  const start = Math.floor(Date.now() / W) * W - 7 * W;
  const at = (ms: number) => new Date(ms).toISOString();
  const window = (n: number, count: number, overrides: Partial<UsageEvent> = {}) =>
    Array.from({ length: count }, (_, i) =>
      makeUsageEvent({ apiKeyId: key, occurredAt: at(start + n * W + i * 100), ...overrides }),
    );
  return { start, at, window };
}

describe("anomaly detector restart", () => {
  it("rebuilds its windows after a restart in the middle of a window: the baseline holds, nothing is signalled twice", async () => {
    const key = 201;
    const groupId = uniqueName("detector-restart");
    const { start, at, window } = windowsOf(key);

    const first = await h.startDetector({ groupId });
    // Five full windows of 20 (baseline 20), and half of the current window: 30 requests, one slow.
    await h.sendUsage([...[1, 2, 3, 4, 5].flatMap((n) => window(n, 20)), ...window(6, 29)]);
    await h.sendUsage(window(6, 1, { endpoint: "/slow", responseTimeMs: 1500 }));
    await h.waitForSignals((s) => summary(s, ofKey(key)).length >= 1, "the slow request's warning");
    expect(first.service.detector.usagePartition(partitionOf(first, key))?.baselineOf(key)).toEqual({
      current: 30,
      baseline: 20,
    });
    await first.stop();

    const second = await h.startDetector({ groupId });
    // Rebuilt from the stream: the same baseline and the same count in the current window.
    expect(second.service.detector.usagePartition(partitionOf(second, key))?.baselineOf(key)).toEqual({
      current: 30,
      baseline: 20,
    });
    // 11 more requests make 41 in the window: 2.05x the pre-restart baseline.
    await h.sendUsage(window(6, 10).map((e) => ({ ...e, occurredAt: at(start + 6 * W + 30_000) })));
    await h.sendUsage(window(6, 1, { endpoint: "/slow", responseTimeMs: 1600 }));
    const signals = await h.waitForSignals(
      (s) => summary(s, ofKey(key)).length >= 2,
      "the spike after the restart",
    );
    // The slow endpoint, firing before the restart, is not signalled again.
    expect(summary(signals, ofKey(key))).toEqual([
      "firing warning response_time:key=201:endpoint=GET /slow",
      "firing warning usage_spike:key=201",
    ]);
    expect(signals.find((s) => s.fingerprint === "usage_spike:key=201")?.observedValue).toBe(41 / 20);
    const metrics = await second.registry.getSingleMetricAsString("detector_rebuild_messages_total");
    expect(metrics).toMatch(/detector_rebuild_messages_total\{stream="usage"[^}]*\} 130/);
    await second.stop();
  });
});

describe("anomaly detector rebalance", () => {
  it("splits the partitions with a second instance: each rebuilds what it gained and drops what it lost", async () => {
    const key = 202;
    const groupId = uniqueName("detector-rebalance");
    const { start, at, window } = windowsOf(key);
    const a = await h.startDetector({ groupId });
    await h.sendUsage([...[1, 2, 3, 4, 5].flatMap((n) => window(n, 20)), ...window(6, 30)]);
    // A sentinel key on every partition shows when A handled everything sent so far.
    await h.sendUsage(
      Array.from({ length: 40 }, (_, i) => makeUsageEvent({ apiKeyId: 1000 + i, responseTimeMs: 1200 })),
    );
    await h.waitForSignals(
      (s) => s.filter((x) => (x.scope.apiKeyId ?? 0) >= 1000).length >= 40,
      "the sentinels",
    );
    expect(partitionOf(a, key)).toBeGreaterThanOrEqual(0);

    const b = await h.startDetector({ groupId });
    await waitFor(() => a.service.isReady(), { timeoutMs: 30_000, what: "the first instance to rejoin" });
    const owners = [a, b].filter((d) => partitionOf(d, key) >= 0);
    // Exactly one instance holds the key's state, with the baseline it had before the rebalance.
    expect(owners).toHaveLength(1);
    expect(owners[0]?.service.detector.usagePartition(partitionOf(owners[0], key))?.baselineOf(key)).toEqual({
      current: 30,
      baseline: 20,
    });
    const counts = [a, b].map(
      (d) =>
        Array.from({ length: 12 }, (_, p) => d.service.detector.usagePartition(p)).filter(Boolean).length,
    );
    expect(counts.every((n) => n > 0 && n < 12)).toBe(true);

    await h.sendUsage(window(6, 11).map((e) => ({ ...e, occurredAt: at(start + 6 * W + 30_000) })));
    const signals = await h.waitForSignals(
      (s) => summary(s, ofKey(key)).length >= 1,
      "the spike after the rebalance",
    );
    expect(summary(signals, ofKey(key))).toEqual(["firing warning usage_spike:key=202"]);
    expect(signals.find(ofKey(key))?.observedValue).toBe(41 / 20);
    await b.stop();
    await a.stop();
  });
});

/** The usage.events.v1 partition holding a key's state in this detector. */
function partitionOf(detector: Awaited<ReturnType<Harness["startDetector"]>>, key: number): number {
  for (let p = 0; p < 12; p++) if (detector.service.detector.usagePartition(p)?.baselineOf(key)) return p;
  return -1;
}
