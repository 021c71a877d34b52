import type { AuthFailure, UsageEvent } from "@apimon/events";
import { newEventId } from "@apimon/events";
import { makeUsageEvent, uniqueName, waitFor } from "@apimon/testkit";
import { createHarness, type Harness, ofKey, summary } from "./harness";

// Each test uses its own API keys and client IPs, so the shared detector's state per scope is its
// alone. Time is driven by occurredAt; the quiet-period clock is the test's.
const THRESHOLDS = {
  usage_spike: { warning: 2, critical: 3, windowSeconds: 60, baselineSeconds: 600, minBaselineRequests: 10 },
  quietPeriodSeconds: 3600,
};

let h: Harness;
let detector: Awaited<ReturnType<Harness["startDetector"]>>;
let now = Date.now();
const clock = () => now;

beforeAll(async () => {
  h = await createHarness("detector-rules", THRESHOLDS);
  detector = await h.startDetector({ groupId: uniqueName("detector-rules"), clock });
});

afterAll(async () => {
  await h?.close();
});

const at = (ms: number) => new Date(ms).toISOString();
const usage = (apiKeyId: number, overrides: Partial<UsageEvent> = {}) =>
  makeUsageEvent({ apiKeyId, occurredAt: at(Date.now()), ...overrides });
const failure = (overrides: Partial<AuthFailure>): AuthFailure => ({
  id: newEventId(),
  occurredAt: at(Date.now()),
  reason: "invalid",
  clientIp: "198.51.100.1",
  endpoint: "/users/:id",
  method: "GET",
  ...overrides,
});

