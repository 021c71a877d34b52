import type { ApiKey, User } from "@apimon/db";
import { effectiveRateLimits, type RateLimits } from "./domain/key-policy";

// What the API answers: camelCase, ISO-8601 UTC times, and never the key material
// (the plaintext key is added only by the create and rotate handlers; the hash never leaves).

const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());

export function userView(user: User) {
  return { id: user.id, email: user.email, name: user.name, createdAt: user.createdAt.toISOString() };
}

/** The fields answered with a new key (creation and rotation). */
export function keySummaryView(key: ApiKey, defaults: RateLimits) {
  return {
    id: key.id,
    userId: key.userId,
    name: key.name,
    description: key.description,
    prefix: key.keyPrefix,
    isActive: key.isActive,
    rateLimits: effectiveRateLimits(key, defaults),
    expiresAt: iso(key.expiresAt),
    createdAt: key.createdAt.toISOString(),
  };
}

/** A key with its usage and history, as reads and updates answer it. */
export function keyView(key: ApiKey, defaults: RateLimits) {
  return {
    ...keySummaryView(key, defaults),
    // A count beyond 2^53 would take millennia at any plausible rate; JSON numbers suffice.
    usageCount: Number(key.usageCount),
    lastUsed: iso(key.lastUsed),
    rotatedFromId: key.rotatedFromId,
    updatedAt: key.updatedAt.toISOString(),
  };
}
