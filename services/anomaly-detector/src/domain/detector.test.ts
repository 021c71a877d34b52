import { type AlertThresholdSettings, alertThresholdsSchema } from "@apimon/config";
import type { AlertSignal, AuthFailure, UsageEvent } from "@apimon/events";
import { makeUsageEvent } from "@apimon/testkit";
import { createDetector, type Offered } from "./detector";

const T0 = Date.parse("2026-11-27T12:00:00.000Z");
let seq = 0;

const usage = (at: number, overrides: Partial<UsageEvent> = {}): UsageEvent =>
  makeUsageEvent({ occurredAt: new Date(at).toISOString(), endpoint: "/a", ...overrides });

function failure(at: number, overrides: Partial<AuthFailure> = {}): AuthFailure {
  return {
    id: "0190b2c4-8f1e-7a3b-9c2d-1e2f3a4b5c6d",
    occurredAt: new Date(at).toISOString(),
    reason: "invalid",
    clientIp: "203.0.113.9",
    endpoint: "/a",
    method: "GET",
    ...overrides,
  };
}

const offered = <T>(values: T[]): Offered<T>[] => values.map((value) => ({ offset: String(seq++), value }));
const brief = (s: AlertSignal) => `${s.state} ${s.severity} ${s.fingerprint}`;

function setup(overrides: Record<string, unknown> = {}, clock = () => 0) {
  let thresholds: AlertThresholdSettings = alertThresholdsSchema.parse(overrides);
  const detector = createDetector({ thresholds: () => thresholds, clock });
  return {
    detector,
    usage: (events: UsageEvent[], partition = 0) =>
      detector.applyUsage(partition, offered(events)).map(brief),
    auth: (events: AuthFailure[], partition = 0) => detector.applyAuth(partition, offered(events)).map(brief),
    set: (next: Record<string, unknown>) => {
      thresholds = alertThresholdsSchema.parse(next);
    },
  };
}

