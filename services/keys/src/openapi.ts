import { DEFAULT_PAGE_SIZE, MAX_INT, MAX_PAGE_SIZE } from "@apimon/http";
import { z } from "zod";
import { GRANULARITIES, MAX_BUCKETS } from "./domain/usage-range";
import {
  createKeySchema,
  createUserSchema,
  DEFAULT_SUMMARY_LIMIT,
  MAX_SUMMARY_LIMIT,
  rotateKeySchema,
  updateKeySchema,
} from "./schemas";

// The service's OpenAPI 3.1 document. Request bodies are generated from the zod schemas that
// validate them, so the document cannot drift from what the handlers accept; responses are
// written out by hand (views.ts is their source).

type Json = Record<string, unknown>;

/** A request body's JSON Schema (2020-12, which OpenAPI 3.1 uses), as clients send it. */
function bodySchema(schema: z.ZodType): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: Json) => ({ anyOf: [schema, { type: "null" }] });
const time = { type: "string", format: "date-time" };
const json = (schema: Json) => ({ content: { "application/json": { schema } } });
const error = (description: string) => ({ description, ...json(ref("Error")) });

const errors = {
  400: error("Invalid input: the body, path or query failed validation (`errors` lists the fields)"),
  401: {
    ...error("Missing or wrong admin token"),
    headers: { "WWW-Authenticate": { schema: { type: "string", const: "Bearer" } } },
  },
  404: error("No such resource"),
  409: error("Conflict with the current state"),
  413: error("Request body larger than 64 KiB"),
};

