import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export { Counter, Gauge, Histogram, Registry } from "prom-client";

/** A Prometheus registry with process metrics and a `service` label on every series. */
export function createMetricsRegistry(service: string, { defaultMetrics = true } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (defaultMetrics) collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * The registry's metric of that name, created on first use: several parts (two clients, two
 * recorders in one test or bench) share its series instead of failing on a duplicate name.
 * Without a registry the metric is created unregistered.
 */
export function metric<M extends Counter | Gauge | Histogram>(
  registry: Registry | undefined,
  name: string,
  create: (registers: Registry[]) => M,
): M {
  const existing = registry?.getSingleMetric(name);
  return existing ? (existing as M) : create(registry ? [registry] : []);
}

/** {@link metric} for the common case: a counter with a help text and labels. */
export function counter<L extends string = string>(
  registry: Registry | undefined,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Counter<L> {
  return metric(registry, name, (registers) => new Counter<L>({ name, help, labelNames, registers }));
}

/** {@link metric} for the common case: a gauge with a help text and labels. */
export function gauge<L extends string = string>(
  registry: Registry | undefined,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Gauge<L> {
  return metric(registry, name, (registers) => new Gauge<L>({ name, help, labelNames, registers }));
}

/** {@link metric} for the common case: a histogram with a help text, buckets and labels. */
export function histogram<L extends string = string>(
  registry: Registry | undefined,
  name: string,
  help: string,
  buckets: number[],
  labelNames: readonly L[] = [],
): Histogram<L> {
  return metric(
    registry,
    name,
    (registers) => new Histogram<L>({ name, help, buckets, labelNames, registers }),
  );
}
