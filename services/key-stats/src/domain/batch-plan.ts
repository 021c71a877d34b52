/** What key-stats needs of one usage event, at its place in the partition. */
export interface UsageRecord {
  offset: bigint;
  eventId: string;
  apiKeyId: number;
  /** occurredAt, ms since the epoch. */
  occurredAtMs: number;
}

/** One key's share of a batch: how many requests, and the latest one. */
export interface KeyIncrement {
  apiKeyId: number;
  count: number;
  lastUsedMs: number;
}

export interface BatchPlan {
  /** Ordered by key id, so that concurrent writers lock api_keys rows in the same order. */
  increments: KeyIncrement[];
  /** The partition's next offset once the batch is applied (never below the stored one). */
  nextOffset: bigint;
  /** Events counted. */
  counted: number;
  /** Offsets below the stored next offset: applied before, delivered again. */
  redelivered: number;
  /** Events counted before: their id was seen at an earlier offset. */
  duplicates: number;
}

/**
 * Plans one batch of one partition (records in offset order) against the partition's stored
 * next offset: records below it were applied already; among the rest, an event id seen before
 * (`seenBefore`: counted by an earlier batch) or earlier in this batch is a copy counted already.
 * Every other record is counted for its key.
 */
export function planBatch(
  records: readonly UsageRecord[],
  storedNextOffset: bigint,
  seenBefore: (eventId: string) => boolean,
): BatchPlan {
  const perKey = new Map<number, KeyIncrement>();
  const seenHere = new Set<string>();
  let nextOffset = storedNextOffset;
  let counted = 0;
  let redelivered = 0;
  let duplicates = 0;
  for (const record of records) {
    const duplicate = seenHere.has(record.eventId) || seenBefore(record.eventId);
    seenHere.add(record.eventId);
    if (record.offset < storedNextOffset) {
      redelivered++;
      continue;
    }
    if (record.offset >= nextOffset) nextOffset = record.offset + 1n;
    if (duplicate) {
      duplicates++;
      continue;
    }
    counted++;
    const entry = perKey.get(record.apiKeyId);
    if (entry) {
      entry.count++;
      entry.lastUsedMs = Math.max(entry.lastUsedMs, record.occurredAtMs);
    } else {
      perKey.set(record.apiKeyId, { apiKeyId: record.apiKeyId, count: 1, lastUsedMs: record.occurredAtMs });
    }
  }
  const increments = [...perKey.values()].sort((a, b) => a.apiKeyId - b.apiKeyId);
  return { increments, nextOffset, counted, redelivered, duplicates };
}
