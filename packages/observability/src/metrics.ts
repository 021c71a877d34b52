import { collectDefaultMetrics, Registry } from "prom-client";

export { Counter, Gauge, Histogram, Registry } from "prom-client";

/** A Prometheus registry with process metrics and a `service` label on every series. */
export function createMetricsRegistry(service: string, { defaultMetrics = true } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (defaultMetrics) collectDefaultMetrics({ register: registry });
  return registry;
}
