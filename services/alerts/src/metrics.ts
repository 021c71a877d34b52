import { Counter, type Registry } from "@apimon/observability";

/** The registry's counter of that name, created on first use (several parts may share one). */
export function counter(
  registry: Registry | undefined,
  name: string,
  help: string,
  labelNames: string[] = [],
): Counter {
  const existing = registry?.getSingleMetric(name);
  if (existing) return existing as Counter;
  return new Counter({ name, help, labelNames, registers: registry ? [registry] : [] });
}
