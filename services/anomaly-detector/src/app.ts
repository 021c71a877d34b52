import { type AppEnv, createHttpApp } from "@apimon/http";
import { createHealthRoutes, type Logger, type ReadinessCheck, type Registry } from "@apimon/observability";
import type { Hono } from "hono";

export interface AppDeps {
  logger: Logger;
  registry: Registry;
  /** Readiness checks: the consumer (joined, state rebuilt) and the settings source. */
  checks: Record<string, ReadinessCheck>;
  isShuttingDown: () => boolean;
}

/** The detector's HTTP surface: /healthz, /readyz and /metrics. */
export function createApp({ logger, registry, checks, isShuttingDown }: AppDeps): Hono<AppEnv> {
  const app = createHttpApp({ logger, registry, maxBodyBytes: 1024 });
  app.route("/", createHealthRoutes({ registry, checks, isShuttingDown }));
  return app;
}
