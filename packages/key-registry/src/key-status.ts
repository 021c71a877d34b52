import type { KeyChange } from "@apimon/events";

/** What the edge does with a key now: accepts it, or refuses it as deactivated or as expired. */
export const KEY_STATES = ["active", "deactivated", "expired"] as const;
export type KeyState = (typeof KEY_STATES)[number];

/**
 * The edge's rule, which the keys service also answers with: deactivation wins over expiry, and a
 * key expires at its `expiresAt` instant (inclusive), with no event. That is also how a rotated
 * key's grace period ends, since rotation gives the old key `expiresAt = now + grace`.
 */
export function keyStateAt(active: boolean, expiresAtMs: number | null, nowMs: number): KeyState {
  if (!active) return "deactivated";
  return expiresAtMs !== null && expiresAtMs <= nowMs ? "expired" : "active";
}

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

/** A key's status at `nowMs`, by `keyStateAt`. */
export function keyStatus(entry: RegistryEntry | undefined, nowMs: number): LookupResult {
  if (entry === undefined) return UNKNOWN;
  const state = keyStateAt(entry.key.active, entry.expiresAtMs, nowMs);
  return state === "active"
    ? { status: "active", key: entry.key }
    : { status: "inactive", key: entry.key, reason: state };
}