describe("anomaly detector rules over event streams", () => {
  it("response_time: one signal per change of severity, per key and endpoint", () => {
    const d = setup();
    expect(d.usage([usage(T0, { responseTimeMs: 1000 }), usage(T0 + 1, { responseTimeMs: 999 })])).toEqual(
      [],
    );
    expect(
      d.usage([
        usage(T0 + 2, { responseTimeMs: 1001 }),
        usage(T0 + 3, { responseTimeMs: 1500 }),
        usage(T0 + 4, { responseTimeMs: 2001, endpoint: "/b" }),
        usage(T0 + 5, { responseTimeMs: 2500 }),
      ]),
    ).toEqual([
      "firing warning response_time:key=1:endpoint=GET /a",
      "firing critical response_time:key=1:endpoint=GET /b",
      "firing critical response_time:key=1:endpoint=GET /a",
    ]);
  });

  it("error_rate: needs 20 requests in the window; above 5 % warns, above 10 % is critical", () => {
    const d = setup();
    const batch = (endpoint: string, ok: number, errors: number) => [
      ...Array.from({ length: ok }, (_, i) => usage(T0 + i, { endpoint })),
      ...Array.from({ length: errors }, (_, i) => usage(T0 + ok + i, { endpoint, statusCode: 503 })),
    ];
    expect(d.usage(batch("/few", 9, 10))).toEqual([]);
    expect(d.usage(batch("/at", 19, 1))).toEqual([]);
    expect(d.usage(batch("/warn", 18, 2))).toEqual(["firing warning error_rate:key=1:endpoint=GET /warn"]);
    expect(d.usage(batch("/crit", 17, 3))).toEqual(["firing critical error_rate:key=1:endpoint=GET /crit"]);
    // 4xx are not server errors.
    expect(
      d.usage(Array.from({ length: 20 }, (_, i) => usage(T0 + i, { endpoint: "/4xx", statusCode: 404 }))),
    ).toEqual([]);
  });

  it("error_rate: requests older than the window no longer count", () => {
    const d = setup({ error_rate: { warning: 0.05, critical: 0.1, windowSeconds: 60, minRequests: 20 } });
    const errors = Array.from({ length: 10 }, (_, i) => usage(T0 + i, { statusCode: 500 }));
    const later = Array.from({ length: 20 }, (_, i) => usage(T0 + 120_000 + i));
    expect(d.usage([...errors, ...later])).toEqual([]);
  });

  it("usage_spike: compares the current window with the key's baseline, above its minimum volume", () => {
    const d = setup({
      usage_spike: {
        warning: 2,
        critical: 3,
        windowSeconds: 60,
        baselineSeconds: 600,
        minBaselineRequests: 10,
      },
    });
    const W = 60_000;
    const start = Math.floor(T0 / W) * W;
    const window = (n: number, count: number, apiKeyId = 1) =>
      Array.from({ length: count }, (_, i) => usage(start + n * W + i * 10, { apiKeyId }));
    // A partial first window, then five full windows of 20: baseline 20.
    const history = [
      window(0, 3),
      window(1, 20),
      window(2, 20),
      window(3, 20),
      window(4, 20),
      window(5, 20),
    ].flat();
    expect(d.usage(history)).toEqual([]);
    expect(d.usage(window(6, 40))).toEqual([]);
    const spike = d.detector.applyUsage(0, offered(window(6, 1)));
    expect(spike.map((s) => [s.severity, s.observedValue, s.threshold])).toEqual([["warning", 41 / 20, 2]]);
    expect(spike[0]?.message).toBe(
      "key 1: 41 requests in the current 60 s window, 2.05x its baseline of 20.0 per window (warning above 2x)",
    );
    expect(d.usage(window(6, 19))).toEqual([]);
    expect(d.usage(window(6, 1))).toEqual(["firing critical usage_spike:key=1"]);

    // A key whose baseline is below the minimum volume never spikes.
    const quiet = [
      window(0, 1, 2),
      window(1, 9, 2),
      window(2, 9, 2),
      window(3, 9, 2),
      window(4, 500, 2),
    ].flat();
    expect(d.usage(quiet)).toEqual([]);
  });

  it("unauthorized_access: the 6th failure in the window from one IP, or against one inactive key", () => {
    const d = setup();
    const fromIp = (n: number, clientIp: string) =>
      Array.from({ length: n }, (_, i) => failure(T0 + i, { clientIp }));
    expect(d.auth(fromIp(5, "10.0.0.5"))).toEqual([]);
    expect(d.auth(fromIp(6, "10.0.0.6"))).toEqual(["firing critical unauthorized_access:ip=10.0.0.6"]);
    expect(d.auth(fromIp(10, "10.0.0.6"))).toEqual([]);
    // Against an inactive key from IPs on different partitions, each below the per-IP threshold.
    const inactive = (i: number) =>
      failure(T0 + i, { reason: "inactive", apiKeyId: 9, clientIp: `10.1.0.${i}` });
    expect(d.auth([inactive(1), inactive(2), inactive(3)], 1)).toEqual([]);
    expect(d.auth([inactive(4), inactive(5)], 2)).toEqual([]);
    expect(d.auth([inactive(6)], 3)).toEqual(["firing critical unauthorized_access:key=9"]);
    // Failures older than the hour are forgotten.
    expect(
      d.auth(
        fromIp(5, "10.0.0.6").map((f) => ({ ...f, occurredAt: new Date(T0 + 3_700_000).toISOString() })),
      ),
    ).toEqual([]);
  });

  it("unauthorized_access: an IPv6 client's addresses count together by their /64", () => {
    const d = setup();
    const rotating = Array.from({ length: 6 }, (_, i) =>
      failure(T0 + i, { clientIp: `2001:db8:0:12:${(i + 1).toString(16)}::1` }),
    );
    expect(d.auth(rotating)).toEqual(["firing critical unauthorized_access:ip=2001:db8:0:12::/64"]);
    // Another /64 and an IPv4 client are counted apart.
    expect(d.auth([failure(T0 + 10, { clientIp: "2001:db8:0:13::1" })])).toEqual([]);
    expect(d.auth([failure(T0 + 11, { clientIp: "203.0.113.9" })])).toEqual([]);
  });

  it("rate_limit_approaching: warns once per window at 80 % and resolves when the window resets", () => {
    const d = setup();
    const at = (ms: number, remaining: number) =>
      usage(ms, {
        limits: {
          minute: {
            limit: 100,
            remaining,
            reset: Math.ceil((Math.floor(ms / 60_000 + 1) * 60_000 - ms) / 1000),
          },
          hour: { limit: 1000, remaining: 900, reset: 3000 },
          day: { limit: 10000, remaining: 9000, reset: 80000 },
        },
      });
    const start = Math.floor(T0 / 60_000) * 60_000;
    expect(d.usage([at(start + 1000, 21)])).toEqual([]);
    expect(d.usage([at(start + 2000, 20), at(start + 3000, 10), at(start + 4000, 0)])).toEqual([
      "firing warning rate_limit_approaching:key=1:window=minute",
    ]);
    // The tick resolves it once the window is over ...
    expect(d.detector.tick(start + 59_000).map(brief)).toEqual([]);
    expect(d.detector.tick(start + 60_000).map(brief)).toEqual([
      "resolved warning rate_limit_approaching:key=1:window=minute",
    ]);
    // ... and the next window may warn again.
    expect(d.usage([at(start + 61_000, 15)])).toEqual([
      "firing warning rate_limit_approaching:key=1:window=minute",
    ]);
    // An event of a later window resolves it too, even before a tick.
    expect(d.usage([at(start + 121_000, 99)])).toEqual([
      "resolved warning rate_limit_approaching:key=1:window=minute",
    ]);
  });

  it("resolves after the quiet period on the clock, and damps with consecutiveEvaluations", () => {
    const d = setup({ quietPeriodSeconds: 60, consecutiveEvaluations: 2 });
    expect(d.usage([usage(T0, { responseTimeMs: 1500 }), usage(T0 + 1, { responseTimeMs: 10 })])).toEqual([]);
    expect(
      d.usage([usage(T0 + 2, { responseTimeMs: 1500 }), usage(T0 + 3, { responseTimeMs: 1500 })]),
    ).toEqual(["firing warning response_time:key=1:endpoint=GET /a"]);
    expect(d.detector.tick(T0 + 3 + 59_999)).toEqual([]);
    expect(d.detector.tick(T0 + 3 + 60_000).map(brief)).toEqual([
      "resolved warning response_time:key=1:endpoint=GET /a",
    ]);
    expect(d.detector.tick(T0 + 200_000)).toEqual([]);
  });

  it("judges quiet periods by event time while a partition is being read (catching up), by the clock once idle", () => {
    let wall = T0 + 3_600_000;
    const d = setup({ quietPeriodSeconds: 60 }, () => wall);
    // A backlog from an hour ago: the slow endpoint stays slow all along in event time.
    expect(d.usage([usage(T0, { responseTimeMs: 1500 })])).toEqual([
      "firing warning response_time:key=1:endpoint=GET /a",
    ]);
    expect(d.detector.tick(wall)).toEqual([]);
    d.usage([usage(T0 + 50_000, { responseTimeMs: 10 }), usage(T0 + 55_000, { responseTimeMs: 1500 })]);
    d.usage([usage(T0 + 100_000, { endpoint: "/other" })]);
    // Not resolved; its second match is reported, a minute (of event time) after the first.
    expect(d.detector.tick(wall).map(brief)).toEqual(["firing warning response_time:key=1:endpoint=GET /a"]);
    // Event time moves past the quiet period: resolved, although the partition is still busy.
    d.usage([usage(T0 + 115_000, { endpoint: "/other" })]);
    expect(d.detector.tick(wall).map(brief)).toEqual([
      "resolved warning response_time:key=1:endpoint=GET /a",
    ]);
    // Caught up and idle: the clock decides.
    d.usage([usage(wall - 1000, { responseTimeMs: 1500, endpoint: "/late" })]);
    wall += 9_000;
    expect(d.detector.tick(wall)).toEqual([]);
    wall += 60_000;
    expect(d.detector.tick(wall).map(brief)).toEqual([
      "resolved warning response_time:key=1:endpoint=GET /late",
    ]);
  });

  it("applies a threshold change from the next batch on", () => {
    const d = setup();
    expect(d.usage([usage(T0, { responseTimeMs: 1500, endpoint: "/x" })])).toHaveLength(1);
    d.set({ response_time: { warning: 2.5, critical: 5 } });
    expect(d.usage([usage(T0, { responseTimeMs: 1500, endpoint: "/y" })])).toEqual([]);
    const [signal] = d.detector.applyUsage(0, offered([usage(T0, { responseTimeMs: 3000, endpoint: "/z" })]));
    expect(signal).toMatchObject({ severity: "warning", threshold: 2.5, observedValue: 3 });
  });

  it("judges an endpoint or a key with an override by the override's thresholds, and says so", () => {
    const d = setup({
      overrides: [
        { endpoint: "GET /export", response_time: { warning: 5, critical: 10 } },
        { apiKeyId: 2, error_rate: { warning: 0.5, critical: 0.8 } },
      ],
    });
    const slow = (at: number, endpoint: string, apiKeyId = 1) =>
      usage(at, { responseTimeMs: 6000, endpoint, apiKeyId });
    // 6 s is critical on an ordinary endpoint, a warning on the export, for any key.
    expect(d.usage([slow(T0, "/a"), slow(T0 + 1, "/export"), slow(T0 + 2, "/export", 3)])).toEqual([
      "firing critical response_time:key=1:endpoint=GET /a",
      "firing warning response_time:key=1:endpoint=GET /export",
      "firing warning response_time:key=3:endpoint=GET /export",
    ]);
    const [signal] = d.detector.applyUsage(
      0,
      offered([usage(T0 + 3, { responseTimeMs: 11_000, endpoint: "/export" })]),
    );
    expect(signal).toMatchObject({
      severity: "critical",
      threshold: 10,
      message:
        "key 1, GET /export: a request took 11 s, slower than the critical threshold of 10 s set for GET /export",
    });
    // Key 2's errors matter less: 30 % of its requests failing is no alert, but is for key 1.
    const batch = (apiKeyId: number) =>
      Array.from({ length: 20 }, (_, i) =>
        usage(T0 + 10 + i, { apiKeyId, endpoint: "/b", statusCode: i < 6 ? 503 : 200 }),
      );
    expect(d.usage(batch(2))).toEqual([]);
    expect(d.usage(batch(1))).toEqual(["firing critical error_rate:key=1:endpoint=GET /b"]);
    // Removing the override applies from the next event on.
    d.set({});
    expect(d.usage([usage(T0 + 40, { apiKeyId: 2, endpoint: "/b", statusCode: 503 })])).toEqual([
      "firing critical error_rate:key=2:endpoint=GET /b",
    ]);
  });
  it("judges every endpoint a pattern override matches by its thresholds", () => {
    const d = setup({ overrides: [{ endpoint: "/reports/*", response_time: { warning: 5, critical: 10 } }] });
    const slow = (at: number, endpoint: string) => usage(at, { responseTimeMs: 6000, endpoint });
    expect(
      d.usage([slow(T0, "/reports/:id/export"), slow(T0 + 1, "/reports/daily"), slow(T0 + 2, "/report")]),
    ).toEqual([
      "firing warning response_time:key=1:endpoint=GET /reports/:id/export",
      "firing warning response_time:key=1:endpoint=GET /reports/daily",
      "firing critical response_time:key=1:endpoint=GET /report",
    ]);
    const [signal] = d.detector.applyUsage(
      0,
      offered([usage(T0 + 3, { responseTimeMs: 11_000, endpoint: "/reports/daily" })]),
    );
    expect(signal?.message).toBe(
      "key 1, GET /reports/daily: a request took 11 s, slower than the critical threshold of 10 s set for /reports/*",
    );
  });

  it("skips offsets it already applied, so a redelivered batch counts once", () => {
    const d = setup();
    const batch = offered(Array.from({ length: 10 }, (_, i) => usage(T0 + i, { statusCode: 500 })));
    d.detector.applyUsage(0, batch);
    d.detector.applyUsage(0, batch);
    const more = offered(Array.from({ length: 10 }, (_, i) => usage(T0 + 10 + i)));
    // 10 errors of 20: were the redelivery counted, it would be 20 of 30.
    const [signal] = d.detector.applyUsage(0, more);
    expect(signal?.observedValue).toBe(0.5);
  });

  it("rebuilds state from a replay without signalling, then detects relative to it", () => {
    const d = setup({ quietPeriodSeconds: 600 });
    expect(d.detector.assign("usage", [0, 1])).toEqual([0, 1]);
    expect(d.detector.isRebuilding("usage", 0)).toBe(true);
    const replayed = d.detector.applyUsage(
      0,
      offered([
        usage(T0, { responseTimeMs: 3000 }),
        ...Array.from({ length: 20 }, (_, i) => usage(T0 + i, { statusCode: 500, endpoint: "/e" })),
      ]),
      "replay",
    );
    expect(replayed).toEqual([]);
    // While rebuilding, the tick leaves the partition alone.
    expect(d.detector.tick(T0 + 10_000_000)).toEqual([]);
    d.detector.finishRebuild("usage", 0);
    // The replayed condition is firing already: a repeat does not signal again.
    expect(d.usage([usage(T0 + 100, { responseTimeMs: 3000 })])).toEqual([]);
    expect(
      d.detector
        .tick(T0 + 100 + 600_000)
        .map(brief)
        .sort(),
    ).toEqual([
      "resolved critical error_rate:key=1:endpoint=GET /e",
      "resolved critical response_time:key=1:endpoint=GET /a",
    ]);
  });

  it("drops the state of revoked partitions and keeps that of retained ones", () => {
    const d = setup();
    d.detector.assign("usage", [0, 1]);
    d.detector.finishRebuild("usage", 0);
    d.detector.finishRebuild("usage", 1);
    d.usage([usage(T0, { responseTimeMs: 1500 })], 0);
    d.usage([usage(T0, { responseTimeMs: 1500, apiKeyId: 2 })], 1);
    expect(d.detector.conditions()).toHaveLength(2);
    expect(d.detector.assign("usage", [1, 2])).toEqual([2]);
    expect(d.detector.conditions().map((c) => c.fingerprint)).toEqual([
      "response_time:key=2:endpoint=GET /a",
    ]);
  });

  it("forgets idle state in the sweep", () => {
    const d = setup({ quietPeriodSeconds: 60 });
    d.usage([usage(T0, { responseTimeMs: 1500 })]);
    d.detector.tick(T0 + 60_000);
    expect(d.detector.keyCount()).toBe(1);
    d.detector.sweep(T0 + 10_000_000);
    expect(d.detector.keyCount()).toBe(0);
  });
});

