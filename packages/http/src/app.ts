import { randomUUID } from "node:crypto";
import type { Logger } from "@apimon/observability";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { HttpError } from "./errors";

export interface AppVariables {
  requestId: string;
  logger: Logger;
}
export type AppEnv = { Variables: AppVariables };

export interface HttpAppOptions {
  logger: Logger;
  /** Largest accepted request body; admin APIs need little. */
  maxBodyBytes?: number;
}

const REQUEST_ID = /^[\w.-]{1,128}$/;

/**
 * A Hono app with the house conventions: a request id (kept from a sane `X-Request-Id` or made
 * anew), a child logger per request, a body limit, and every error mapped to `{"detail": ...}`.
 */
export function createHttpApp({ logger, maxBodyBytes = 1024 * 1024 }: HttpAppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

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
