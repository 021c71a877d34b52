import type { KeyRegistry } from "@apimon/key-registry";
import type { ReadinessCheck } from "@apimon/observability";

/**
 * The edge's key-table readiness: loaded, and not further behind keys.changes.v1 than
 * `maxLagMs`. A stale table would keep accepting keys that were deactivated or whose limits were
 * lowered, so an edge that has lost the topic for too long leaves the pool. Lag, not the
 * consumer's state, is the measure: a broker restart interrupts every edge's consumer at once,
 * and readiness failing on that alone would take every edge out of the pool together while
 * their tables are still current. `following` in the detail says whether the consumer is
 * running in its group right now, for whoever reads /readyz during such an interruption.
 */
export function registryReadiness({
  keys,
  maxLagMs,
}: {
  keys: Pick<KeyRegistry, "isLoaded" | "isFollowing" | "size" | "lagMs">;
  maxLagMs: number;
}): ReadinessCheck {
  return () => {
    const lagMs = keys.lagMs();
    const current = lagMs !== null && lagMs <= maxLagMs;
    return {
      ok: keys.isLoaded() && current,
      detail: { keys: keys.size(), lagMs, maxLagMs, following: keys.isFollowing() },
    };
  };
}