describe("endpoints tracked per partition", () => {
  it("stays within its bound, forgetting the least recently called without a condition", () => {
    const detector = createDetector({
      thresholds: () => alertThresholdsSchema.parse({}),
      maxTrackedEndpoints: 20,
    });
    const apply = (events: UsageEvent[]) => detector.applyUsage(0, offered(events)).map(brief);
    // A slow request opens a condition on the first endpoint: it is never the one forgotten.
    expect(apply([usage(T0, { endpoint: "/api/users/slow", responseTimeMs: 2500 })])).toEqual([
      expect.stringMatching(/^firing critical response_time/),
    ]);
    // Names in paths: a new endpoint with every request, five hundred of them.
    const named = Array.from({ length: 500 }, (_, i) =>
      usage(T0 + 1 + i, { endpoint: `/api/users/name${i}` }),
    );
    expect(apply(named)).toEqual([]);
    const { tracked, evicted } = detector.endpointCounts();
    expect(tracked).toBeLessThanOrEqual(20);
    expect(tracked + evicted).toBe(501);
    // The condition's endpoint is still known: its next slow request is the same alert, not a new one.
    expect(apply([usage(T0 + 600, { endpoint: "/api/users/slow", responseTimeMs: 2600 })])).toEqual([]);
    expect(detector.conditions()).toHaveLength(1);
    // A slow request on an endpoint never seen before still fires, however full the table is.
    expect(apply([usage(T0 + 700, { endpoint: "/api/users/new", responseTimeMs: 2500 })])).toEqual([
      expect.stringMatching(/^firing critical response_time.*new/),
    ]);
    expect(detector.endpointCounts().tracked).toBeLessThanOrEqual(20);
  });
});
