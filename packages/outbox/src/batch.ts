import type { TopicSpec } from "@apimon/events";

/** An outbox row as the relay reads it. */
export interface OutboxRow {
  id: bigint;
  /** Catalog topic name, unprefixed. */
  topic: string;
  messageKey: string;
  /** The JSON payload; null with `tombstone` for a DB NULL. */
  payload: unknown;
  /** The payload column is NULL: publish a tombstone. */
  tombstone: boolean;
  headers: unknown;
}

export interface PlannedMessage {
  row: OutboxRow;
  topic: TopicSpec<unknown>;
  /** Validated against the topic's schema; null is a tombstone. */
  value: unknown;
  headers: Record<string, string> | undefined;
}

export interface BatchPlan {
  /** At most one row per (topic, key): the oldest unpublished one of that key. In id order. */
  publish: PlannedMessage[];
  /** Rows that cannot be published as they are; their key waits until someone fixes them. */
  invalid: { row: OutboxRow; reason: string }[];
  /** Younger rows of a key that is already in this batch (or held): they go in a later batch. */
  deferred: number;
}

/** The identity that order is kept per: a key's messages on one topic. */
export function streamOf(row: { topic: string; messageKey: string }): string {
  return `${row.topic}\u0000${row.messageKey}`;
}

function headersOf(value: unknown): Record<string, string> | undefined | false {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) return false;
  const headers: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if (typeof v !== "string") return false;
    headers[name] = v;
  }
  return headers;
}

/**
 * Chooses what one relay batch publishes from the oldest unpublished rows (in id order).
 *
 * Only the first row of each (topic, key) is taken. A retry after a failure re-reads from the
 * oldest unpublished row, so it sends for each key exactly the row it sent before: a crash
 * between the broker's ack and the mark can only repeat a key's message right after itself,
 * never replay an older state after a newer one.
 *
 * A row whose topic is not in the catalog, whose payload fails its topic's schema, or that is
 * a tombstone for a topic without tombstones is invalid: it and every later row of its key
 * stay back (publishing a later state would skip it; dropping it could lose a deactivation).
 */
export function planBatch(rows: OutboxRow[], catalog: ReadonlyMap<string, TopicSpec<unknown>>): BatchPlan {
  const seen = new Set<string>();
  const plan: BatchPlan = { publish: [], invalid: [], deferred: 0 };
  for (const row of rows) {
    const stream = streamOf(row);
    if (seen.has(stream)) {
      plan.deferred++;
      continue;
    }
    seen.add(stream);
    const topic = catalog.get(row.topic);
    if (!topic) {
      plan.invalid.push({ row, reason: `unknown topic ${row.topic}` });
      continue;
    }
    const headers = headersOf(row.headers);
    if (headers === false) {
      plan.invalid.push({ row, reason: "headers must be an object of strings" });
      continue;
    }
    const value = row.tombstone ? null : row.payload;
    if (value === null && !topic.tombstones) {
      plan.invalid.push({ row, reason: `${topic.name} does not take tombstones` });
      continue;
    }
    const parsed = topic.schema.safeParse(value);
    if (!parsed.success) {
      const detail = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.length ? i.path.join(".") : "(value)"}: ${i.message}`)
        .join("; ");
      plan.invalid.push({ row, reason: `schema ${topic.name}: ${detail}` });
      continue;
    }
    plan.publish.push({ row, topic, value: parsed.data, headers });
  }
  return plan;
}

/** Capped exponential backoff after `failures` consecutive failed attempts (1 = the first). */
export function backoffMs(
  failures: number,
  { initialMs, maxMs }: { initialMs: number; maxMs: number },
): number {
  if (failures <= 0) return 0;
  return Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 30));
}
