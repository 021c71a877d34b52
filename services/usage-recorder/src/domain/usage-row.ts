import type { UsageEvent } from "@apimon/events";

/** One api_usage row, in the columns' units: the spec's fields plus the event id. */
export interface UsageRow {
  eventId: string;
  userId: number;
  apiKeyId: number;
  endpoint: string;
  method: string;
  statusCode: number;
  /** Seconds, as the spec's `response_time` (the event carries milliseconds). */
  responseTime: number;
  rateLimited: boolean;
  /**
   * The event's occurredAt, passed to Postgres as the ISO text it arrived in. A redelivered
   * event thus always gets the same created_at, which the unique key (event_id, created_at)
   * and the partition it lands in depend on.
   */
  createdAt: string;
}

/** The api_usage row of a usage event. */
export function toUsageRow(event: UsageEvent): UsageRow {
  return {
    eventId: event.id,
    userId: event.userId,
    apiKeyId: event.apiKeyId,
    endpoint: event.endpoint,
    method: event.method,
    statusCode: event.statusCode,
    responseTime: event.responseTimeMs / 1000,
    rateLimited: event.rateLimited,
    createdAt: event.occurredAt,
  };
}

/** The api_usage columns a batch fills, with the Postgres array type of each parameter. */
export const USAGE_COLUMNS = [
  ["event_id", "uuid[]"],
  ["user_id", "int4[]"],
  ["api_key_id", "int4[]"],
  ["endpoint", "text[]"],
  ["method", "text[]"],
  ["status_code", "int4[]"],
  ["response_time", "float8[]"],
  ["rate_limited", "bool[]"],
  ["created_at", "timestamptz[]"],
] as const;

const NEEDS_ESCAPE = /["\\]/;

/** A text as an element of a Postgres array literal: double-quoted, `"` and `\` escaped. */
function quoteElement(text: string): string {
  return NEEDS_ESCAPE.test(text) ? `"${text.replace(/["\\]/g, "\\$&")}"` : `"${text}"`;
}

/**
 * The rows as Postgres array literals (`{…,…}`), one text parameter per column in
 * {@link USAGE_COLUMNS} order. The driver would build the same text from JS arrays itself;
 * handing Prisma nine strings instead of nine arrays of thousands of values spares its
 * per-value argument handling, which costs several times the database's own work on a batch.
 * Every text is quoted, so no value can split an element whatever it holds. A row repeating another's key (the same event twice in one
 * batch) stays in: ON CONFLICT DO NOTHING also skips a key the same statement inserted.
 */
export function toArrayLiterals(rows: readonly UsageRow[]): string[] {
  // One pass, appending to a string per column (V8 joins the pieces once, when it is sent).
  let ids = "";
  let users = "";
  let keys = "";
  let endpoints = "";
  let methods = "";
  let statuses = "";
  let times = "";
  let limited = "";
  let created = "";
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as UsageRow;
    const sep = i === 0 ? "" : ",";
    ids += sep + quoteElement(row.eventId);
    users += sep + row.userId;
    keys += sep + row.apiKeyId;
    endpoints += sep + quoteElement(row.endpoint);
    methods += sep + quoteElement(row.method);
    statuses += sep + row.statusCode;
    times += sep + row.responseTime;
    limited += sep + row.rateLimited;
    created += sep + quoteElement(row.createdAt);
  }
  return [ids, users, keys, endpoints, methods, statuses, times, limited, created].map((c) => `{${c}}`);
}

/**
 * The one bulk statement per batch: every row through unnest() of nine array parameters (one
 * per column, whatever the batch size), rows already stored skipped on the unique key. Its
 * row count is the number of rows actually inserted.
 */
export const INSERT_USAGE_SQL =
  `INSERT INTO api_usage (${USAGE_COLUMNS.map(([name]) => name).join(", ")}) ` +
  `SELECT * FROM unnest(${USAGE_COLUMNS.map(([, type], i) => `$${i + 1}::${type}`).join(", ")}) ` +
  "ON CONFLICT (event_id, created_at) DO NOTHING";
