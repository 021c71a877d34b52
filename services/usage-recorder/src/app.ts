import { databaseReadiness, type PrismaClient } from "@apimon/db";
import { type AppEnv, createHttpApp } from "@apimon/http";
import { createHealthRoutes, type Logger, type ReadinessCheck, type Registry } from "@apimon/observability";
import type { Hono } from "hono";

export interface AppDeps {
  logger: Logger;
  registry: Registry;
  prisma: PrismaClient;
  /** Readiness checks besides the database's (the consumer's, from main.ts). */
  checks?: Record<string, ReadinessCheck>;
  isShuttingDown: () => boolean;
}

/** The recorder's HTTP side: /healthz, /readyz (database and consumer) and /metrics. */
export function createApp({ logger, registry, prisma, checks = {}, isShuttingDown }: AppDeps): Hono<AppEnv> {
  const app = createHttpApp({ logger, registry, maxBodyBytes: 1024 });
  const database = databaseReadiness(prisma, logger);
  app.route("/", createHealthRoutes({ registry, checks: { database, ...checks }, isShuttingDown }));
  return app;
}
