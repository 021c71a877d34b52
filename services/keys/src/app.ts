import { databaseReadiness, type PrismaClient } from "@apimon/db";
import { type AppEnv, createHttpApp, requireAdminToken } from "@apimon/http";
import { createHealthRoutes, type Logger, type ReadinessCheck, type Registry } from "@apimon/observability";
import { Hono } from "hono";
import type { RateLimits } from "./domain/key-policy";
import { toHttpError } from "./errors";
import { openApiDocument } from "./openapi";
import { createKeyRoutes } from "./routes/keys";
import { createUsageRoutes } from "./routes/usage";
import { createUserRoutes } from "./routes/users";
import { createUsageQueries } from "./usage-queries";

/** Admin requests are small JSON documents; anything bigger is refused before it is read. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface AppDeps {
  logger: Logger;
  registry: Registry;
  prisma: PrismaClient;
  config: {
    adminToken: string;
    keyHashSecret: string;
    /** Default grace period of a rotation. */
    graceSeconds: number;
    /** Limits of a window without a per-key override. */
    defaults: RateLimits;
  };
  clock?: () => Date;
  /** Readiness checks besides the database's (the outbox relay's, from main.ts). */
  checks?: Record<string, ReadinessCheck>;
  isShuttingDown: () => boolean;
}

/** The keys service: the admin API under /api/v1, plus health, metrics and the OpenAPI document. */
export function createApp({
  logger,
  registry,
  prisma,
  config,
  clock = () => new Date(),
  checks = {},
  isShuttingDown,
}: AppDeps): Hono<AppEnv> {
  const app = createHttpApp({ logger, registry, maxBodyBytes: MAX_BODY_BYTES });

  const database = databaseReadiness(prisma, logger);
  app.route("/", createHealthRoutes({ registry, checks: { database, ...checks }, isShuttingDown }));
  app.get("/openapi.json", (c) => c.json(openApiDocument));

  const api = new Hono<AppEnv>();
  api.use(requireAdminToken(config.adminToken));
  api.route("/users", createUserRoutes({ prisma }));
  api.route(
    "/keys",
    createKeyRoutes({
      prisma,
      keyHashSecret: config.keyHashSecret,
      graceSeconds: config.graceSeconds,
      defaults: config.defaults,
      clock,
    }),
  );
  api.route("/", createUsageRoutes({ prisma, queries: createUsageQueries({ prisma }), clock }));
  // Database errors become HTTP errors in this one place (errors.ts); rethrown, they reach the
  // shared handler of createHttpApp, which renders every error as {"detail": ...}.
  api.onError((error) => {
    throw toHttpError(error);
  });
  app.route("/api/v1", api);
  return app;
}
