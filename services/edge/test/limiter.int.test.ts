import { createPipelinedRedis, createRedisClient, type PipelinedRedis, type Redis } from "@apimon/redis";
import { freePort, testInfra, uniqueName, waitFor } from "@apimon/testkit";
import type { Limits, Window } from "../src/domain/rate-limit";
import { windowStartMs } from "../src/domain/rate-limit";
import { createMemoryLimiter } from "../src/limiter/memory-limiter";
import { counterKey, createRedisLimiter } from "../src/limiter/redis-limiter";
import { createResilientLimiter } from "../src/limiter/resilient-limiter";

const DEFAULTS: Limits = { minute: 100, hour: 1000, day: 10000 };

/** An injected time two days ahead of the real one, at 10:20:30.250 UTC. */
function futureTime(): number {
  const day = 86_400_000;
  return Math.floor(Date.now() / day) * day + 2 * day + (10 * 3600 + 20 * 60 + 30) * 1000 + 250;
}

let redis: Redis;
/** The edge's own connection, which sends a key's script hash, keys and limits encoded once. */
let pipelined: PipelinedRedis;
const prefixes: string[] = [];

function newPrefix(): string {
  const prefix = `${uniqueName("rl-test")}:`;
  prefixes.push(prefix);
  return prefix;
}

function fakeClock(start: number) {
  let now = start;
  return {
    clock: () => now,
    set: (ms: number) => {
      now = ms;
    },
  };
}

/** Redis Cluster's rule: the slot is computed from what lies between the first `{` and the next `}`. */
function hashTag(key: string): string {
  const open = key.indexOf("{");
  const close = key.indexOf("}", open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

async function counter(prefix: string, apiKeyId: string, window: Window, nowMs: number): Promise<number> {
  return Number((await redis.get(counterKey(prefix, apiKeyId, window, windowStartMs(window, nowMs)))) ?? 0);
}

async function counters(prefix: string, apiKeyId: string, nowMs: number) {
  return {
    minute: await counter(prefix, apiKeyId, "minute", nowMs),
    hour: await counter(prefix, apiKeyId, "hour", nowMs),
    day: await counter(prefix, apiKeyId, "day", nowMs),
  };
}

beforeAll(() => {
  // Not the hot path's 1 s: a loaded CI machine can stall a test process for longer.
  redis = createRedisClient({ url: testInfra.redisUrl, commandTimeoutMs: 10_000 });
  pipelined = createPipelinedRedis({ url: testInfra.redisUrl, commandTimeoutMs: 10_000 });
  return waitFor(() => pipelined.status === "ready", { what: "the pipelined connection to be ready" });
});

afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
  pipelined.disconnect();
});

