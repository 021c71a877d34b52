import { type AppEnv, createHttpApp } from "@apimon/http";
import { createHealthRoutes, type Logger, type Registry } from "@apimon/observability";
import type { Hono } from "hono";
import { createDemoRoutes } from "./routes/demo";

export interface AppDeps {
  logger: Logger;
  registry: Registry;
  slowMs: number;
  isShuttingDown: () => boolean;
}

/** The demo upstream: health, metrics and the demo API. */
export function createApp({ logger, registry, slowMs, isShuttingDown }: AppDeps): Hono<AppEnv> {
  // Uploads to /api/echo are streamed, so a large limit costs no memory.
  const app = createHttpApp({ logger, registry, maxBodyBytes: 512 * 1024 * 1024 });
  app.route("/", createHealthRoutes({ registry, isShuttingDown }));
  app.route("/", createDemoRoutes({ slowMs }));
  return app;
}
