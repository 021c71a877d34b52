import { createHealthRoutes, type ReadinessCheck, type Registry } from "@apimon/observability";
import { Hono } from "hono";

export interface ControlAppDeps {
  registry: Registry;
  checks: Record<string, ReadinessCheck>;
  isShuttingDown: () => boolean;
}

/** The edge's own endpoints: /healthz, /readyz, /metrics. Everything else is proxied. */
export function createControlApp({ registry, checks, isShuttingDown }: ControlAppDeps): Hono {
  const app = new Hono();
  app.route("/", createHealthRoutes({ registry, checks, isShuttingDown }));
  return app;
}
