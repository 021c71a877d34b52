import { alertSettingsSchema } from "@apimon/config";
import { alertSeverities, alertTypes } from "@apimon/events";
import { DEFAULT_PAGE_SIZE, MAX_INT, MAX_PAGE_SIZE } from "@apimon/http";
import { z } from "zod";
import { REPORT_TOP_KEYS } from "./routes/report";
import {
  acknowledgeSchema,
  channelTypes,
  createChannelSchema,
  DEFAULT_REPORT_DAYS,
  MAX_RANGE_DAYS,
  putSettingsSchema,
  updateChannelSchema,
} from "./schemas";

// The service's OpenAPI 3.1 document. Request bodies are generated from the zod schemas that
// validate them, so the document cannot drift from what the handlers accept; responses are
// written out by hand (views.ts is their source).

type Json = Record<string, unknown>;

/** A JSON Schema (2020-12, which OpenAPI 3.1 uses) of a zod schema, as clients send it or receive it. */
function jsonSchema(schema: z.ZodType, io: "input" | "output" = "input"): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" });
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: Json) => ({ anyOf: [schema, { type: "null" }] });
const time = { type: "string", format: "date-time" };
const int = { type: "integer" };
const json = (schema: Json) => ({ content: { "application/json": { schema } } });
const error = (description: string) => ({ description, ...json(ref("Error")) });
const object = (properties: Record<string, unknown>) => ({
  type: "object",
  required: Object.keys(properties),
  properties,
});

const errors = {
  400: error("Invalid input: the body, path or query failed validation (`errors` lists the fields)"),
  401: {
    ...error("Missing or wrong admin token"),
    headers: { "WWW-Authenticate": { schema: { type: "string", const: "Bearer" } } },
  },
  404: error("No such resource"),
  413: error("Request body larger than 64 KiB"),
};

const idParameter = {
  name: "id",
  in: "path",
  required: true,
  schema: { ...int, minimum: 1, maximum: MAX_INT },
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
    schema: { ...int, minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
  },
];
const filterParameters = [
  { name: "type", in: "query", schema: { type: "string", enum: alertTypes } },
  { name: "severity", in: "query", schema: { type: "string", enum: alertSeverities } },
  { name: "apiKeyId", in: "query", schema: { ...int, minimum: 1, maximum: MAX_INT } },
];
const rangeParameters = (what: string) => [
  { name: "from", in: "query", description: `${what} opened at or after (ISO-8601)`, schema: time },
  { name: "to", in: "query", description: `${what} opened before (ISO-8601)`, schema: time },
];
const listOf = (item: string) =>
  object({
    items: { type: "array", items: ref(item) },
    nextCursor: { ...nullable({ type: "string" }), description: "null on the last page" },
  });

const alertProperties = {
  id: int,
  fingerprint: { type: "string", description: "Type + scope: at most one open alert per fingerprint" },
  type: { type: "string", enum: alertTypes },
  severity: {
    type: "string",
    enum: alertSeverities,
    description: "Only ever goes up while the alert is open",
  },
  status: { type: "string", enum: ["firing", "acknowledged", "resolved"] },
  apiKeyId: nullable(int),
  endpoint: nullable({ type: "string" }),
  clientIp: nullable({ type: "string" }),
  message: { type: "string" },
  observedValue: { type: "number", description: "The latest signal's value" },
  threshold: { type: "number", description: "The threshold of the alert's severity" },
  occurrences: { ...int, description: "Signals counted into this alert (dedup)" },
  firstSeenAt: time,
  lastSeenAt: time,
  acknowledgedAt: nullable(time),
  acknowledgedBy: nullable({ type: "string" }),
  acknowledgementNote: nullable({ type: "string" }),
  resolvedAt: nullable(time),
  lastNotifiedAt: nullable(time),
  escalatedAt: nullable({ ...time, description: "When the escalation policy took the alert" }),
  createdAt: time,
  updatedAt: time,
};

const durations = object({
  count: { ...int, description: "Alerts with this duration" },
  meanSeconds: nullable({ type: "number" }),
  medianSeconds: nullable({ type: "number" }),
});

const health = {
  "/healthz": {
    get: { summary: "Liveness", security: [], responses: { 200: { description: "The process is alive" } } },
  },
  "/readyz": {
    get: {
      summary: "Readiness: database, signal consumer, outbox relay and scheduler",
      security: [],
      responses: { 200: { description: "Ready" }, 503: { description: "Not ready, or shutting down" } },
    },
  },
  "/metrics": {
    get: {
      summary: "Prometheus metrics",
      security: [],
      responses: { 200: { description: "Text exposition" } },
    },
  },
  "/openapi.json": {
    get: { summary: "This document", security: [], responses: { 200: { description: "OpenAPI 3.1" } } },
  },
  "/console": {
    get: {
      summary: "Redirects to the operator console (`CONSOLE_PUBLIC_URL`); `/` redirects here",
      security: [],
      responses: { 302: { description: "To the console service's alerts page" } },
    },
  },
};

