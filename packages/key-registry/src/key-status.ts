import type { KeyChange } from "@apimon/events";

/** What the registry knows about a key hash at one instant. */
export type LookupResult =
  | { status: "active"; key: KeyChange }
  | { status: "inactive"; key: KeyChange; reason: "deactivated" | "expired" }
  | { status: "unknown" };

/** A key's latest state with its expiry parsed once, so a lookup costs one comparison. */
export interface RegistryEntry {
  key: KeyChange;
  /** ms since the epoch; null = never expires. */
  expiresAtMs: number | null;
}

/** The table entry for a key state read from keys.changes.v1. */
export function registryEntry(key: KeyChange): RegistryEntry {
  return { key, expiresAtMs: key.expiresAt === null ? null : Date.parse(key.expiresAt) };
}

const UNKNOWN: LookupResult = { status: "unknown" };

/**
 * A key's status at `nowMs`. Deactivation wins over expiry. A key expires at its `expiresAt`
 * instant (inclusive), with no event: that is also how a rotated key's grace period ends, since
 * rotation gives the old key `expiresAt = now + grace`.
 */
export function keyStatus(entry: RegistryEntry | undefined, nowMs: number): LookupResult {
  if (entry === undefined) return UNKNOWN;
  if (!entry.key.active) return { status: "inactive", key: entry.key, reason: "deactivated" };
  if (entry.expiresAtMs !== null && entry.expiresAtMs <= nowMs) {
    return { status: "inactive", key: entry.key, reason: "expired" };
  }
  return { status: "active", key: entry.key };
}
