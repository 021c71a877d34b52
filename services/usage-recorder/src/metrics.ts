import type { Counter, Gauge, Histogram, Registry } from "@apimon/observability";

/**
 * The registry's metric of that name, created on first use: two recorders on one registry
 * (tests, the bench) share series instead of failing on a duplicate name.
 */
export function metric<M extends Counter | Gauge | Histogram>(
  registry: Registry | undefined,
  name: string,
  create: (registers: Registry[]) => M,
): M {
  const existing = registry?.getSingleMetric(name);
  return existing ? (existing as M) : create(registry ? [registry] : []);
}
