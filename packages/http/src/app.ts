import { randomUUID } from "node:crypto";
import {
  Counter,
  createHealthRoutes,
  type HealthOptions,
  Histogram,
  type Logger,
  type Registry,
} from "@apimon/observability";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { routePath } from "hono/route";
import type { AuditActor } from "./audit-actor";
import type { Operator } from "./auth";
import { HttpError } from "./errors";

export interface AppVariables {
  requestId: string;
  logger: Logger;
  /** Who is calling, on an admin API's routes (set once the admin token has been checked). */
  auditActor?: AuditActor;
  /** The operator whose token the request carries; null for the admin token (set with the actor). */
  operator?: Operator | null;
}
export type AppEnv = { Variables: AppVariables };

export interface HttpAppOptions {
  logger: Logger;
  /** Largest accepted request body; admin APIs need little. */
  maxBodyBytes?: number;
  /** When given, requests are counted and timed by method, route pattern and status. */
  registry?: Registry;
}

const REQUEST_ID = /^[\w.-]{1,128}$/;

/**
 * A Hono app with the house conventions: a request id (kept from a sane `X-Request-Id` or made
 * anew), a child logger per request, a body limit, and every error mapped to `{"detail": ...}`.
 */
export function createHttpApp({
  logger,
  maxBodyBytes = 1024 * 1024,
  registry,
}: HttpAppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  if (registry) {
    const labelNames = ["method", "route", "status"];
    const requests = new Counter({
      name: "http_requests_total",
      help: "HTTP requests by method, route and status",
      labelNames,
      registers: [registry],
    });
    const duration = new Histogram({
      name: "http_request_duration_seconds",
      help: "Time to the response head, by method, route and status",
      labelNames,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    app.use(async (c, next) => {
      const started = process.hrtime.bigint();
      await next();
      // The route pattern, not the path, keeps the label set bounded (/users/:id, not /users/42).
      const labels = {
        method: c.req.method,
        route: c.res.status === 404 ? "unmatched" : routePath(c, -1),
        status: String(c.res.status),
      };
      requests.inc(labels);
      duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
  }

  app.use(async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set("requestId", requestId);
    c.set("logger", logger.child({ requestId }));
    c.header("X-Request-Id", requestId);
    await next();
  });

  app.use(
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) => c.json({ detail: `Request body larger than ${maxBodyBytes} bytes` }, 413),
    }),
  );

  app.notFound((c) => c.json({ detail: "Not found" }, 404));

  app.onError((error, c) => {
    if (error instanceof HttpError) {
      return c.json(
        error.errors ? { detail: error.detail, errors: error.errors } : { detail: error.detail },
        error.status,
      );
    }
    if (error instanceof HTTPException) {
      return c.json({ detail: error.message || "Request failed" }, error.status);
    }
    const log = c.get("logger") ?? logger;
    log.error({ err: error, method: c.req.method, path: c.req.path }, "unhandled error");
    return c.json({ detail: "Internal server error" }, 500);
  });

  return app;
}

/** A service that serves no API: /healthz, /readyz (its checks) and /metrics, on the conventions above. */
export function createHealthApp(options: HttpAppOptions & HealthOptions): Hono<AppEnv> {
  const app = createHttpApp(options);
  app.route("/", createHealthRoutes(options));
  return app;
}
