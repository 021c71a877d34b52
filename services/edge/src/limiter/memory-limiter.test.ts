import type { Limits } from "../domain/rate-limit";
import { createMemoryLimiter } from "./memory-limiter";

const LIMITS: Limits = { minute: 3, hour: 5, day: 100 };
const START = Date.parse("2026-03-04T10:20:30.000Z");

function fakeClock(start = START) {
  let now = start;
  return {
    clock: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    set: (ms: number) => {
      now = ms;
    },
  };
}

describe("memory limiter", () => {
  it("allows up to the limit, then denies without consuming", async () => {
    const { clock } = fakeClock();
    const limiter = createMemoryLimiter({ clock });
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await limiter.check("k1", LIMITS));
    expect(results.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
    expect(results[2]?.windows.hour.remaining).toBe(2);
    // The denied requests did not count in the hour.
    expect(results[4]?.windows.hour.remaining).toBe(2);
    expect(results[4]).toMatchObject({ blockedWindow: "minute", retryAfter: 30 });
  });

  it("decides without counting when asked not to count", async () => {
    const limiter = createMemoryLimiter({ clock: fakeClock().clock });
    await limiter.check("k1", LIMITS);
    const uncounted = await limiter.check("k1", LIMITS, { count: false });
    expect(uncounted.allowed).toBe(true);
    expect(uncounted.windows.minute.remaining).toBe(2);
    expect((await limiter.check("k1", LIMITS)).windows.minute.remaining).toBe(1);
    await limiter.check("k1", LIMITS);
    expect(await limiter.check("k1", LIMITS, { count: false })).toMatchObject({
      allowed: false,
      blockedWindow: "minute",
    });
  });

  it("counts each API key on its own", async () => {
    const limiter = createMemoryLimiter({ clock: fakeClock().clock });
    for (let i = 0; i < 3; i++) await limiter.check("a", LIMITS);
    expect((await limiter.check("a", LIMITS)).allowed).toBe(false);
    expect((await limiter.check("b", LIMITS)).allowed).toBe(true);
  });

  it("starts a new minute at the boundary while the hour keeps counting", async () => {
    const time = fakeClock();
    const limiter = createMemoryLimiter({ clock: time.clock });
    for (let i = 0; i < 3; i++) await limiter.check("k", LIMITS);
    expect((await limiter.check("k", LIMITS)).allowed).toBe(false);
    time.set(Date.parse("2026-03-04T10:21:00.000Z"));
    const next = await limiter.check("k", LIMITS);
    expect(next.allowed).toBe(true);
    expect(next.windows.minute).toEqual({ limit: 3, remaining: 2, reset: 60 });
    expect(next.windows.hour.remaining).toBe(1);
    await limiter.check("k", LIMITS);
    const hourOut = await limiter.check("k", LIMITS);
    expect(hourOut).toMatchObject({ allowed: false, blockedWindow: "hour", retryAfter: 39 * 60 });
  });

  it("stays bounded, dropping the least recently used key", async () => {
    const limiter = createMemoryLimiter({ clock: fakeClock().clock, maxKeys: 2 });
    await limiter.check("a", LIMITS);
    await limiter.check("b", LIMITS);
    await limiter.check("a", LIMITS);
    await limiter.check("c", LIMITS);
    expect(limiter.size()).toBe(2);
    // "b" was dropped and starts over; "a" kept its two requests.
    expect((await limiter.check("a", LIMITS)).windows.minute.remaining).toBe(0);
  });

  it("forgets keys whose day has ended", async () => {
    const time = fakeClock();
    const limiter = createMemoryLimiter({ clock: time.clock });
    await limiter.check("a", LIMITS);
    await limiter.check("b", LIMITS);
    time.set(Date.parse("2026-03-05T00:00:01.000Z"));
    const fresh = await limiter.check("c", LIMITS);
    expect(limiter.size()).toBe(1);
    expect(fresh.windows.day.remaining).toBe(99);
  });
});
