import { Counter, Gauge, Histogram, type Registry } from "@apimon/observability";

type Metric = Counter | Gauge | Histogram;

/** Returns the registry's metric of that name, creating it once; several clients share series. */
export function metric<M extends Metric>(
  registry: Registry | undefined,
  name: string,
  create: (registers: Registry[]) => M,
): M {
  const existing = registry?.getSingleMetric(name);
  if (existing) return existing as M;
  return create(registry ? [registry] : []);
}

export { Counter, Gauge, Histogram };
