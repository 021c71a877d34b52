import {
  type Decision,
  decide,
  deniedDetail,
  effectiveLimits,
  type Limits,
  rateLimitExceededMessage,
  rateLimitHeaders,
  secondsUntilReset,
  unavailableDecision,
  windowEndMs,
  windowStartMs,
} from "./rate-limit";

const DEFAULTS: Limits = { minute: 100, hour: 1000, day: 10000 };
// 2026-03-04T10:20:30.250Z: 29.75 s left in the minute, 39:29.75 in the hour, 13:39:29.75 in the day.
const NOW = Date.parse("2026-03-04T10:20:30.250Z");

describe("effectiveLimits", () => {
  it("takes each override that is set and the default for null or missing", () => {
    expect(effectiveLimits(DEFAULTS, { minute: 5, hour: null })).toEqual({
      minute: 5,
      hour: 1000,
      day: 10000,
    });
    expect(effectiveLimits(DEFAULTS, null)).toEqual(DEFAULTS);
    expect(effectiveLimits(DEFAULTS, undefined)).toEqual(DEFAULTS);
    expect(effectiveLimits(DEFAULTS, { minute: null, hour: null, day: 7 })).toEqual({
      minute: 100,
      hour: 1000,
      day: 7,
    });
  });
});

describe("clock-aligned fixed windows", () => {
  it("starts each window at floor(now / size) * size", () => {
    expect(new Date(windowStartMs("minute", NOW)).toISOString()).toBe("2026-03-04T10:20:00.000Z");
    expect(new Date(windowStartMs("hour", NOW)).toISOString()).toBe("2026-03-04T10:00:00.000Z");
    expect(new Date(windowStartMs("day", NOW)).toISOString()).toBe("2026-03-04T00:00:00.000Z");
    expect(new Date(windowEndMs("minute", NOW)).toISOString()).toBe("2026-03-04T10:21:00.000Z");
  });

  it("rounds the seconds until reset up, never below 1, and a full window at its start", () => {
    expect(secondsUntilReset("minute", NOW)).toBe(30);
    expect(secondsUntilReset("hour", NOW)).toBe(39 * 60 + 30);
    expect(secondsUntilReset("day", NOW)).toBe(13 * 3600 + 39 * 60 + 30);
    const boundary = Date.parse("2026-03-04T10:21:00.000Z");
    expect(secondsUntilReset("minute", boundary)).toBe(60);
    expect(secondsUntilReset("minute", boundary - 1)).toBe(1);
    expect(secondsUntilReset("day", Date.parse("2026-03-05T00:00:00.000Z"))).toBe(86_400);
  });
});

describe("decide", () => {
  /** The windows a decision under DEFAULTS reports at NOW, given what remains in each. */
  const windowsAtNow = (minute: number, hour: number, day: number) => ({
    minute: { limit: 100, remaining: minute, reset: 30 },
    hour: { limit: 1000, remaining: hour, reset: 2370 },
    day: { limit: 10000, remaining: day, reset: 49170 },
  });

  it("allows when every window is below its limit and counts the request in all three", () => {
    const decision = decide(DEFAULTS, { minute: 4, hour: 49, day: 499 }, NOW);
    expect(decision).toEqual({ allowed: true, windows: windowsAtNow(95, 950, 9500) });
  });

  it("allows the last request of a window and leaves remaining at 0", () => {
    const decision = decide(DEFAULTS, { minute: 99, hour: 99, day: 99 }, NOW);
    expect(decision.allowed).toBe(true);
    expect(decision.windows.minute.remaining).toBe(0);
  });

  it("denies when one window is exhausted, consuming nothing", () => {
    const decision = decide(DEFAULTS, { minute: 100, hour: 300, day: 300 }, NOW);
    expect(decision).toEqual({
      allowed: false,
      blockedWindow: "minute",
      retryAfter: 30,
      windows: windowsAtNow(0, 700, 9700),
    });
  });

  it("names the exhausted window whose reset is furthest away", () => {
    const minuteAndHour = decide(DEFAULTS, { minute: 100, hour: 1000, day: 5000 }, NOW);
    expect(minuteAndHour.blockedWindow).toBe("hour");
    expect(minuteAndHour.retryAfter).toBe(2370);
    const all = decide(DEFAULTS, { minute: 100, hour: 1000, day: 10000 }, NOW);
    expect(all.blockedWindow).toBe("day");
    expect(all.retryAfter).toBe(49170);
    // Only the day is exhausted: the minute's earlier reset would not help.
    const dayOnly = decide(DEFAULTS, { minute: 3, hour: 3, day: 10000 }, NOW);
    expect(dayOnly.blockedWindow).toBe("day");
  });

  it("treats a counter above its limit (a lowered override) as exhausted", () => {
    const decision = decide({ minute: 5, hour: 1000, day: 10000 }, { minute: 50, hour: 50, day: 50 }, NOW);
    expect(decision.allowed).toBe(false);
    expect(decision.windows.minute.remaining).toBe(0);
  });
});

