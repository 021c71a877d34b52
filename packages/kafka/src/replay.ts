import { randomBytes } from "node:crypto";
import type { TopicSpec } from "@apimon/events";
import type { Logger } from "@apimon/observability";
import type { EachBatchPayload, Kafka } from "kafkajs";
import type { ConsumedMessage } from "./consumer";
import { decodeMessage } from "./decode";
import { topicName } from "./topics";

/** Leadership still settling (just after the topic was created, or during a failover). */
const LEADERSHIP_ERRORS = new Set(["NOT_LEADER_FOR_PARTITION", "LEADER_NOT_AVAILABLE"]);

/** Retries `fn` while the broker answers that leadership is still settling (as fetchEndOffsets does). */
async function whileLeadershipSettles<T>(fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const type = (error as { type?: unknown }).type;
      if (typeof type !== "string" || !LEADERSHIP_ERRORS.has(type) || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
    }
  }
}

/**
 * The first offset of each partition whose broker timestamp is at or after `timestampMs`
 * (the high watermark where no message is that recent), keyed by partition.
 */
export async function fetchOffsetsByTimestamp(
  kafka: Kafka,
  topic: string,
  timestampMs: number,
): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await whileLeadershipSettles(() =>
      admin.fetchTopicOffsetsByTimestamp(topic, timestampMs),
    );
    return new Map(offsets.map((p) => [p.partition, BigInt(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * A consumer group's committed offsets (the next offset it will read) for a topic, keyed by
 * partition; null where the group has committed nothing for that partition.
 */
export async function fetchCommittedOffsets(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<Map<number, bigint | null>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [result] = await whileLeadershipSettles(() => admin.fetchOffsets({ groupId, topics: [topic] }));
    return new Map(
      (result?.partitions ?? []).map((p) => [p.partition, Number(p.offset) < 0 ? null : BigInt(p.offset)]),
    );
  } finally {
    await admin.disconnect();
  }
}

/** A half-open offset range [from, to) of one partition. */
export interface ReplayRange {
  partition: number;
  from: bigint;
  to: bigint;
}

export interface ReplayOptions<T> {
  kafka: Kafka;
  logger: Logger;
  topic: TopicSpec<T>;
  topicPrefix?: string;
  ranges: ReplayRange[];
  /** Gets the valid messages of each fetched batch within the ranges, per partition in offset order. */
  onMessages: (messages: ConsumedMessage<T>[], partition: number) => void | Promise<void>;
  timeoutMs?: number;
}

/**
 * Reads offset ranges of a topic's partitions once, outside any real consumer group, e.g. to
 * rebuild in-memory state after a restart or rebalance. It uses a throwaway group that commits
 * nothing and is deleted afterwards. Messages that fail their schema are skipped (the live
 * consumer dead-lettered them already). Resolves when every range was read.
 */
export async function replayPartitions<T>({
  kafka,
  logger,
  topic: spec,
  topicPrefix = "",
  ranges,
  onMessages,
  timeoutMs = 120_000,
}: ReplayOptions<T>): Promise<{ messages: number }> {
  const wanted = new Map(ranges.filter((r) => r.from < r.to).map((r) => [r.partition, r]));
  if (wanted.size === 0) return { messages: 0 };
  const topic = topicName(spec, topicPrefix);
  const groupId = `${topicPrefix}replay-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
  const log = logger.child({ component: "replay", topic });
  const progress = new Map([...wanted.values()].map((r) => [r.partition, r.from]));
  const remaining = new Set(wanted.keys());
  let count = 0;
  let finish: () => void = () => {};
  let fail: (error: unknown) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });

  async function eachBatch({ batch }: EachBatchPayload): Promise<void> {
    const range = wanted.get(batch.partition);
    if (!range || !remaining.has(batch.partition)) return;
    const values: ConsumedMessage<T>[] = [];
    for (const message of batch.messages) {
      const offset = BigInt(message.offset);
      // The fetch may start elsewhere until the seek lands: only the range counts.
      if (offset < range.from || offset >= range.to) continue;
      const decoded = decodeMessage(spec, message.value);
      if (!decoded.ok) continue;
      values.push({
        topic,
        partition: batch.partition,
        offset: message.offset,
        key: message.key === null ? null : message.key.toString("utf8"),
        value: decoded.value,
        headers: {},
        timestamp: message.timestamp,
      });
    }
    if (values.length > 0) {
      count += values.length;
      await onMessages(values, batch.partition);
    }
    const last = BigInt(batch.lastOffset()) + 1n;
    const seen = progress.get(batch.partition) ?? range.from;
    // A batch fetched before the seek landed starts at or after the range's end (the group has
    // no offsets, so it starts at the then high watermark): it says nothing about the range.
    const first = batch.messages[0] ? BigInt(batch.messages[0].offset) : last;
    if (first < range.to && last > seen) progress.set(batch.partition, last);
    if ((progress.get(batch.partition) ?? 0n) >= range.to) {
      remaining.delete(batch.partition);
      if (remaining.size === 0) finish();
    }
  }

  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
  const timer = setTimeout(
    () => fail(new Error(`replay of ${topic} not done after ${timeoutMs} ms`)),
    timeoutMs,
  );
  const started = Date.now();
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: (payload) => eachBatch(payload).catch((error) => fail(error)),
    });
    for (const r of wanted.values())
      consumer.seek({ topic, partition: r.partition, offset: r.from.toString() });
    await done;
    log.info({ partitions: [...wanted.keys()], messages: count, ms: Date.now() - started }, "replay done");
    return { messages: count };
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => {});
    const admin = kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteGroups([groupId]))
      .catch(() => {})
      .finally(() => admin.disconnect().catch(() => {}));
  }
}