const idParameter = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "integer", minimum: 1, maximum: MAX_INT },
};
const pageParameters = [
  {
    name: "cursor",
    in: "query",
    description: "The `nextCursor` of the previous page (opaque)",
    schema: { type: "string", maxLength: 128 },
  },
  {
    name: "limit",
    in: "query",
    schema: { type: "integer", minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
  },
];
const timeParameter = (name: "from" | "to", description: string) => ({
  name,
  in: "query",
  description,
  schema: { type: "string", format: "date-time" },
});
const ERROR_DEFINITION =
  "`errors` counts responses with status >= 500 (upstream and edge failures); `clientErrors` those from 400 to 499, 429s included";
const count = { type: "integer", minimum: 0 };
const responseTimeMs = (what: string) => ({
  ...nullable({ type: "number" }),
  description: `${what} response time in milliseconds (interpolated, percentile_cont); null without requests`,
});

const listOf = (item: string) => ({
  type: "object",
  required: ["items", "nextCursor"],
  properties: {
    items: { type: "array", items: ref(item) },
    nextCursor: { ...nullable({ type: "string" }), description: "null on the last page" },
  },
});

const keySummaryProperties = {
  id: { type: "integer" },
  userId: { type: "integer" },
  name: { type: "string" },
  description: nullable({ type: "string" }),
  prefix: { type: "string", description: "The key's first characters, for recognising it" },
  isActive: { type: "boolean" },
  rateLimits: ref("RateLimits"),
  expiresAt: nullable(time),
  createdAt: time,
};
const newKeyProperties = {
  key: { type: "string", description: "The plaintext key. Shown only in this response; store it now." },
  ...keySummaryProperties,
};

/** The OpenAPI 3.1 document served at `/openapi.json`. */
export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "apimon keys service",
    version: "1.0.0",
    description:
      "Control plane for users and API keys. Admin endpoints take `Authorization: Bearer <ADMIN_TOKEN>`. " +
      'Errors are `{"detail": ...}`; validation errors add `errors: [{field, message}]`. ' +
      "Lists are ordered by id and paginated with an opaque cursor.",
  },
  security: [{ adminToken: [] }],
  paths: {
    "/api/v1/users": {
      post: {
        summary: "Create a user",
        requestBody: { required: true, ...json(bodySchema(createUserSchema)) },
        responses: {
          201: { description: "Created", ...json(ref("User")) },
          400: errors[400],
          401: errors[401],
          409: error("A user with this email already exists"),
          413: errors[413],
        },
      },
      get: {
        summary: "List users",
        parameters: pageParameters,
        responses: {
          200: { description: "A page of users", ...json(listOf("User")) },
          400: errors[400],
          401: errors[401],
        },
      },
    },
    "/api/v1/users/{id}": {
      get: {
        summary: "Get a user",
        parameters: [idParameter],
        responses: {
          200: { description: "The user", ...json(ref("User")) },
          400: errors[400],
          401: errors[401],
          404: errors[404],
        },
      },
    },
    "/api/v1/keys": {
      post: {
        summary: "Create an API key",
        description:
          "`expiresAt` must lie in the future. The answer is the only one that carries the plaintext key.",
        requestBody: { required: true, ...json(bodySchema(createKeySchema)) },
        responses: {
          201: { description: "Created", ...json(ref("NewApiKey")) },
          400: errors[400],
          401: errors[401],
          404: error("User not found"),
          413: errors[413],
        },
      },
      get: {
        summary: "List API keys",
        parameters: [
          ...pageParameters,
          { name: "userId", in: "query", schema: { type: "integer", minimum: 1, maximum: MAX_INT } },
          {
            name: "active",
            in: "query",
            description: "true: keys the edge accepts now (active and unexpired); false: the others",
            schema: { type: "string", enum: ["true", "false"] },
          },
        ],
        responses: {
          200: { description: "A page of keys", ...json(listOf("ApiKey")) },
          400: errors[400],
          401: errors[401],
        },
      },
    },
    "/api/v1/keys/{id}": {
      parameters: [idParameter],
      get: {
        summary: "Get an API key with its usage",
        responses: {
          200: { description: "The key", ...json(ref("ApiKey")) },
          400: errors[400],
          401: errors[401],
          404: errors[404],
        },
      },
      patch: {
        summary: "Update an API key",
        description: "A `rateLimits` window set to null goes back to the default limit.",
        requestBody: { required: true, ...json(bodySchema(updateKeySchema)) },
        responses: {
          200: { description: "The updated key", ...json(ref("ApiKey")) },
          400: errors[400],
          401: errors[401],
          404: errors[404],
          413: errors[413],
        },
      },
      delete: {
        summary: "Delete an API key",
        responses: { 204: { description: "Deleted" }, 400: errors[400], 401: errors[401], 404: errors[404] },
      },
    },
    "/api/v1/keys/{id}/rotate": {
      post: {
        summary: "Rotate an API key",
        description:
          "Issues a successor with the same name, limits and expiry. The old key keeps working for " +
          "`gracePeriodSeconds` (default KEY_ROTATION_GRACE_SECONDS), or until its own expiry if sooner. " +
          "The body may be omitted.",
        parameters: [idParameter],
        requestBody: { required: false, ...json(bodySchema(rotateKeySchema)) },
        responses: {
          201: { description: "The successor", ...json(ref("RotatedApiKey")) },
          400: errors[400],
          401: errors[401],
          404: errors[404],
          409: error("The key is inactive or expired, or was already rotated"),
          413: errors[413],
        },
      },
    },
    "/api/v1/keys/{id}/usage": {
      get: {
        summary: "A key's usage per minute, hour or day",
        description:
          "Requests, errors and response-time percentiles per bucket, from the recorded requests " +
          "(api_usage). Buckets are aligned to UTC: `from` is rounded down and `to` up to the " +
          "granularity, and the answer gives the range it covers. Every bucket of the range is " +
          `listed, empty ones with zeros; at most ${MAX_BUCKETS} buckets. ${ERROR_DEFINITION}.`,
        parameters: [
          idParameter,
          timeParameter("from", "Start (inclusive); default `to` minus 24 hours"),
          timeParameter("to", "End (exclusive); default now"),
          {
            name: "granularity",
            in: "query",
            schema: { type: "string", enum: [...GRANULARITIES], default: "hour" },
          },
        ],
        responses: {
          200: { description: "The key's usage", ...json(ref("KeyUsage")) },
          400: error(`Invalid input, \`from\` not before \`to\`, or more than ${MAX_BUCKETS} buckets`),
          401: errors[401],
          404: errors[404],
        },
      },
    },
    "/api/v1/usage/summary": {
      get: {
        summary: "Account-wide usage summary",
        description:
          "Totals, error rate, busiest keys and busiest endpoints over a span of at most 31 days, " +
          `optionally of one user's keys. ${ERROR_DEFINITION}; \`errorRate\` is errors / requests.`,
        parameters: [
          timeParameter("from", "Start (inclusive); default `to` minus 24 hours"),
          timeParameter("to", "End (exclusive); default now"),
          { name: "userId", in: "query", schema: { type: "integer", minimum: 1, maximum: MAX_INT } },
          {
            name: "limit",
            in: "query",
            description: "Entries in topKeys and in topEndpoints",
            schema: {
              type: "integer",
              minimum: 1,
              maximum: MAX_SUMMARY_LIMIT,
              default: DEFAULT_SUMMARY_LIMIT,
            },
          },
        ],
        responses: {
          200: { description: "The summary", ...json(ref("UsageSummary")) },
          400: error("Invalid input, `from` not before `to`, or a span over 31 days"),
          401: errors[401],
        },
      },
    },
    "/healthz": {
      get: { summary: "Liveness", security: [], responses: { 200: { description: "The process is alive" } } },
    },
    "/readyz": {
      get: {
        summary: "Readiness (database, outbox relay)",
        security: [],
        responses: { 200: { description: "Ready" }, 503: { description: "Not ready or shutting down" } },
      },
    },
    "/metrics": {
      get: {
        summary: "Prometheus metrics",
        security: [],
        responses: {
          200: { description: "Metrics", content: { "text/plain": { schema: { type: "string" } } } },
        },
      },
    },
    "/openapi.json": {
      get: { summary: "This document", security: [], responses: { 200: { description: "OpenAPI 3.1" } } },
    },
  },
  components: {
    securitySchemes: { adminToken: { type: "http", scheme: "bearer" } },
    schemas: {
      Error: {
        type: "object",
        required: ["detail"],
        properties: {
          detail: { type: "string" },
          errors: {
            type: "array",
            items: {
              type: "object",
              required: ["field", "message"],
              properties: { field: { type: "string" }, message: { type: "string" } },
            },
          },
        },
      },
      User: {
        type: "object",
        required: ["id", "email", "name", "createdAt"],
        properties: {
          id: { type: "integer" },
          email: { type: "string" },
          name: { type: "string" },
          createdAt: time,
        },
      },
      RateLimits: {
        type: "object",
        description: "Effective requests per window: the key's override, else the default",
        required: ["minute", "hour", "day"],
        properties: { minute: { type: "integer" }, hour: { type: "integer" }, day: { type: "integer" } },
      },
      NewApiKey: {
        type: "object",
        required: Object.keys(newKeyProperties),
        properties: newKeyProperties,
      },
      RotatedApiKey: {
        type: "object",
        required: [...Object.keys(newKeyProperties), "rotatedFromId"],
        properties: { ...newKeyProperties, rotatedFromId: { type: "integer" } },
      },
      UsageBucket: {
        type: "object",
        required: [
          "start",
          "requests",
          "errors",
          "clientErrors",
          "rateLimited",
          "p50ResponseTimeMs",
          "p95ResponseTimeMs",
        ],
        properties: {
          start: time,
          requests: count,
          errors: count,
          clientErrors: count,
          rateLimited: { ...count, description: "Requests refused with 429 by the edge's rate limiter" },
          p50ResponseTimeMs: responseTimeMs("Median"),
          p95ResponseTimeMs: responseTimeMs("95th percentile"),
        },
      },
      KeyUsage: {
        type: "object",
        required: ["keyId", "from", "to", "granularity", "buckets"],
        properties: {
          keyId: { type: "integer" },
          from: { ...time, description: "The first bucket's start" },
          to: { ...time, description: "The last bucket's end (exclusive)" },
          granularity: { type: "string", enum: [...GRANULARITIES] },
          buckets: { type: "array", items: ref("UsageBucket") },
        },
      },
      UsageSummary: {
        type: "object",
        required: [
          "from",
          "to",
          "requests",
          "errors",
          "clientErrors",
          "errorRate",
          "topKeys",
          "topEndpoints",
        ],
        properties: {
          from: time,
          to: time,
          userId: { type: "integer", description: "Present when the summary is of one user's keys" },
          requests: count,
          errors: count,
          clientErrors: count,
          errorRate: {
            type: "number",
            minimum: 0,
            maximum: 1,
            description: "errors / requests; 0 without requests",
          },
          topKeys: {
            type: "array",
            description: "By requests, most first",
            items: {
              type: "object",
              required: ["keyId", "name", "requests", "errors"],
              properties: {
                keyId: { type: "integer" },
                name: { ...nullable({ type: "string" }), description: "null for a key deleted since" },
                requests: count,
                errors: count,
              },
            },
          },
          topEndpoints: {
            type: "array",
            description: "By requests, most first",
            items: {
              type: "object",
              required: ["endpoint", "method", "requests", "errors", "p95ResponseTimeMs"],
              properties: {
                endpoint: { type: "string", description: "The normalised route, e.g. /users/:id" },
                method: { type: "string" },
                requests: count,
                errors: count,
                p95ResponseTimeMs: responseTimeMs("95th percentile"),
              },
            },
          },
        },
      },
      ApiKey: {
        type: "object",
        required: [
          ...Object.keys(keySummaryProperties),
          "usageCount",
          "lastUsed",
          "rotatedFromId",
          "updatedAt",
        ],
        properties: {
          ...keySummaryProperties,
          usageCount: { type: "integer" },
          lastUsed: nullable(time),
          rotatedFromId: nullable({ type: "integer" }),
          updatedAt: time,
        },
      },
    },
  },
};
