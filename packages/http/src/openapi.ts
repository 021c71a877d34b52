import { OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type { Context, Env, Handler } from "hono";
import { z } from "zod";
import { readQuery } from "./validation";

// Routes that describe themselves: each route is declared once, with its request and response
// schemas, and that declaration both mounts the handler and enters the OpenAPI document.

export { OpenAPIHono, type RouteConfig };

type Responses = RouteConfig["responses"];

export const fieldErrorSchema = z
  .object({ field: z.string(), message: z.string() })
  .meta({ id: "FieldError" });

/** The body of every error the product answers: `{"detail": "..."}`, with the fields of a 400. */
export const errorSchema = z
  .object({
    detail: z.string(),
    errors: z.array(fieldErrorSchema).optional().describe("Validation errors only: the fields that failed"),
  })
  .meta({ id: "Error" });

/** A page of a cursor-paginated list. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last page"),
  });
}

/** A JSON response of `schema`. */
export function jsonResponse(schema: z.ZodType, description: string, headers?: Record<string, z.ZodType>) {
  return {
    description,
    ...(headers && { headers: z.object(headers) }),
    content: { "application/json": { schema } },
  };
}

/** Error responses by status, each with the `{"detail"}` body and what it means on this route. */
export function errorResponses(descriptions: Record<number, string>): Responses {
  return Object.fromEntries(
    Object.entries(descriptions).map(([status, description]) => [
      status,
      status === "401"
        ? jsonResponse(errorSchema, description, { "WWW-Authenticate": z.literal("Bearer") })
        : jsonResponse(errorSchema, description),
    ]),
  );
}

/**
 * The error responses of an admin API route: its own, plus those any of them may answer (a
 * missing token, too many wrong ones, a database that is down, an unexpected failure).
 */
export function adminErrorResponses(own: Record<number, string>): Responses {
  return errorResponses({
    401: "Missing or wrong admin token",
    429: "Too many wrong admin tokens from this address this minute; Retry-After says when to try again",
    ...own,
    500: "Internal server error (logged with the request id)",
    503: "Database unavailable; try again",
  });
}

/** What a change's 403 means: the operators API hands out read-only tokens. */
export const VIEWER_REFUSED = "The token is a viewer's, which may only read";

export const INVALID_QUERY = "Invalid query (`errors` lists the fields)";
export const INVALID_PATH = "Invalid path (`errors` lists the fields)";

/** Admin requests are small JSON documents; anything bigger is refused before it is read. */
export const ADMIN_MAX_BODY_BYTES = 64 * 1024;
/** What an admin route's 413 means. */
export const BODY_TOO_LARGE = `Request body larger than ${ADMIN_MAX_BODY_BYTES / 1024} KiB`;

/** The responses of a paginated admin list: a page of `item`, or a 400 for its query. */
export function listResponses(item: z.ZodType, description: string, invalidQuery = INVALID_QUERY): Responses {
  return { 200: jsonResponse(pageSchema(item), description), ...adminErrorResponses({ 400: invalidQuery }) };
}

/** The responses of an admin read by id: the resource, a 400 for the path, a 404 saying what is missing. */
export function readResponses(schema: z.ZodType, description: string, notFound: string): Responses {
  return {
    200: jsonResponse(schema, description),
    ...adminErrorResponses({ 400: INVALID_PATH, 404: notFound }),
  };
}

/** The responses of an admin delete by id: 204, a 400 for the path, a 404 saying what is missing. */
export function deleteResponses(notFound: string): Responses {
  return { 204: { description: "Deleted" }, ...adminErrorResponses({ 400: INVALID_PATH, 404: notFound }) };
}

/** A JSON request body. */
export function jsonBody(schema: z.ZodType, description?: string, required = true) {
  return { required, ...(description && { description }), content: { "application/json": { schema } } };
}

/** A route pattern of the document (`/keys/{id}`) as Hono writes it (`/keys/:id`). */
export const honoPath = (path: string): string => path.replaceAll(/\{([^}]+)\}/g, ":$1");

/**
 * Declares a route: its description enters the router's OpenAPI document and `handler` is
 * mounted at it. The handler validates its own input (readJson, readQuery, parseOr400 with the
 * schemas the description names), so that every refusal keeps the product's error bodies and
 * order of checks; @hono/zod-openapi's own validators would answer differently (415s, other
 * messages).
 */
export function describeRoute<E extends Env>(
  router: OpenAPIHono<E>,
  route: RouteConfig,
  handler: Handler<E>,
) {
  // Behind the admin token, a change may also meet a viewer's token.
  const responses =
    route.method !== "get" && route.method !== "head" && "401" in route.responses
      ? { ...errorResponses({ 403: VIEWER_REFUSED }), ...route.responses }
      : route.responses;
  router.openAPIRegistry.registerPath({ ...route, responses });
  router.on(route.method.toUpperCase(), honoPath(route.path), handler);
}

type QuerySchema = NonNullable<NonNullable<RouteConfig["request"]>["query"]>;

/**
 * A GET answering a page of `item`s: its query is validated (a 400 names the bad parameters)
 * and handed to the handler; the responses are {@link listResponses}'.
 */