describe.each([
  ["ioredis", () => redis],
  ["the pipelined connection", () => pipelined],
] as const)("Redis limiter against real Redis through %s", (_, connection) => {
  it("lets exactly 100 of 300 concurrent requests through and counts only those", async () => {
    const prefix = newPrefix();
    const now = futureTime();
    const limiter = createRedisLimiter({ redis: connection(), keyPrefix: prefix, clock: () => now });
    const decisions = await Promise.all(Array.from({ length: 300 }, () => limiter.check("key-1", DEFAULTS)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(100);
    expect(decisions.filter((d) => !d.allowed)).toHaveLength(200);
    expect(await counters(prefix, "key-1", now)).toEqual({ minute: 100, hour: 100, day: 100 });
    const denied = decisions.find((d) => !d.allowed);
    expect(denied).toMatchObject({ blockedWindow: "minute", retryAfter: 30 });
  });

  it("keeps all three counters of a key in one cluster slot and expiring when their window ends", async () => {
    const prefix = newPrefix();
    const now = futureTime();
    const limiter = createRedisLimiter({ redis: connection(), keyPrefix: prefix, clock: () => now });
    await limiter.check("key-slot", DEFAULTS);
    const keys = (["minute", "hour", "day"] as const).map((w) =>
      counterKey(prefix, "key-slot", w, windowStartMs(w, now)),
    );
    // Redis Cluster hashes only the hash tag, so the three keys share a slot.
    expect(keys.map(hashTag)).toEqual(["ak:key-slot", "ak:key-slot", "ak:key-slot"]);
    // Each lives for what is left of its window by the edge's clock, whatever Redis's clock says.
    const ttl = await Promise.all(keys.map((k) => redis.pttl(k)));
    const left = [29_750, (39 * 60 + 29) * 1000 + 750, ((13 * 60 + 39) * 60 + 29) * 1000 + 750];
    ttl.forEach((ms, i) => {
      expect(ms).toBeLessThanOrEqual(left[i] as number);
      // Redis counts the TTL down while the test runs: allow it some seconds.
      expect(ms).toBeGreaterThan((left[i] as number) - 10_000);
    });
  });

  it("gives exact remaining and reset values for the injected time", async () => {
    const prefix = newPrefix();
    const now = futureTime();
    const limiter = createRedisLimiter({ redis: connection(), keyPrefix: prefix, clock: () => now });
    const first = await limiter.check("key-exact", DEFAULTS);
    expect(first).toEqual({
      allowed: true,
      windows: {
        minute: { limit: 100, remaining: 99, reset: 30 },
        hour: { limit: 1000, remaining: 999, reset: 39 * 60 + 30 },
        day: { limit: 10000, remaining: 9999, reset: 13 * 3600 + 39 * 60 + 30 },
      },
    });
    const second = await limiter.check("key-exact", DEFAULTS);
    expect(second.windows.minute.remaining).toBe(98);
  });

  it("honours a per-key override and a denied request changes no counter", async () => {
    const prefix = newPrefix();
    const now = futureTime();
    const limiter = createRedisLimiter({ redis: connection(), keyPrefix: prefix, clock: () => now });
    const limits = { ...DEFAULTS, minute: 5 };
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await limiter.check("key-5", limits));
    expect(results.every((d) => d.allowed)).toBe(true);
    const before = await counters(prefix, "key-5", now);
    expect(before).toEqual({ minute: 5, hour: 5, day: 5 });
    const denied = await limiter.check("key-5", limits);
    expect(denied).toMatchObject({ allowed: false, blockedWindow: "minute", retryAfter: 30 });
    expect(denied.windows.minute).toEqual({ limit: 5, remaining: 0, reset: 30 });
    expect(await counters(prefix, "key-5", now)).toEqual(before);
    // Another key is not affected.
    expect((await limiter.check("key-other", limits)).allowed).toBe(true);
  });

  it("decides without counting when asked not to count, in both algorithms", async () => {
    const now = futureTime();
    for (const algorithm of ["fixed", "sliding"] as const) {
      const prefix = newPrefix();
      const limiter = createRedisLimiter({
        redis: connection(),
        keyPrefix: prefix,
        clock: () => now,
        algorithm,
      });
      const limits = { ...DEFAULTS, minute: 3 };
      await limiter.check("key-u", limits);
      const uncounted = await limiter.check("key-u", limits, { count: false });
      expect({ algorithm, allowed: uncounted.allowed }).toEqual({ algorithm, allowed: true });
      expect(uncounted.windows.minute).toEqual({ limit: 3, remaining: 2, reset: 30 });
      expect(await counter(prefix, "key-u", "minute", now)).toBe(1);
      await limiter.check("key-u", limits);
      await limiter.check("key-u", limits);
      expect(await limiter.check("key-u", limits, { count: false })).toMatchObject({
        allowed: false,
        blockedWindow: "minute",
      });
      expect(await counter(prefix, "key-u", "minute", now)).toBe(3);
    }
  });

  it("allows again in the next minute while the hour keeps counting", async () => {
    const prefix = newPrefix();
    const start = futureTime();
    const time = fakeClock(start);
    const limiter = createRedisLimiter({ redis: connection(), keyPrefix: prefix, clock: time.clock });
    const limits = { minute: 3, hour: 5, day: 100 };
    for (let i = 0; i < 3; i++) await limiter.check("key-roll", limits);
    expect((await limiter.check("key-roll", limits)).allowed).toBe(false);

    const nextMinute = windowStartMs("minute", start) + 60_000;
    time.set(nextMinute);
    const next = await limiter.check("key-roll", limits);
    expect(next.allowed).toBe(true);
    expect(next.windows.minute).toEqual({ limit: 3, remaining: 2, reset: 60 });
    expect(next.windows.hour.remaining).toBe(1);
    expect(await counters(prefix, "key-roll", nextMinute)).toEqual({ minute: 1, hour: 4, day: 4 });

    await limiter.check("key-roll", limits);
    const hourOut = await limiter.check("key-roll", limits);
    expect(hourOut).toMatchObject({ allowed: false, blockedWindow: "hour", retryAfter: 39 * 60 });
    expect(await counters(prefix, "key-roll", nextMinute)).toEqual({ minute: 2, hour: 5, day: 5 });
  });
  it("answers with a key's new limits as soon as they change", async () => {
    const prefix = newPrefix();
    const now = futureTime();
    const limiter = createRedisLimiter({ redis: connection(), keyPrefix: prefix, clock: () => now });
    for (let i = 0; i < 2; i++) await limiter.check("key-changed", { ...DEFAULTS, minute: 5 });
    const lowered = await limiter.check("key-changed", { ...DEFAULTS, minute: 2 });
    expect(lowered).toMatchObject({ allowed: false, blockedWindow: "minute" });
    expect(lowered.windows.minute).toEqual({ limit: 2, remaining: 0, reset: 30 });
    const raised = await limiter.check("key-changed", { ...DEFAULTS, minute: 10 });
    expect(raised.allowed).toBe(true);
    expect(raised.windows.minute).toEqual({ limit: 10, remaining: 7, reset: 30 });
    expect(await counters(prefix, "key-changed", now)).toEqual({ minute: 3, hour: 3, day: 3 });
  });

  it("loads its script again after Redis forgot it, counting the request once", async () => {
    const prefix = newPrefix();
    const now = futureTime();
    const limiter = createRedisLimiter({ redis: connection(), keyPrefix: prefix, clock: () => now });
    await limiter.check("key-flush", DEFAULTS);
    await redis.script("FLUSH");
    const after = await limiter.check("key-flush", DEFAULTS);
    expect(after).toMatchObject({ allowed: true, windows: { minute: { remaining: 98 } } });
    expect(await counters(prefix, "key-flush", now)).toEqual({ minute: 2, hour: 2, day: 2 });
  });
});

describe("sliding-window Redis limiter", () => {
  it("weighs the previous minute in, so a full minute cannot be followed by a full burst", async () => {
    const prefix = newPrefix();
    const minuteStart = windowStartMs("minute", futureTime());
    const time = fakeClock(minuteStart + 50_000);
    const sliding = createRedisLimiter({ redis, keyPrefix: prefix, clock: time.clock, algorithm: "sliding" });
    const fixed = createRedisLimiter({ redis, keyPrefix: newPrefix(), clock: time.clock });
    const limits = { minute: 10, hour: 1000, day: 10000 };
    for (let i = 0; i < 10; i++) {
      expect((await sliding.check("k", limits)).allowed).toBe(true);
      expect((await fixed.check("k", limits)).allowed).toBe(true);
    }
    expect((await sliding.check("k", limits)).allowed).toBe(false);

    // 15 s into the next minute, 45 s of the previous one are still inside the sliding minute:
    // 10 × 0.75 = 7.5 counts, so 3 more requests fit (7 + 3 = 10); the fixed window allows 10.
    time.set(minuteStart + 75_000);
    const slid: boolean[] = [];
    const fix: boolean[] = [];
    for (let i = 0; i < 11; i++) {
      slid.push((await sliding.check("k", limits)).allowed);
      fix.push((await fixed.check("k", limits)).allowed);
    }
    expect(slid.filter(Boolean)).toHaveLength(3);
    expect(fix.filter(Boolean)).toHaveLength(10);

    // A rejected request consumed nothing: the current minute holds exactly the 3.
    expect(await counter(prefix, "k", "minute", minuteStart + 75_000)).toBe(3);
    // The hour is a sliding window too, over the same 13 requests.
    const decision = await sliding.check("k", limits);
    expect(decision.windows.hour.remaining).toBe(1000 - 13);
  });
});

describe("resilient limiter with Redis unreachable", () => {
  it("answers from memory and reports degraded", async () => {
    const port = await freePort();
    const dead = createRedisClient({
      url: `redis://127.0.0.1:${port}`,
      commandTimeoutMs: 20,
      connectTimeoutMs: 20,
      offlineQueue: false,
    });
    dead.on("error", () => {});
    try {
      const now = futureTime();
      const changes: boolean[] = [];
      const limiter = createResilientLimiter({
        primary: createRedisLimiter({ redis: dead, keyPrefix: newPrefix(), clock: () => now }),
        fallback: createMemoryLimiter({ clock: () => now }),
        timeoutMs: 50,
        clock: () => now,
        onDegradedChange: (degraded) => changes.push(degraded),
      });
      const limits = { ...DEFAULTS, minute: 2 };
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await limiter.check("key-down", limits));
      expect(results.map((d) => d.allowed)).toEqual([true, true, false]);
      expect(results[2]).toMatchObject({ blockedWindow: "minute", retryAfter: 30 });
      expect(limiter.isDegraded()).toBe(true);
      expect(changes).toEqual([true]);
    } finally {
      dead.disconnect();
    }
  });
});
