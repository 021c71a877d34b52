// Shared by key-stats' integration tests: a stream of usage events with duplicate publishes,
// the keys they belong to, and what the database says about them.
import { topics, type UsageEvent } from "@apimon/events";
import { type BatchingProducer, fetchEndOffsets, type KafkaClient, topicName } from "@apimon/kafka";
import { makeUsageEvent, type TestDatabase, waitFor } from "@apimon/testkit";

export const usage = topics.usageEvents;

/** Makes a user with `count` API keys; returns the key ids. */
export async function seedKeys(db: TestDatabase, label: string, count: number): Promise<number[]> {
  const user = await db.prisma.user.create({ data: { email: `${label}@example.com`, name: label } });
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const key = await db.prisma.apiKey.create({
      data: { userId: user.id, name: `${label}-${i}`, keyHash: `${label}-${i}`, keyPrefix: "ak_test" },
    });
    ids.push(key.id);
  }
  return ids;
}

/**
 * `total` distinct events over `keyIds`, and the order to publish them in: `duplicateShare` of
 * them are published a second time, each somewhere in the next `spread` messages after the
 * first copy (a producer retry or a re-sent spool lands close behind the original).
 */
export function streamWithDuplicates(
  keyIds: number[],
  {
    total,
    duplicateShare,
    spread = 3000,
    edgeInstance = "key-stats-test",
  }: {
    total: number;
    duplicateShare: number;
    spread?: number;
    edgeInstance?: string;
  },
): { events: UsageEvent[]; publishOrder: UsageEvent[] } {
  const start = Date.now() - total;
  const events = Array.from({ length: total }, (_, i) =>
    makeUsageEvent({
      apiKeyId: keyIds[i % keyIds.length] as number,
      occurredAt: new Date(start + i).toISOString(),
      edgeInstance,
    }),
  );
  const slots = events.map((event, i) => ({ at: i, event }));
  const duplicates = Math.round(total * duplicateShare);
  // Every 1/share-th event, so the count is exact; its copy goes a random distance later.
  const step = total / duplicates;
  for (let d = 0; d < duplicates; d++) {
    const i = Math.floor(d * step);
    slots.push({ at: i + 0.5 + Math.random() * spread, event: events[i] as UsageEvent });
  }
  slots.sort((a, b) => a.at - b.at);
  return { events, publishOrder: slots.map((s) => s.event) };
}

/** Publishes in chunks, flushing each, with an optional pause between chunks. */
export async function publishInChunks(
  producer: BatchingProducer,
  events: UsageEvent[],
  {
    chunk = 500,
    pauseMs = 0,
    afterChunk,
  }: { chunk?: number; pauseMs?: number; afterChunk?: (sent: number) => Promise<void> | void } = {},
): Promise<void> {
  for (let i = 0; i < events.length; i += chunk) {
    await Promise.all(events.slice(i, i + chunk).map((e) => producer.publish(usage, e)));
    await producer.flush();
    await afterChunk?.(Math.min(events.length, i + chunk));
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
}

/** usage_count and last_used of each key, by id. */
export async function keyStats(db: TestDatabase, keyIds: number[]) {
  const rows = await db.prisma.apiKey.findMany({
    where: { id: { in: keyIds } },
    select: { id: true, usageCount: true, lastUsed: true },
    orderBy: { id: "asc" },
  });
  return rows.map((r) => ({
    id: r.id,
    usageCount: Number(r.usageCount),
    lastUsed: r.lastUsed?.toISOString() ?? null,
  }));
}

export async function totalUsage(db: TestDatabase, keyIds: number[]): Promise<number> {
  return (await keyStats(db, keyIds)).reduce((sum, k) => sum + k.usageCount, 0);
}

/** What each key should show: its number of distinct events and the latest occurredAt. */
export function expectedStats(events: UsageEvent[], keyIds: number[]) {
  return keyIds.map((id) => {
    const mine = events.filter((e) => e.apiKeyId === id);
    const latest = mine.reduce<string | null>(
      (max, e) => (max === null || e.occurredAt > max ? e.occurredAt : max),
      null,
    );
    return { id, usageCount: mine.length, lastUsed: latest };
  });
}

/** The group's stored offsets, as {partition: nextOffset}, and the topic's end offsets likewise. */
export async function storedAndEndOffsets(
  db: TestDatabase,
  kafka: KafkaClient,
  prefix: string,
  groupId: string,
) {
  const topic = topicName(usage, prefix);
  const rows = await db.prisma.consumerOffset.findMany({ where: { groupId, topic } });
  const stored = Object.fromEntries(rows.map((r) => [r.partition, Number(r.nextOffset)]));
  const end = Object.fromEntries(
    (await fetchEndOffsets(kafka, topic))
      .filter((p) => p.high > 0n)
      .map((p) => [p.partition, Number(p.high)]),
  );
  return { stored, end };
}

/** Waits until the offsets the group stored beside its counts reach the end of every partition. */
export async function waitForStoredOffsetsAtEnd(
  db: TestDatabase,
  kafka: KafkaClient,
  prefix: string,
  groupId: string,
  what = "the stored offsets to reach the end of every partition",
): Promise<void> {
  await waitFor(
    async () => {
      const { stored, end } = await storedAndEndOffsets(db, kafka, prefix, groupId);
      return JSON.stringify(stored) === JSON.stringify(end);
    },
    { timeoutMs: 120_000, what },
  );
}

/** Waits until the keys' usage counts add up to `total`. */
export async function waitForTotalUsage(
  db: TestDatabase,
  keyIds: number[],
  total: number,
  timeoutMs = 120_000,
) {
  await waitFor(async () => (await totalUsage(db, keyIds)) >= total, {
    timeoutMs,
    what: `usage_count to reach ${total.toLocaleString("en-US")}`,
  });
}
