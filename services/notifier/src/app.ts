import { databaseReadiness, type PrismaClient } from "@apimon/db";
import { type AppEnv, createHttpApp } from "@apimon/http";
import { createHealthRoutes, type Logger, type ReadinessCheck, type Registry } from "@apimon/observability";
import type { Hono } from "hono";

export interface AppDeps {
  logger: Logger;
  registry: Registry;
  prisma: Pick<PrismaClient, "$queryRaw">;
  /** Readiness checks besides the database's: one per channel type's consumer. */
  checks?: Record<string, ReadinessCheck>;
  isShuttingDown: () => boolean;
}

/** The notifier's HTTP surface: /healthz, /readyz and /metrics (it serves no API). */
export function createApp({ logger, registry, prisma, checks = {}, isShuttingDown }: AppDeps): Hono<AppEnv> {
  const app = createHttpApp({ logger, registry });
  const database = databaseReadiness(prisma, logger);
  app.route("/", createHealthRoutes({ registry, checks: { database, ...checks }, isShuttingDown }));
  return app;
}
