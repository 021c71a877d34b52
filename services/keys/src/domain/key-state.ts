import type { ApiKey } from "@apimon/db";
import type { KeyChange } from "@apimon/events";

/** A key's state as the registry topic carries it: everything the edge needs, nothing secret. */
export function keyChangeOf(key: ApiKey): KeyChange {
  return {
    id: key.id,
    userId: key.userId,
    keyHash: key.keyHash,
    keyPrefix: key.keyPrefix,
    active: key.isActive,
    expiresAt: key.expiresAt ? key.expiresAt.toISOString() : null,
    rateLimits: { minute: key.rateLimitMinute, hour: key.rateLimitHour, day: key.rateLimitDay },
    updatedAt: key.updatedAt.toISOString(),
  };
}
