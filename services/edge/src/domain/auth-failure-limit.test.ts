import { createAuthFailureLimit } from "./auth-failure-limit";

const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);
const endpoint = "/api/users";

describe("failed authentications per IP and minute", () => {
  it("refuses an IP once it used up its failures, counting the refusals into one summary", () => {
    const limit = createAuthFailureLimit({ perMinute: 3 });
    for (let i = 0; i < 3; i++) {
      expect(limit.refuses("10.0.0.1", T0 + i, endpoint, "GET")).toBe(false);
      limit.failed("10.0.0.1", T0 + i);
    }
    for (let i = 0; i < 5; i++) expect(limit.refuses("10.0.0.1", T0 + 100, endpoint, "POST")).toBe(true);
    expect(limit.refuses("10.0.0.2", T0 + 100, endpoint, "GET")).toBe(false);
    expect(limit.takeEnded(T0 + 59_999)).toEqual([]);
    expect(limit.takeEnded(T0 + 60_000)).toEqual([
      { clientIp: "10.0.0.1", minuteStartMs: T0, refused: 5, path: "/api/users", method: "POST" },
    ]);
    expect(limit.takeEnded(T0 + 120_000)).toEqual([]);
    expect(limit.size()).toBe(0);
  });

  it("counts an IPv6 client's addresses together by their /64", () => {
    const limit = createAuthFailureLimit({ perMinute: 3 });
    for (let i = 1; i <= 3; i++) {
      const address = `2001:db8:0:12:${i}::1`;
      expect(limit.refuses(address, T0 + i, endpoint, "GET")).toBe(false);
      limit.failed(address, T0 + i);
    }
    expect(limit.refuses("2001:db8:0:12:ffff::9", T0 + 10, endpoint, "GET")).toBe(true);
    expect(limit.refuses("2001:db8:0:13::1", T0 + 10, endpoint, "GET")).toBe(false);
    expect(limit.takeEnded(T0 + 60_000)).toEqual([
      { clientIp: "2001:db8:0:12::/64", minuteStartMs: T0, refused: 1, path: "/api/users", method: "GET" },
    ]);
  });

  it("starts every minute afresh", () => {
    const limit = createAuthFailureLimit({ perMinute: 1 });
    limit.failed("10.0.0.1", T0);
    expect(limit.refuses("10.0.0.1", T0 + 1, endpoint, "GET")).toBe(true);
    expect(limit.refuses("10.0.0.1", T0 + 60_000, endpoint, "GET")).toBe(false);
    limit.failed("10.0.0.1", T0 + 60_000);
    // The earlier minute's refusal is still reported.
    expect(limit.takeEnded(T0 + 60_001)).toEqual([
      { clientIp: "10.0.0.1", minuteStartMs: T0, refused: 1, path: "/api/users", method: "GET" },
    ]);
  });

  it("forgets the least recently failing IP past its bound, keeping its summary", () => {
    const limit = createAuthFailureLimit({ perMinute: 1, maxIps: 2 });
    limit.failed("10.0.0.1", T0);
    expect(limit.refuses("10.0.0.1", T0, endpoint, "GET")).toBe(true);
    limit.failed("10.0.0.2", T0);
    limit.failed("10.0.0.3", T0);
    expect(limit.size()).toBe(2);
    expect(limit.refuses("10.0.0.1", T0, endpoint, "GET")).toBe(false);
    expect(limit.takeEnded(T0 + 1).map((s) => [s.clientIp, s.refused])).toEqual([["10.0.0.1", 1]]);
  });
});