describe("the 429 body", () => {
  it("is the spec's text exactly", () => {
    expect(rateLimitExceededMessage("minute", 60)).toBe(
      "Rate limit exceeded for minute. Try again in 60 seconds",
    );
    const denied = decide(DEFAULTS, { minute: 100, hour: 1000, day: 1 }, NOW);
    expect(deniedDetail(denied)).toBe("Rate limit exceeded for hour. Try again in 2370 seconds");
  });

  it("refuses an allowed decision", () => {
    expect(() => deniedDetail(decide(DEFAULTS, { minute: 0, hour: 0, day: 0 }, NOW))).toThrow();
  });
});

describe("rateLimitHeaders", () => {
  it("sends the spec's headers and the IETF draft fields on an allowed response", () => {
    const headers = rateLimitHeaders(decide(DEFAULTS, { minute: 4, hour: 49, day: 499 }, NOW));
    expect(headers).toEqual({
      "X-RateLimit-Minute-Limit": "100",
      "X-RateLimit-Minute-Remaining": "95",
      "X-RateLimit-Minute-Reset": "30",
      "X-RateLimit-Hour-Limit": "1000",
      "X-RateLimit-Hour-Remaining": "950",
      "X-RateLimit-Hour-Reset": "2370",
      "X-RateLimit-Day-Limit": "10000",
      "X-RateLimit-Day-Remaining": "9500",
      "X-RateLimit-Day-Reset": "49170",
      "RateLimit-Policy": '"minute";q=100;w=60, "hour";q=1000;w=3600, "day";q=10000;w=86400',
      RateLimit: '"minute";r=95;t=30',
    });
    // The order on the wire: the spec's fields per window, then the draft's.
    expect(Object.keys(headers)).toEqual([
      ...["Minute", "Hour", "Day"].flatMap((w) =>
        ["Limit", "Remaining", "Reset"].map((f) => `X-RateLimit-${w}-${f}`),
      ),
      "RateLimit-Policy",
      "RateLimit",
    ]);
  });

  it("points RateLimit at the window with the fewest remaining", () => {
    const headers = rateLimitHeaders(decide(DEFAULTS, { minute: 0, hour: 998, day: 998 }, NOW));
    expect(headers.RateLimit).toBe('"hour";r=1;t=2370');
  });

  it("adds Retry-After on a 429 and describes the blocking window", () => {
    const headers = rateLimitHeaders(decide(DEFAULTS, { minute: 100, hour: 1000, day: 1000 }, NOW));
    expect(headers["Retry-After"]).toBe("2370");
    expect(headers.RateLimit).toBe('"hour";r=0;t=2370');
    expect(headers["X-RateLimit-Minute-Remaining"]).toBe("0");
  });

  it("uses per-key limits in every field", () => {
    const limits = effectiveLimits(DEFAULTS, { minute: 5 });
    const headers = rateLimitHeaders(decide(limits, { minute: 0, hour: 0, day: 0 }, NOW));
    expect(headers["X-RateLimit-Minute-Limit"]).toBe("5");
    expect(headers["RateLimit-Policy"]).toBe(
      '"minute";q=5;w=60, "hour";q=1000;w=3600, "day";q=10000;w=86400',
    );
  });

  it("gives each key its own limits when keys with different limits alternate", () => {
    const tiers = [
      DEFAULTS,
      effectiveLimits(DEFAULTS, { hour: 7 }),
      effectiveLimits(DEFAULTS, { day: 9 }),
      effectiveLimits(DEFAULTS, { minute: 5 }),
    ];
    for (const limits of [...tiers, ...tiers]) {
      const headers = rateLimitHeaders(decide(limits, { minute: 0, hour: 0, day: 0 }, NOW));
      expect(headers).toMatchObject({
        "X-RateLimit-Minute-Limit": String(limits.minute),
        "X-RateLimit-Hour-Limit": String(limits.hour),
        "X-RateLimit-Day-Limit": String(limits.day),
        "RateLimit-Policy": `"minute";q=${limits.minute};w=60, "hour";q=${limits.hour};w=3600, "day";q=${limits.day};w=86400`,
      });
    }
  });
});

describe("unavailableDecision", () => {
  it("denies as unavailable with a short Retry-After and no blocking window", () => {
    const decision: Decision = unavailableDecision(DEFAULTS, NOW);
    expect(decision).toMatchObject({ allowed: false, unavailable: true, retryAfter: 1 });
    expect(decision.blockedWindow).toBeUndefined();
    expect(rateLimitHeaders(decision)["Retry-After"]).toBe("1");
  });
});
