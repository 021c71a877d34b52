import { createOperatorDirectory, databaseReadiness, type PrismaClient } from "@apimon/db";
import { type AppEnv, createAdminApiApp } from "@apimon/http";
import type { Logger, ReadinessCheck, Registry } from "@apimon/observability";
import type { Hono } from "hono";
import type { RateLimits } from "./domain/key-policy";
import { toHttpError } from "./errors";
import { createKeyRoutes } from "./routes/keys";
import { createOperatorRoutes } from "./routes/operators";
import { createUsageRoutes } from "./routes/usage";
import { createUserRoutes } from "./routes/users";
import { createUsageQueries } from "./usage-queries";

export interface AppDeps {
  logger: Logger;
  registry: Registry;
  prisma: PrismaClient;
  config: {
    adminToken: string;
    /** Proxies of yours in front (ADMIN_TRUSTED_PROXY_HOPS); 0 when left out. */
    trustedProxyHops?: number;
    keyHashSecret: string;
    /** Default grace period of a rotation. */
    graceSeconds: number;
    /** Limits of a window without a per-key override. */
    defaults: RateLimits;
  };
  clock?: () => Date;
  /** Readiness checks besides the database's (the outbox relay's, from main.ts). */
  checks?: Record<string, ReadinessCheck>;
  /**
   * Called after each committed key change (main.ts wakes the outbox relay, so that the change
   * goes out now rather than at the relay's next poll).
   */
  onKeyChangesQueued?: () => void;
  isShuttingDown: () => boolean;
}

/**
 * The keys service: the admin API under /api/v1, plus health, metrics, the OpenAPI document
 * made from the routes' own descriptions (`/openapi.json`) and its interactive reference (`/docs`).
 */
export function createApp({
  prisma,
  config,
  clock = () => new Date(),
  checks = {},
  onKeyChangesQueued,
  ...base
}: AppDeps): Hono<AppEnv> {
  return createAdminApiApp({
    ...base,
    checks: { database: databaseReadiness(prisma, base.logger), ...checks },
    adminToken: config.adminToken,
    operators: createOperatorDirectory(prisma, {
      onTouchFailed: (error) => base.logger.warn({ err: error }, "could not note an operator token's use"),
    }),
    trustedProxyHops: config.trustedProxyHops,
    readiness: "database, outbox relay",
    routes: (api) => {
      api.route("/operators", createOperatorRoutes({ prisma }));
      api.route("/users", createUserRoutes({ prisma, onKeyChangesQueued }));
      api.route(
        "/keys",
        createKeyRoutes({
          prisma,
          keyHashSecret: config.keyHashSecret,
          graceSeconds: config.graceSeconds,
          defaults: config.defaults,
          clock,
          onKeyChangesQueued,
        }),
      );
      api.route("/", createUsageRoutes({ prisma, queries: createUsageQueries({ prisma }), clock }));
    },
    // Database errors as this API's HTTP errors (errors.ts).
    toHttpError,
    title: "apimon keys service",
    description:
      "Control plane for users, API keys and operators. Admin endpoints take `Authorization: Bearer <ADMIN_TOKEN>` " +
      "or an operator's token (a viewer's may only read). " +
      'Errors are `{"detail": ...}`; validation errors add `errors: [{field, message}]`. ' +
      "Lists are ordered by id and paginated with an opaque cursor.",
  });
}
