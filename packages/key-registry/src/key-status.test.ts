import type { KeyChange } from "@apimon/events";
import { keyStatus, registryEntry } from "./key-status";

const NOW = Date.parse("2026-11-27T12:00:00.000Z");

function key(overrides: Partial<KeyChange> = {}): KeyChange {
  return {
    id: 7,
    userId: 3,
    keyHash: "a".repeat(64),
    keyPrefix: "ak_abcdefgh",
    active: true,
    expiresAt: null,
    rateLimits: { minute: null, hour: 500, day: null },
    updatedAt: "2026-11-27T11:00:00.000Z",
    ...overrides,
  };
}

describe("key status at a given time", () => {
  it("reports an unknown hash as unknown", () => {
    expect(keyStatus(undefined, NOW)).toEqual({ status: "unknown" });
  });

  it("reports an active key without expiry as active, with its state", () => {
    const k = key();
    expect(keyStatus(registryEntry(k), NOW)).toEqual({ status: "active", key: k });
  });

  it("reports a deactivated key as inactive (deactivated)", () => {
    const k = key({ active: false });
    expect(keyStatus(registryEntry(k), NOW)).toEqual({ status: "inactive", key: k, reason: "deactivated" });
  });

  it("reports a key as expired from its expiresAt instant on, and active until then", () => {
    const k = key({ expiresAt: new Date(NOW).toISOString() });
    const entry = registryEntry(k);
    expect(keyStatus(entry, NOW - 1)).toEqual({ status: "active", key: k });
    expect(keyStatus(entry, NOW)).toEqual({ status: "inactive", key: k, reason: "expired" });
    expect(keyStatus(entry, NOW + 60_000)).toEqual({ status: "inactive", key: k, reason: "expired" });
  });

  it("ends a rotation grace period by the clock alone: old key until now+grace, new key after", () => {
    const grace = 2000;
    const oldKey = registryEntry(key({ id: 1, expiresAt: new Date(NOW + grace).toISOString() }));
    const newKey = registryEntry(key({ id: 2, keyHash: "b".repeat(64) }));
    expect([keyStatus(oldKey, NOW).status, keyStatus(newKey, NOW).status]).toEqual(["active", "active"]);
    expect([keyStatus(oldKey, NOW + grace).status, keyStatus(newKey, NOW + grace).status]).toEqual([
      "inactive",
      "active",
    ]);
  });

  it("calls a key that is both deactivated and expired deactivated", () => {
    const k = key({ active: false, expiresAt: new Date(NOW - 1000).toISOString() });
    expect(keyStatus(registryEntry(k), NOW)).toMatchObject({ status: "inactive", reason: "deactivated" });
  });
});
