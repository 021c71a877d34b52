import { backoffDelayMs, parseRetryAfter, retryDelayMs } from "./backoff";

const policy = { baseMs: 500, capMs: 30_000 };
const now = new Date("2026-11-27T12:00:00.000Z");

describe("retry backoff", () => {
  it("doubles the ceiling per attempt from the base and jitters over the whole interval", () => {
    expect([1, 2, 3, 4].map((a) => backoffDelayMs(a, policy, () => 0.999999))).toEqual([
      499, 999, 1999, 3999,
    ]);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(1000);
  });

  it("never waits longer than the cap, however many attempts", () => {
    expect(backoffDelayMs(7, policy, () => 0.999999)).toBe(29_999);
    expect(backoffDelayMs(60, policy, () => 0.999999)).toBe(29_999);
  });

  it("waits at least as long as Retry-After asks, up to the cap", () => {
    expect(retryDelayMs(1, policy, 5000, () => 0.5)).toBe(5000);
    // The jittered backoff wins when it is longer than what the receiver asked for.
    expect(retryDelayMs(5, policy, 1000, () => 0.5)).toBe(4000);
    expect(retryDelayMs(1, policy, 3_600_000, () => 0.5)).toBe(30_000);
    expect(retryDelayMs(1, policy, undefined, () => 0.5)).toBe(250);
  });
});

describe("Retry-After", () => {
  it("reads delay-seconds", () => {
    expect(parseRetryAfter("1", now)).toBe(1000);
    expect(parseRetryAfter(" 120 ", now)).toBe(120_000);
    expect(parseRetryAfter("0", now)).toBe(0);
  });

  it("reads an HTTP-date, and a date in the past as no wait", () => {
    expect(parseRetryAfter("Fri, 27 Nov 2026 12:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Fri, 27 Nov 2026 11:00:00 GMT", now)).toBe(0);
  });

  it("ignores an absent or unreadable value", () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("", now)).toBeUndefined();
    expect(parseRetryAfter("-5", now)).toBeUndefined();
    expect(parseRetryAfter("1.5", now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });
});