export function describeListRoute<E extends Env, Q extends QuerySchema>(
  router: OpenAPIHono<E>,
  {
    query,
    item,
    page,
    invalidQuery,
    ...route
  }: Omit<RouteConfig, "method" | "request" | "responses"> & {
    query: Q;
    item: z.ZodType;
    page: string;
    /** What a 400 means, when more than a malformed parameter. */
    invalidQuery?: string;
  },
  handler: (c: Context<E>, query: z.output<Q>) => Response | Promise<Response>,
): void {
  describeRoute(
    router,
    { method: "get", ...route, request: { query }, responses: listResponses(item, page, invalidQuery) },
    (c) => handler(c, readQuery(c, query as z.ZodType) as z.output<Q>),
  );
}

/** Documents the routes of @apimon/observability's health app (mounted at "/"). */
export function describeHealthRoutes<E extends Env>(router: OpenAPIHono<E>, readiness: string): void {
  const check = z.object({ ok: z.boolean(), detail: z.string().optional() });
  const ready = z
    .object({
      status: z.enum(["ready", "not_ready", "shutting_down"]),
      checks: z.record(z.string(), check),
    })
    .meta({ id: "Readiness" });
  const paths: RouteConfig[] = [
    {
      method: "get",
      path: "/healthz",
      summary: "Liveness",
      tags: ["Operations"],
      security: [],
      responses: { 200: jsonResponse(z.object({ status: z.literal("ok") }), "The process is alive") },
    },
    {
      method: "get",
      path: "/readyz",
      summary: `Readiness (${readiness})`,
      tags: ["Operations"],
      security: [],
      responses: {
        200: jsonResponse(ready, "Every check passes"),
        503: jsonResponse(ready, "A check fails, or the service is shutting down"),
      },
    },
    {
      method: "get",
      path: "/metrics",
      summary: "Prometheus metrics",
      tags: ["Operations"],
      security: [],
      responses: {
        200: {
          description: "Metrics in Prometheus' text format",
          content: { "text/plain": { schema: z.string() } },
        },
      },
    },
  ];
  for (const path of paths) router.openAPIRegistry.registerPath(path);
}

export interface ApiDocumentOptions {
  title: string;
  description: string;
  version?: string;
}

/**
 * Serves the router's OpenAPI 3.1 document at `/openapi.json`. The admin API is behind a bearer
 * token: routes that are not (health, the document itself) say `security: []`.
 */
export function serveOpenApiDocument<E extends Env>(
  app: OpenAPIHono<E>,
  { title, description, version = "1.0.0" }: ApiDocumentOptions,
): void {
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", { type: "http", scheme: "bearer" });
  describeRoute(
    app,
    {
      method: "get",
      path: "/openapi.json",
      summary: "This document",
      tags: ["Operations"],
      security: [],
      responses: { 200: jsonResponse(z.record(z.string(), z.unknown()), "OpenAPI 3.1") },
    },
    (c) => {
      // Built on the first request, when every route has been declared.
      document ??= app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: { title, description, version },
        security: [{ adminToken: [] }],
      });
      return c.json(document);
    },
  );
}

type Operation = { security?: unknown[]; responses?: Record<string, unknown> };
type Document = { security?: unknown; paths?: Record<string, Record<string, Operation>> };

/**
 * What the document gets wrong about an app, one line each (none: it describes the app): a
 * route of `app.routes` without a described response (middleware, `ALL /...*`, is not a
 * route), a described operation the app does not serve, an admin operation (under /api/) that
 * lacks a success, its 400 or the errors every admin route may answer, or that is not behind
 * the token while everything else is, and a pattern written with regex flags. For tests.
 */
export function documentProblems(
  routes: readonly { method: string; path: string }[],
  answered: unknown,
): string[] {
  const document = answered as Document;
  const problems: string[] = [];
  const served = new Set<string>();
  for (const route of routes) {
    if (route.method === "ALL" && route.path.endsWith("*")) continue;
    const path = route.path.replaceAll(/:([^/]+)/g, "{$1}");
    served.add(`${route.method} ${path}`);
    const operation = document.paths?.[path]?.[route.method.toLowerCase()];
    if (Object.keys(operation?.responses ?? {}).length === 0)
      problems.push(`undocumented: ${route.method} ${route.path}`);
  }
  if (JSON.stringify(document.security) !== JSON.stringify([{ adminToken: [] }])) {
    problems.push("the document does not put the API behind the admin token");
  }
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(item)) {
      const name = `${method.toUpperCase()} ${path}`;
      if (!served.has(name)) problems.push(`not served: ${name}`);
      const statuses = Object.keys(operation.responses ?? {});
      if (!path.startsWith("/api/")) {
        if (JSON.stringify(operation.security) !== "[]") problems.push(`not marked public: ${name}`);
        continue;
      }
      if (operation.security !== undefined) problems.push(`not behind the admin token: ${name}`);
      if (!statuses.some((s) => s.startsWith("2"))) problems.push(`no success response: ${name}`);
      for (const status of ["400", "401", "500", "503"]) {
        if (!statuses.includes(status) && !(status === "400" && !hasInput(operation))) {
          problems.push(`no ${status} response: ${name}`);
        }
      }
    }
  }
  // A pattern is an ECMAScript regular expression's source: `/.../u` would be taken literally.
  for (const pattern of JSON.stringify(document).match(/"pattern":"(?:[^"\\]|\\.)*"/g) ?? []) {
    if (/\/[a-z]*"$/.test(pattern)) problems.push(`pattern with regex flags: ${pattern}`);
  }
  return problems;
}

const hasInput = (operation: Operation & { parameters?: unknown[]; requestBody?: unknown }) =>
  (operation.parameters?.length ?? 0) > 0 || operation.requestBody !== undefined;