describe("anomaly detector rules through the broker", () => {
  it("response_time: just below, at and above 1.0 s and 2.0 s, per key and endpoint", async () => {
    const key = 101;
    await h.sendUsage([
      usage(key, { endpoint: "/below", responseTimeMs: 999 }),
      usage(key, { endpoint: "/at-warning", responseTimeMs: 1000 }),
      usage(key, { endpoint: "/above-warning", responseTimeMs: 1001 }),
      usage(key, { endpoint: "/at-critical", responseTimeMs: 2000 }),
      usage(key, { endpoint: "/above-critical", responseTimeMs: 2001 }),
      usage(key, { endpoint: "/above-warning", responseTimeMs: 1500 }),
    ]);
    const signals = await h.waitForSignals(
      (s) => summary(s, ofKey(key)).length >= 3,
      "response_time signals",
    );
    expect(summary(signals, ofKey(key)).sort()).toEqual([
      "firing critical response_time:key=101:endpoint=GET /above-critical",
      "firing warning response_time:key=101:endpoint=GET /above-warning",
      "firing warning response_time:key=101:endpoint=GET /at-critical",
    ]);
    const critical = signals.find(
      (s) => s.fingerprint === "response_time:key=101:endpoint=GET /above-critical",
    );
    expect(critical).toEqual({
      fingerprint: "response_time:key=101:endpoint=GET /above-critical",
      type: "response_time",
      severity: "critical",
      state: "firing",
      scope: { apiKeyId: 101, endpoint: "GET /above-critical" },
      observedValue: 2.001,
      threshold: 2,
      message:
        "key 101, GET /above-critical: a request took 2.001 s, slower than the critical threshold of 2 s",
      observedAt: expect.any(String),
      occurrences: 1,
    });
  });

  it("error_rate: 5xx share around 5 % and 10 %, and nothing below 20 requests", async () => {
    const key = 102;
    const requests = (endpoint: string, ok: number, errors: number) => [
      ...Array.from({ length: ok }, () => usage(key, { endpoint })),
      ...Array.from({ length: errors }, () => usage(key, { endpoint, statusCode: 502 })),
    ];
    await h.sendUsage([
      ...requests("/too-few", 9, 10),
      ...requests("/below", 20, 1),
      ...requests("/at-warning", 19, 1),
      ...requests("/above-warning", 18, 2),
      ...requests("/above-critical", 17, 3),
    ]);
    const signals = await h.waitForSignals((s) => summary(s, ofKey(key)).length >= 2, "error_rate signals");
    expect(summary(signals, ofKey(key)).sort()).toEqual([
      "firing critical error_rate:key=102:endpoint=GET /above-critical",
      "firing warning error_rate:key=102:endpoint=GET /above-warning",
    ]);
    expect(
      signals.find((s) => s.fingerprint === "error_rate:key=102:endpoint=GET /above-critical"),
    ).toMatchObject({
      observedValue: 0.15,
      threshold: 0.1,
    });
  });

  it("usage_spike: at, above 2x and above 3x of the baseline, and nothing on a baseline below the minimum", async () => {
    const key = 103;
    const small = 104;
    const W = 60_000;
    const start = Math.floor(Date.now() / W) * W - 7 * W;
    const window = (apiKeyId: number, n: number, count: number) =>
      Array.from({ length: count }, (_, i) => usage(apiKeyId, { occurredAt: at(start + n * W + i * 100) }));
    // A partial first window, five full ones of 20 (baseline 20), then 40 in the current one (2.0x).
    await h.sendUsage([1, 2, 3, 4, 5].flatMap((n) => window(key, n, 20)).concat(window(key, 0, 0)));
    await h.sendUsage(window(key, 6, 40));
    // Baseline 5 per window: below minBaselineRequests (10), so even 100 requests are no spike.
    await h.sendUsage([1, 2, 3, 4, 5].flatMap((n) => window(small, n, 5)).concat(window(small, 6, 100)));
    await h.sendUsage(window(key, 6, 1).map((e) => ({ ...e, occurredAt: at(start + 6 * W + 5000) })));
    let signals = await h.waitForSignals((s) => summary(s, ofKey(key)).length >= 1, "the spike warning");
    expect(summary(signals, ofKey(key))).toEqual(["firing warning usage_spike:key=103"]);
    expect(signals.find((s) => s.fingerprint === "usage_spike:key=103")?.observedValue).toBe(41 / 20);

    await h.sendUsage(window(key, 6, 20).map((e) => ({ ...e, occurredAt: at(start + 6 * W + 6000) })));
    signals = await h.waitForSignals((s) => summary(s, ofKey(key)).length >= 2, "the spike escalation");
    expect(summary(signals, ofKey(key))).toEqual([
      "firing warning usage_spike:key=103",
      "firing critical usage_spike:key=103",
    ]);
    expect(signals.filter(ofKey(key))[1]?.observedValue).toBe(61 / 20);
    expect(summary(signals, ofKey(small))).toEqual([]);
  });

  it("unauthorized_access: 5 failures say nothing, the 6th from one IP or against one inactive key is critical", async () => {
    const failures = (n: number, overrides: (i: number) => Partial<AuthFailure>) =>
      Array.from({ length: n }, (_, i) => failure(overrides(i)));
    await h.sendAuth([
      ...failures(5, () => ({ clientIp: "198.51.100.5" })),
      ...failures(6, () => ({ clientIp: "198.51.100.6" })),
      // Six IPs (of several partitions), each below its own threshold, against inactive key 105.
      ...failures(6, (i) => ({ clientIp: `192.0.2.${i + 1}`, reason: "inactive", apiKeyId: 105 })),
      ...failures(5, (i) => ({ clientIp: `192.0.2.${i + 11}`, reason: "inactive", apiKeyId: 106 })),
    ]);
    const mine = (s: { type: string }) => s.type === "unauthorized_access";
    const signals = await h.waitForSignals(
      (s) => summary(s, mine).length >= 2,
      "unauthorized_access signals",
    );
    expect(summary(signals, mine).sort()).toEqual([
      "firing critical unauthorized_access:ip=198.51.100.6",
      "firing critical unauthorized_access:key=105",
    ]);
  });

  it("rate_limit_approaching: 79 % says nothing, 80 % warns once per window, the reset resolves it", async () => {
    const key = 107;
    const windowStart = Math.floor(Date.now() / 60_000) * 60_000;
    const event = (offsetMs: number, remaining: number) => {
      const ms = windowStart + offsetMs;
      return usage(key, {
        occurredAt: at(ms),
        limits: {
          minute: {
            limit: 100,
            remaining,
            reset: Math.ceil(((Math.floor(ms / 60_000) + 1) * 60_000 - ms) / 1000),
          },
          hour: { limit: 1000, remaining: 500, reset: 1800 },
          day: { limit: 10000, remaining: 9000, reset: 40000 },
        },
      });
    };
    await h.sendUsage([event(100, 21), event(200, 20), event(300, 10), event(400, 0)]);
    let signals = await h.waitForSignals((s) => summary(s, ofKey(key)).length >= 1, "the rate-limit warning");
    expect(summary(signals, ofKey(key))).toEqual([
      "firing warning rate_limit_approaching:key=107:window=minute",
    ]);
    expect(signals.find(ofKey(key))).toMatchObject({ observedValue: 0.8, threshold: 0.8 });
    // The next minute's first request shows the window reset.
    await h.sendUsage([event(60_100, 99)]);
    signals = await h.waitForSignals((s) => summary(s, ofKey(key)).length >= 2, "the rate-limit resolution");
    expect(summary(signals, ofKey(key))).toEqual([
      "firing warning rate_limit_approaching:key=107:window=minute",
      "resolved warning rate_limit_approaching:key=107:window=minute",
    ]);
  });

  it("applies a threshold change from alert_settings live, without a restart", async () => {
    const key = 108;
    await h.sendUsage([usage(key, { endpoint: "/before", responseTimeMs: 1500 })]);
    await h.waitForSignals((s) => summary(s, ofKey(key)).length >= 1, "the warning under the defaults");
    await h.saveThresholds({ ...THRESHOLDS, response_time: { warning: 2.5, critical: 5 } });
    await waitFor(() => detector.settings.current().response_time.warning === 2.5, {
      timeoutMs: 10_000,
      what: "the new thresholds",
    });
    await h.sendUsage([
      usage(key, { endpoint: "/after", responseTimeMs: 1500 }),
      usage(key, { endpoint: "/after-slow", responseTimeMs: 3000 }),
    ]);
    const signals = await h.waitForSignals(
      (s) => summary(s, ofKey(key)).length >= 2,
      "the warning under the new thresholds",
    );
    expect(summary(signals, ofKey(key))).toEqual([
      "firing warning response_time:key=108:endpoint=GET /before",
      "firing warning response_time:key=108:endpoint=GET /after-slow",
    ]);
    expect(signals.filter(ofKey(key))[1]).toMatchObject({ observedValue: 3, threshold: 2.5 });
    await h.saveThresholds(THRESHOLDS);
    await waitFor(() => detector.settings.current().response_time.warning === 1, {
      what: "the defaults again",
    });
  });

  it("judges an endpoint with a threshold override by its own thresholds, applied live", async () => {
    const key = 110;
    await h.saveThresholds({
      ...THRESHOLDS,
      overrides: [
        { endpoint: "GET /export", response_time: { warning: 5, critical: 10 }, note: "slow by design" },
      ],
    });
    await waitFor(() => detector.settings.current().overrides.length === 1, { what: "the override" });
    await h.sendUsage([
      usage(key, { endpoint: "/export", responseTimeMs: 3000 }),
      usage(key, { endpoint: "/export", method: "POST", responseTimeMs: 3000 }),
      usage(key, { endpoint: "/export", responseTimeMs: 6000 }),
    ]);
    const signals = await h.waitForSignals((s) => summary(s, ofKey(key)).length >= 2, "two signals");
    // Signals are keyed by fingerprint, so two of them may be read in either order.
    expect(summary(signals, ofKey(key)).sort()).toEqual([
      // The override names GET: a 3 s POST is slow by the global thresholds.
      "firing critical response_time:key=110:endpoint=POST /export",
      "firing warning response_time:key=110:endpoint=GET /export",
    ]);
    expect(signals.find((s) => s.fingerprint === "response_time:key=110:endpoint=GET /export")).toMatchObject(
      {
        observedValue: 6,
        threshold: 5,
        message:
          "key 110, GET /export: a request took 6 s, slower than the warning threshold of 5 s set for GET /export",
      },
    );
    await h.saveThresholds(THRESHOLDS);
    await waitFor(() => detector.settings.current().overrides.length === 0, { what: "no override again" });
  });

  it("resolves a condition once the quiet period passed without a match", async () => {
    const key = 109;
    await h.saveThresholds({ ...THRESHOLDS, quietPeriodSeconds: 30 });
    await waitFor(() => detector.settings.current().quietPeriodSeconds === 30, { what: "the quiet period" });
    const sent = Date.now();
    await h.sendUsage([usage(key, { endpoint: "/slow", responseTimeMs: 2500, occurredAt: at(sent) })]);
    await h.waitForSignals((s) => summary(s, ofKey(key)).length >= 1, "the firing signal");
    // 29 s of quiet on the detector's clock: still firing.
    now = sent + 29_000;
    await detector.service.tick();
    expect(summary(h.signals, ofKey(key))).toEqual([
      "firing critical response_time:key=109:endpoint=GET /slow",
    ]);
    now = sent + 30_000;
    const signals = await h.waitForSignals((s) => summary(s, ofKey(key)).length >= 2, "the resolution");
    expect(summary(signals, ofKey(key))).toEqual([
      "firing critical response_time:key=109:endpoint=GET /slow",
      "resolved critical response_time:key=109:endpoint=GET /slow",
    ]);
    expect(signals.filter(ofKey(key))[1]).toMatchObject({
      observedAt: at(sent + 30_000),
      message: "key 109, GET /slow: resolved, no match for 30 s",
    });
  });
});
