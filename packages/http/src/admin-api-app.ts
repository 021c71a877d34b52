import type { HealthOptions } from "@apimon/observability";
import type { Hono } from "hono";
import { type AppEnv, createHealthApp, type HttpAppOptions } from "./app";
import { auditActorOf } from "./audit-actor";
import { type OperatorDirectory, requireAdminToken } from "./auth";
import { createDocsRoutes } from "./docs";
import { createGuessLimit } from "./guess-limit";
import {
  ADMIN_MAX_BODY_BYTES,
  type ApiDocumentOptions,
  describeHealthRoutes,
  OpenAPIHono,
  serveOpenApiDocument,
} from "./openapi";

export type AdminApiAppOptions = HttpAppOptions &
  HealthOptions &
  ApiDocumentOptions & {
    adminToken: string;
    /** The operators' tokens, admitted beside the admin token (createOperatorDirectory of @apimon/db). */
    operators?: OperatorDirectory;
    /** Proxies of yours in front of the API (ADMIN_TRUSTED_PROXY_HOPS); 0 by default. */
    trustedProxyHops?: number;
    /** What /readyz checks, as the document tells it. */
    readiness: string;
    /** Mounts the service's routers; they are served under /api/v1 behind the admin token. */
    routes: (api: OpenAPIHono<AppEnv>) => void;
    /** An error a router threw as an HttpError where it is one (a database error); anything else unchanged. */
    toHttpError: (error: unknown) => unknown;
    /** Further described routes outside the API (redirects). */
    describeRoot?: (described: OpenAPIHono<AppEnv>) => void;
  };

/**
 * An admin API service: health and metrics, the routers under /api/v1 behind the admin token,
 * the OpenAPI document made from the routes' own descriptions (`/openapi.json`) and its
 * interactive reference (`/docs`).
 */
export function createAdminApiApp({
  adminToken,
  operators,
  trustedProxyHops = 0,
  readiness,
  routes,
  toHttpError,
  describeRoot,
  title,
  description,
  version,
  maxBodyBytes = ADMIN_MAX_BODY_BYTES,
  ...options
}: AdminApiAppOptions): Hono<AppEnv> {
  const app = createHealthApp({ maxBodyBytes, ...options });
  // Every route below is described; the walk over app.routes in openapi.test.ts keeps it so.
  const described = new OpenAPIHono<AppEnv>();
  describeHealthRoutes(described, readiness);
  described.route("/", createDocsRoutes({ title }));
  describeRoot?.(described);

  const api = new OpenAPIHono<AppEnv>();
  api.use(
    requireAdminToken(adminToken, {
      operators,
      guesses: createGuessLimit({ registry: options.registry }),
      trustedProxyHops,
    }),
  );
  api.use(async (c, next) => {
    c.set("auditActor", auditActorOf(c, trustedProxyHops));
    await next();
  });
  routes(api);
  // Database errors become HTTP errors in this one place; rethrown, they reach the shared
  // handler of createHttpApp, which renders every error as {"detail": ...}.
  api.onError((error) => {
    throw toHttpError(error);
  });
  described.route("/api/v1", api);
  serveOpenApiDocument(described, { title, description, version });
  app.route("/", described);
  return app;
}
