import { z } from "zod";
import { DEFAULT_PAGE_SIZE, MAX_INT, MAX_PAGE_SIZE } from "./domain/pagination";
import { createKeySchema, createUserSchema, rotateKeySchema, updateKeySchema } from "./schemas";

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
