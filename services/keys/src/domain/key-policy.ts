import type { RateLimitWindow } from "@apimon/config";
import { type KeyState, keyStateAt } from "@apimon/key-registry";

/** The longest grace period a rotation may give the old key: 30 days. */
export const MAX_GRACE_SECONDS = 30 * 86_400;

export type RateLimits = Record<RateLimitWindow, number>;

/** A key's per-window overrides as stored: null means "the default". */
export interface RateLimitOverrides {
  rateLimitMinute: number | null;
  rateLimitHour: number | null;
  rateLimitDay: number | null;
}

/** The limits the edge enforces for a key: each window's override, else the default. */
export function effectiveRateLimits(key: RateLimitOverrides, defaults: RateLimits): RateLimits {
  return {
    minute: key.rateLimitMinute ?? defaults.minute,
    hour: key.rateLimitHour ?? defaults.hour,
    day: key.rateLimitDay ?? defaults.day,
  };
}

/** What the edge does with a key at `now`, by the edge's own rule. */
export function keyState(key: { isActive: boolean; expiresAt: Date | null }, now: Date): KeyState {
  return keyStateAt(key.isActive, key.expiresAt === null ? null : key.expiresAt.getTime(), now.getTime());
}

/** Whether the edge accepts a key at `now`. */
export function isKeyUsable(key: { isActive: boolean; expiresAt: Date | null }, now: Date): boolean {
  return keyState(key, now) === "active";
}

/**
 * When a rotated key stops working: after the grace period, unless it was due to expire
 * sooner anyway (rotation never extends a key's life).
 */
export function expiryAfterRotation(current: Date | null, now: Date, graceSeconds: number): Date {
  const graceEnd = new Date(now.getTime() + graceSeconds * 1000);
  return current !== null && current.getTime() < graceEnd.getTime() ? current : graceEnd;
}
