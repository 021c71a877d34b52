import { createOperatorDirectory, databaseReadiness, type PrismaClient } from "@apimon/db";
import { type AppEnv, createAdminApiApp, describeRoute } from "@apimon/http";
import type { Logger, ReadinessCheck, Registry } from "@apimon/observability";
import type { Hono } from "hono";
import type { AlertLog } from "./alert-log";
import { toHttpError } from "./errors";
import { createAlertRoutes } from "./routes/alerts";
import { createAuditRoutes } from "./routes/audit";
import { createChannelRoutes } from "./routes/channels";
import { createReportRoutes } from "./routes/report";
import { createSettingsRoutes } from "./routes/settings";
import { createSilenceRoutes } from "./routes/silences";

export interface AppDeps {
  logger: Logger;
  registry: Registry;
  prisma: PrismaClient;
  alertLog: AlertLog;
  config: {
    adminToken: string;
    /** Proxies of yours in front (ADMIN_TRUSTED_PROXY_HOPS); 0 when left out. */
    trustedProxyHops?: number;
    consoleUrl: string;
    /** How long a channel test waits for the notifier's delivery record. */
    testTimeoutMs: number;
  };
  clock?: () => Date;
  /** Called after a request committed notification jobs (main.ts wakes the outbox relay). */
  onJobsQueued?: () => void;
  /** Readiness checks besides the database's (consumer, relay, scheduler, from main.ts). */
  checks?: Record<string, ReadinessCheck>;
  isShuttingDown: () => boolean;
  /** How often a channel test looks for its delivery record. */
  testPollMs?: number;
}

/**
 * The alerts service: the admin API under /api/v1/alerts, health, metrics, the OpenAPI document
 * made from the routes' own descriptions (`/openapi.json`), its interactive reference (`/docs`)
 * and a redirect to the console.
 */
export function createApp({
  prisma,
  alertLog,
  config,
  clock = () => new Date(),
  onJobsQueued,
  checks = {},
  testPollMs,
  ...base
}: AppDeps): Hono<AppEnv> {
  const { logger, registry } = base;
  return createAdminApiApp({
    ...base,
    checks: { database: databaseReadiness(prisma, logger), ...checks },
    adminToken: config.adminToken,
    operators: createOperatorDirectory(prisma, {
      onTouchFailed: (error) => logger.warn({ err: error }, "could not note an operator token's use"),
    }),
    trustedProxyHops: config.trustedProxyHops,
    readiness: "database, signal consumer, outbox relay and scheduler",
    // The operator console is its own service; old bookmarks of this one lead there.
    describeRoot: (described) => {
      for (const path of ["/console", "/"]) {
        describeRoute(
          described,
          {
            method: "get",
            path,
            summary: "Redirects to the operator console's alerts page (`CONSOLE_PUBLIC_URL`)",
            tags: ["Operations"],
            security: [],
            responses: { 302: { description: "To the console service's alerts page" } },
          },
          (c) => c.redirect(`${config.consoleUrl}/alerts`, 302),
        );
      }
    },
    routes: (api) => {
      // The fixed paths first: /alerts/:id would otherwise take "settings", "channels"...
      api.route("/alerts/settings", createSettingsRoutes({ prisma, logger }));
      api.route(
        "/alerts/channels",
        createChannelRoutes({
          prisma,
          clock,
          consoleUrl: config.consoleUrl,
          testTimeoutMs: config.testTimeoutMs,
          testPollMs,
          onJobsQueued,
        }),
      );
      api.route("/alerts/report", createReportRoutes({ prisma, clock }));
      api.route("/alerts/silences", createSilenceRoutes({ prisma, clock }));
      api.route("/alerts", createAlertRoutes({ prisma, alertLog, clock, registry }));
      api.route("/audit", createAuditRoutes({ prisma }));
    },
    // Database errors as this API's HTTP errors (errors.ts).
    toHttpError,
    title: "apimon alerts service",
    description:
      "Alert lifecycle (dedup per fingerprint, escalation in place, resolution, acknowledgement), " +
      "notification channels and routing, silences, settings and reports. Admin endpoints take " +
      "`Authorization: Bearer <ADMIN_TOKEN>` or an operator's token (a viewer's may only read). " +
      'Errors are `{"detail": ...}`; validation errors add ' +
      "`errors: [{field, message}]`. Lists are newest first (channels: by id) and paginated with an opaque cursor.",
  });
}
