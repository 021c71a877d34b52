import { makeKeyChange } from "@apimon/testkit";
import { keyStatus, registryEntry } from "./key-status";

const NOW = Date.parse("2026-11-27T12:00:00.000Z");

describe("key status at a given time", () => {
  it("reports an unknown hash as unknown", () => {
    expect(keyStatus(undefined, NOW)).toEqual({ status: "unknown" });
  });

  it("reports an active key without expiry as active, with its state", () => {
    const k = makeKeyChange();
    expect(keyStatus(registryEntry(k), NOW)).toEqual({ status: "active", key: k });
  });

  it("reports a deactivated key as inactive (deactivated)", () => {
    const k = makeKeyChange({ active: false });
    expect(keyStatus(registryEntry(k), NOW)).toEqual({ status: "inactive", key: k, reason: "deactivated" });
  });

  it("reports a key as expired from its expiresAt instant on, and active until then", () => {
    const k = makeKeyChange({ expiresAt: new Date(NOW).toISOString() });
    const entry = registryEntry(k);
    expect(keyStatus(entry, NOW - 1)).toEqual({ status: "active", key: k });
    expect(keyStatus(entry, NOW)).toEqual({ status: "inactive", key: k, reason: "expired" });
    expect(keyStatus(entry, NOW + 60_000)).toEqual({ status: "inactive", key: k, reason: "expired" });
  });

  it("ends a rotation grace period by the clock alone: old key until now+grace, new key after", () => {
    const grace = 2000;
    const oldKey = registryEntry(makeKeyChange({ id: 1, expiresAt: new Date(NOW + grace).toISOString() }));
    const newKey = registryEntry(makeKeyChange({ id: 2, keyHash: "b".repeat(64) }));
    expect([keyStatus(oldKey, NOW).status, keyStatus(newKey, NOW).status]).toEqual(["active", "active"]);
    expect([keyStatus(oldKey, NOW + grace).status, keyStatus(newKey, NOW + grace).status]).toEqual([
      "inactive",
      "active",
    ]);
  });

  it("calls a key that is both deactivated and expired deactivated", () => {
    const k = makeKeyChange({ active: false, expiresAt: new Date(NOW - 1000).toISOString() });
    expect(keyStatus(registryEntry(k), NOW)).toMatchObject({ status: "inactive", reason: "deactivated" });
  });
});
