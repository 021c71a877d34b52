import type { KeyRegistry } from "@apimon/key-registry";
import type { ReadinessCheck } from "@apimon/observability";

/**
 * The edge's key-table readiness: loaded, still following keys.changes.v1, and not further
 * behind it than `maxLagMs`. A stale table would keep accepting keys that were deactivated or
 * whose limits were lowered, so an edge that has lost the topic for too long leaves the pool.
 */
export function registryReadiness({
  keys,
  maxLagMs,
}: {
  keys: Pick<KeyRegistry, "isReady" | "size" | "lagMs">;
  maxLagMs: number;
}): ReadinessCheck {
  return () => {
    const lagMs = keys.lagMs();
    const current = lagMs !== null && lagMs <= maxLagMs;
    return { ok: keys.isReady() && current, detail: { keys: keys.size(), lagMs, maxLagMs } };
  };
}