/** The OpenAPI 3.1 document served at `/openapi.json`. */
export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "apimon alerts service",
    version: "1.0.0",
    description:
      "Alert lifecycle (dedup per fingerprint, escalation in place, resolution, acknowledgement), " +
      "notification channels and routing, settings and reports. Admin endpoints take " +
      '`Authorization: Bearer <ADMIN_TOKEN>`. Errors are `{"detail": ...}`; validation errors add ' +
      "`errors: [{field, message}]`. Lists are newest first (channels: by id) and paginated with an opaque cursor.",
  },
  security: [{ adminToken: [] }],
  paths: {
    "/api/v1/alerts": {
      get: {
        summary: "List active alerts (firing or acknowledged)",
        parameters: [
          ...pageParameters,
          ...filterParameters,
          { name: "status", in: "query", schema: { type: "string", enum: ["firing", "acknowledged"] } },
        ],
        responses: {
          200: { description: "A page of alerts, newest first", ...json(listOf("Alert")) },
          400: errors[400],
          401: errors[401],
        },
      },
    },
    "/api/v1/alerts/counts": {
      get: {
        summary: "Count the active alerts (firing or acknowledged) by severity, status and type",
        responses: {
          200: {
            description: "Every severity, status and type present, 0 when none",
            ...json(
              object({
                total: int,
                bySeverity: object(Object.fromEntries(alertSeverities.map((s) => [s, int]))),
                byStatus: object({ firing: int, acknowledged: int }),
                byType: object(Object.fromEntries(alertTypes.map((t) => [t, int]))),
              }),
            ),
          },
          401: errors[401],
        },
      },
    },
    "/api/v1/alerts/history": {
      get: {
        summary: "List alerts opened in a date range, any status (resolved included)",
        description: `The range may span at most ${MAX_RANGE_DAYS} days; without one, every alert.`,
        parameters: [
          ...pageParameters,
          ...rangeParameters("Alerts"),
          ...filterParameters,
          {
            name: "status",
            in: "query",
            schema: { type: "string", enum: ["firing", "acknowledged", "resolved"] },
          },
        ],
        responses: {
          200: { description: "A page of alerts, newest first", ...json(listOf("Alert")) },
          400: errors[400],
          401: errors[401],
        },
      },
    },
    "/api/v1/alerts/report": {
      get: {
        summary: "Counts and response times of the alerts opened in a date range",
        description:
          `Default range: the last ${DEFAULT_REPORT_DAYS} days; at most ${MAX_RANGE_DAYS}. Time to acknowledge is ` +
          "acknowledgement − opening; time to resolve is resolution − first signal.",
        parameters: rangeParameters("Alerts"),
        responses: {
          200: { description: "The report", ...json(ref("Report")) },
          400: errors[400],
          401: errors[401],
        },
      },
    },
    "/api/v1/alerts/settings": {
      get: {
        summary: "The alert settings in force (the defaults until saved)",
        responses: { 200: { description: "The settings", ...json(ref("Settings")) }, 401: errors[401] },
      },
      put: {
        summary: "Replace the alert settings",
        description:
          "Thresholds keep the spec's `alert_thresholds` shape; every omitted field takes its default. " +
          "The anomaly detector applies new thresholds without a restart. Escalation channels must exist.",
        requestBody: { required: true, ...json(jsonSchema(putSettingsSchema)) },
        responses: {
          200: { description: "The saved settings", ...json(ref("Settings")) },
          400: errors[400],
          401: errors[401],
          413: errors[413],
        },
      },
    },
    "/api/v1/alerts/channels": {
      post: {
        summary: "Create a notification channel",
        description:
          "Email targets are comma-separated address lists; slack and webhook targets are http(s) URLs. " +
          "Only webhook channels take a `secret` (for signing). `minSeverity` defaults to warning.",
        requestBody: { required: true, ...json(jsonSchema(createChannelSchema)) },
        responses: {
          201: { description: "Created", ...json(ref("Channel")) },
          400: errors[400],
          401: errors[401],
          413: errors[413],
        },
      },
      get: {
        summary: "List notification channels",
        parameters: pageParameters,
        responses: {
          200: { description: "A page of channels, by id", ...json(listOf("Channel")) },
          400: errors[400],
          401: errors[401],
        },
      },
    },
    "/api/v1/alerts/channels/{id}": {
      parameters: [idParameter],
      get: {
        summary: "Get a notification channel",
        responses: {
          200: { description: "The channel", ...json(ref("Channel")) },
          400: errors[400],
          401: errors[401],
          404: errors[404],
        },
      },
      patch: {
        summary: "Update a notification channel",
        description: "`secret: null` removes the secret. A new type re-checks the target.",
        requestBody: { required: true, ...json(jsonSchema(updateChannelSchema)) },
        responses: {
          200: { description: "The updated channel", ...json(ref("Channel")) },
          400: errors[400],
          401: errors[401],
          404: errors[404],
          413: errors[413],
        },
      },
      delete: {
        summary: "Delete a notification channel",
        description:
          "Also deletes its delivery records and removes it from the escalation policy; disable it instead to keep them.",
        responses: { 204: { description: "Deleted" }, 400: errors[400], 401: errors[401], 404: errors[404] },
      },
    },
    "/api/v1/alerts/channels/{id}/test": {
      post: {
        summary: "Send a test message and answer with its delivery record",
        description:
          "Queues a job with reason `test` for the notifier and waits (ALERTS_TEST_TIMEOUT_MS, default 10 s) " +
          "for the notifier's record of its first attempt with a final status. A failed delivery is a 200 " +
          "whose record says why; no final record in time is a 504.",
        parameters: [idParameter],
        responses: {
          200: { description: "The delivery record", ...json(ref("Delivery")) },
          400: errors[400],
          401: errors[401],
          404: errors[404],
          504: error("The notifier did not record a final delivery in time"),
        },
      },
    },
    "/api/v1/alerts/{id}": {
      get: {
        summary: "Get an alert with its timeline and notification deliveries",
        parameters: [idParameter],
        responses: {
          200: { description: "The alert", ...json(ref("AlertDetail")) },
          400: errors[400],
          401: errors[401],
          404: errors[404],
        },
      },
    },
    "/api/v1/alerts/{id}/acknowledge": {
      post: {
        summary: "Acknowledge an alert (stops reminders and the escalation policy)",
        description:
          "The body may be omitted. Acknowledging an acknowledged alert changes nothing; a resolved one is a 409. " +
          "Later firing signals keep counting into the acknowledged alert.",
        parameters: [idParameter],
        requestBody: { required: false, ...json(jsonSchema(acknowledgeSchema)) },
        responses: {
          200: { description: "The alert", ...json(ref("AlertDetail")) },
          400: errors[400],
          401: errors[401],
          404: errors[404],
          409: error("Alert is resolved and cannot be acknowledged"),
          413: errors[413],
        },
      },
    },
    ...health,
  },
  components: {
    securitySchemes: { adminToken: { type: "http", scheme: "bearer", description: "The ADMIN_TOKEN" } },
    schemas: {
      Error: {
        type: "object",
        required: ["detail"],
        properties: {
          detail: { type: "string" },
          errors: {
            type: "array",
            items: object({ field: { type: "string" }, message: { type: "string" } }),
          },
        },
      },
      Alert: object(alertProperties),
      AlertDetail: object({
        ...alertProperties,
        timeline: { type: "array", items: ref("TimelineEvent"), description: "Oldest first (at most 500)" },
        deliveries: { type: "array", items: ref("Delivery"), description: "Oldest first (at most 500)" },
      }),
      TimelineEvent: object({
        id: int,
        kind: {
          type: "string",
          enum: ["opened", "escalated", "acknowledged", "resolved", "reminded", "escalation_policy"],
        },
        at: time,
        severity: {
          type: "string",
          enum: alertSeverities,
          description: "The alert's severity after the event",
        },
        observedValue: nullable({ type: "number" }),
        by: nullable({ type: "string" }),
        note: nullable({ type: "string" }),
        channelIds: { type: "array", items: int, description: "Channels notified by this event" },
      }),
      Delivery: object({
        id: int,
        deliveryId: {
          type: "string",
          format: "uuid",
          description: "The attempt's id (sent as X-Delivery-Id)",
        },
        alertId: { ...nullable(int), description: "null for a test message" },
        channelId: int,
        attempt: int,
        status: { type: "string", enum: ["pending", "succeeded", "failed", "retrying"] },
        responseCode: nullable(int),
        error: nullable({ type: "string" }),
        latencyMs: nullable(int),
        createdAt: time,
      }),
      Channel: object({
        id: int,
        name: { type: "string" },
        type: { type: "string", enum: channelTypes },
        target: { type: "string" },
        hasSecret: { type: "boolean", description: "The secret itself is never answered" },
        minSeverity: { type: "string", enum: alertSeverities },
        enabled: { type: "boolean" },
        createdAt: time,
        updatedAt: time,
      }),
      Settings: {
        ...jsonSchema(alertSettingsSchema, "output"),
        properties: {
          ...(jsonSchema(alertSettingsSchema, "output").properties as Json),
          updatedAt: { ...nullable(time), description: "null while the defaults apply" },
        },
      },
      Report: object({
        from: time,
        to: time,
        total: int,
        byType: object(Object.fromEntries(alertTypes.map((t) => [t, int]))),
        bySeverity: object(Object.fromEntries(alertSeverities.map((s) => [s, int]))),
        byStatus: object({ firing: int, acknowledged: int, resolved: int }),
        byApiKey: {
          type: "array",
          description: `The ${REPORT_TOP_KEYS} keys with most alerts (null: alerts about no key)`,
          items: object({ apiKeyId: nullable(int), count: int }),
        },
        byDay: {
          type: "array",
          description: "Every UTC day of the range, oldest first",
          items: object({
            day: { type: "string", format: "date" },
            count: int,
            byType: object(Object.fromEntries(alertTypes.map((t) => [t, int]))),
            bySeverity: object(Object.fromEntries(alertSeverities.map((s) => [s, int]))),
          }),
        },
        timeToAcknowledge: durations,
        timeToResolve: durations,
      }),
    },
  },
};
