import { z } from "zod";

const isoTime = z.iso.datetime({ offset: true });
const id = z.number().int().positive();
const windowState = z.object({
  limit: z.number().int().nonnegative(),
  remaining: z.number().int().nonnegative(),
  /** Seconds until the window resets. */
  reset: z.number().int().nonnegative(),
});

export const alertTypes = [
  "response_time",
  "error_rate",
  "usage_spike",
  "unauthorized_access",
  "rate_limit_approaching",
] as const;
export const alertSeverities = ["warning", "critical"] as const;

/** One authenticated call through the edge, 429s included. Keyed by apiKeyId. */
export const usageEventSchema = z.object({
  /** uuid v7: unique and time-ordered; consumers are idempotent on it. */
  id: z.uuid(),
  occurredAt: isoTime,
  apiKeyId: id,
  userId: id,
  /** The normalised route, e.g. /users/:id, so per-endpoint statistics stay bounded. */
  endpoint: z.string().min(1).max(512),
  method: z.string().min(1).max(16),
  /** Any three digits (RFC 9110 § 15): upstreams may answer outside the registered 100–599. */
  statusCode: z.number().int().min(100).max(999),
  responseTimeMs: z.number().nonnegative(),
  rateLimited: z.boolean(),
  limits: z.object({ minute: windowState, hour: windowState, day: windowState }),
  clientIp: z.string().max(64),
  edgeInstance: z.string().max(128),
});
export type UsageEvent = z.infer<typeof usageEventSchema>;

/** A refused authentication at the edge. Keyed by client source (IPv4 address, IPv6 /64). */
export const authFailureSchema = z.object({
  id: z.uuid(),
  occurredAt: isoTime,
  reason: z.enum(["missing", "invalid", "inactive"]),
  /** Known only when the key exists but is inactive or expired. */
  apiKeyId: id.optional(),
  /** The first characters of a presented key, never the key itself. */
  keyPrefix: z.string().max(16).optional(),
  /** The client's address; in a summary (`count`) of an IPv6 client, its /64 (`2001:db8:0:12::/64`). */
  clientIp: z.string().max(64),
  endpoint: z.string().max(512),
  method: z.string().max(16),
  /**
   * Attempts this event stands for (absent: one). The edge refuses an IP's attempts beyond its
   * per-minute limit without checking them and reports them in one event per IP and minute.
   */
  count: z.number().int().positive().optional(),
});
export type AuthFailure = z.infer<typeof authFailureSchema>;

/** A key's current state on the compacted registry topic, keyed by key hash; null is a tombstone. */
export const keyChangeSchema = z.object({
  id,
  userId: id,
  keyHash: z.string().regex(/^[0-9a-f]{64}$/, "HMAC-SHA-256 hex"),
  keyPrefix: z.string().max(16),
  active: z.boolean(),
  expiresAt: isoTime.nullable(),
  rateLimits: z.object({
    minute: z.number().int().positive().nullable(),
    hour: z.number().int().positive().nullable(),
    day: z.number().int().positive().nullable(),
  }),
  updatedAt: isoTime,
});
export type KeyChange = z.infer<typeof keyChangeSchema>;

/** A rule's verdict about one scope. Keyed by fingerprint (type + scope). */
export const alertSignalSchema = z.object({
  fingerprint: z.string().min(1).max(256),
  type: z.enum(alertTypes),
  severity: z.enum(alertSeverities),
  state: z.enum(["firing", "resolved"]),
  scope: z.object({
    apiKeyId: id.optional(),
    endpoint: z.string().max(512).optional(),
    clientIp: z.string().max(64).optional(),
  }),
  observedValue: z.number(),
  threshold: z.number(),
  message: z.string().max(2000),
  observedAt: isoTime,
  /**
   * The rule's matches since the condition started firing, the firing one included (absent: the
   * signal counts as one). A running total, so a copy or a replay never counts twice.
   */
  occurrences: z.number().int().positive().optional(),
});
export type AlertSignal = z.infer<typeof alertSignalSchema>;

/** An alert as a notification job carries it. */
const jobAlertSchema = z.object({
  id: id.nullable(),
  fingerprint: z.string(),
  type: z.enum(alertTypes),
  severity: z.enum(alertSeverities),
  status: z.enum(["firing", "acknowledged", "resolved"]),
  message: z.string(),
  apiKeyId: id.nullable(),
  /** The key's name when the job was made (absent: no key, a deleted key, or an older job). */
  apiKeyName: z.string().max(200).optional(),
  endpoint: z.string().nullable(),
  clientIp: z.string().nullable(),
  observedValue: z.number(),
  threshold: z.number(),
  occurrences: z.number().int().nonnegative(),
  firstSeenAt: isoTime,
  lastSeenAt: isoTime,
});

/** The most alerts one grouped message names besides its first. */
export const MAX_GROUPED_ALERTS = 99;

/** One delivery job for one channel target. Keyed by alert id (the first alert's, when grouped). */
export const notificationJobSchema = z.object({
  /** Stable across retries; sent as X-Delivery-Id so receivers can deduplicate. */
  deliveryId: z.uuid(),
  reason: z.enum(["firing", "escalated", "resolved", "reminder", "test"]),
  channel: z.object({ id, type: z.enum(["email", "slack", "webhook"]) }),
  target: z.string().min(1).max(2048),
  attempt: z.number().int().positive(),
  /** Optional link for the message: the alert in the alerts service (its API or console). */
  alertUrl: z.url().max(2048).optional(),
  alert: jobAlertSchema,
  /**
   * More alerts of the same type and endpoint told of in the same message, for the same reason,
   * each with its own link: alerts that opened (or fell due a reminder) close together and were
   * held back to go as one message per channel. Absent: the message is about `alert` alone.
   */
  others: z
    .array(jobAlertSchema.extend({ alertUrl: z.url().max(2048).optional() }))
    .min(1)
    .max(MAX_GROUPED_ALERTS)
    .optional(),
});
export type NotificationJob = z.infer<typeof notificationJobSchema>;

/** What a consumer writes to `<topic>.dlq` for a message it could not handle. */
export const dlqRecordSchema = z.object({
  sourceTopic: z.string(),
  partition: z.number().int().nonnegative(),
  offset: z.string().regex(/^\d+$/),
  consumerGroup: z.string(),
  key: z.string().nullable(),
  /** The raw value: UTF-8 text when it decodes as such, otherwise base64. */
  value: z.string().nullable(),
  valueEncoding: z.enum(["utf8", "base64"]),
  headers: z.record(z.string(), z.string()),
  error: z.string(),
  failedAt: isoTime,
  /**
   * Set when the record would not fit the dead-letter topic: `value` (and maybe `key` and
   * `headers`) is cut short or left out, and `valueBytes` is the original value's size.
   */
  truncated: z.boolean().optional(),
  valueBytes: z.number().int().nonnegative().optional(),
});
export type DlqRecord = z.infer<typeof dlqRecordSchema>;
