import { RATE_LIMITS } from "@apimon/config";
import { effectiveRateLimits, expiryAfterRotation, isKeyUsable } from "./key-policy";

describe("effective rate limits", () => {
  it("uses the spec's defaults for a key without overrides", () => {
    expect(
      effectiveRateLimits({ rateLimitMinute: null, rateLimitHour: null, rateLimitDay: null }, RATE_LIMITS),
    ).toEqual({ minute: 100, hour: 1000, day: 10000 });
  });

  it("takes each window's override on its own", () => {
    expect(
      effectiveRateLimits({ rateLimitMinute: 5, rateLimitHour: null, rateLimitDay: 20_000 }, RATE_LIMITS),
    ).toEqual({ minute: 5, hour: 1000, day: 20_000 });
  });
});

describe("key usability", () => {
  const now = new Date("2026-11-28T12:00:00.000Z");

  it("accepts an active key without expiry or expiring later", () => {
    expect(isKeyUsable({ isActive: true, expiresAt: null }, now)).toBe(true);
    expect(isKeyUsable({ isActive: true, expiresAt: new Date("2026-11-28T12:00:00.001Z") }, now)).toBe(true);
  });

  it("refuses an inactive key and a key expiring now or earlier", () => {
    expect(isKeyUsable({ isActive: false, expiresAt: null }, now)).toBe(false);
    expect(isKeyUsable({ isActive: true, expiresAt: now }, now)).toBe(false);
    expect(isKeyUsable({ isActive: true, expiresAt: new Date("2026-01-01T00:00:00Z") }, now)).toBe(false);
  });
});

describe("expiry after rotation", () => {
  const now = new Date("2026-11-28T12:00:00.000Z");

  it("ends the old key's life after the grace period", () => {
    expect(expiryAfterRotation(null, now, 3600)).toEqual(new Date("2026-11-28T13:00:00.000Z"));
    expect(expiryAfterRotation(new Date("2027-01-01T00:00:00Z"), now, 3600)).toEqual(
      new Date("2026-11-28T13:00:00.000Z"),
    );
  });

  it("never extends a key that expires before the grace period ends", () => {
    const soon = new Date("2026-11-28T12:10:00.000Z");
    expect(expiryAfterRotation(soon, now, 3600)).toBe(soon);
  });

  it("ends it at once with no grace", () => {
    expect(expiryAfterRotation(null, now, 0)).toEqual(now);
  });
});
