import { createHealthRoutes, type ReadinessCheck, type Registry } from "@apimon/observability";
import { Hono } from "hono";

export interface ControlAppDeps {
  registry: Registry;
  checks: Record<string, ReadinessCheck>;
  isShuttingDown: () => boolean;
}

/** The edge's admin endpoints, on their own port: /healthz, /readyz with every check, /metrics. */
export function createControlApp({ registry, checks, isShuttingDown }: ControlAppDeps): Hono {
  const app = new Hono();
  app.route("/", createHealthRoutes({ registry, checks, isShuttingDown }));
  return app;
}
