import { type DlqRecord, dlqTopic, type TopicSpec } from "@apimon/events";
import type { Logger } from "@apimon/observability";
import { type Kafka, Partitioners } from "kafkajs";
import { fetchEndOffsets } from "./admin";
import { fetchCommittedOffsets, type ReplayRange, replayPartitions } from "./replay";
import { topicName } from "./topics";

/** The header a replayed dead letter carries: where it was replayed from (`<dlq>/<partition>/<offset>`). */
export const REPLAYED_FROM_HEADER = "apimon-replayed-from";

/**
 * The consumer group whose committed offsets on a dead-letter topic mark what was replayed.
 * Nothing consumes as this group: the replay commits its offsets in the same transaction as
 * the messages it writes back.
 */
export function deadLetterReplayGroup(prefix = ""): string {
  return `${prefix}apimon-dlq-replay`;
}

/** A dead-letter topic at a glance: what it ever held and what is still to replay. */
export interface DeadLetterSummary {
  topic: string;
  deadLetterTopic: string;
  /** Dead letters ever written (the end offsets, summed over partitions). */
  written: bigint;
  /** Dead letters not replayed yet (from the replay group's offsets, or the log start). */
  pending: bigint;
}

/**
 * Each partition's part of a dead-letter topic still to replay: from the replay group's offset
 * (or the log start, also where retention already deleted past that offset) to the end.
 */
async function pendingOffsets(kafka: Kafka, dlqName: string, prefix: string) {
  const [ends, committed] = await Promise.all([
    fetchEndOffsets(kafka, dlqName),
    fetchCommittedOffsets(kafka, deadLetterReplayGroup(prefix), dlqName),
  ]);
  return ends.map(({ partition, low, high }) => {
    const commit = committed.get(partition) ?? null;
    return { partition, high, from: commit !== null && commit > low ? commit : low };
  });
}

/** Each dead-letter topic's written and pending counts. */
export async function summarizeDeadLetters(
  kafka: Kafka,
  sources: TopicSpec<unknown>[],
  prefix = "",
): Promise<DeadLetterSummary[]> {
  return Promise.all(
    sources.map(async (source) => {
      const deadLetterTopic = topicName(dlqTopic(source), prefix);
      const offsets = await pendingOffsets(kafka, deadLetterTopic, prefix);
      return {
        topic: topicName(source, prefix),
        deadLetterTopic,
        written: offsets.reduce((sum, p) => sum + p.high, 0n),
        pending: offsets.reduce((sum, p) => sum + (p.high - p.from), 0n),
      };
    }),
  );
}

/** A dead letter with where it sits in its dead-letter topic. */
export interface DeadLetter {
  partition: number;
  offset: string;
  record: DlqRecord;
}

/** The ranges not replayed yet, at most `limit` records from the first partition on. */
async function pendingRanges(kafka: Kafka, dlqName: string, prefix: string, limit?: number) {
  let budget = limit === undefined ? undefined : BigInt(limit);
  const ranges: ReplayRange[] = [];
  for (const { partition, from, high } of await pendingOffsets(kafka, dlqName, prefix)) {
    const pending = high - from;
    if (pending === 0n || budget === 0n) continue;
    const take = budget === undefined || pending < budget ? pending : budget;
    if (budget !== undefined) budget -= take;
    ranges.push({ partition, from, to: from + take });
  }
  return ranges;
}

export interface DeadLetterOptions {
  kafka: Kafka;
  logger: Logger;
  /** The source topic whose dead letters to read, e.g. `topics.usageEvents`. */
  source: TopicSpec<unknown>;
  prefix?: string;
  /** At most this many dead letters. */
  limit?: number;
}

/** Hands the pending dead letters to `onBatch` a fetched batch at a time, per partition in order. */
async function eachPendingBatch(
  { kafka, logger, source, prefix = "", limit }: DeadLetterOptions,
  onBatch: (batch: DeadLetter[], partition: number) => void | Promise<void>,
): Promise<void> {
  const spec = dlqTopic(source);
  await replayPartitions({
    kafka,
    logger,
    topic: spec,
    topicPrefix: prefix,
    ranges: await pendingRanges(kafka, topicName(spec, prefix), prefix, limit),
    onMessages: (messages, partition) =>
      onBatch(
        messages.map((m) => ({ partition: m.partition, offset: m.offset, record: m.value })),
        partition,
      ),
  });
}

/** The dead letters not replayed yet, oldest first. */
export async function readDeadLetters(options: DeadLetterOptions): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  await eachPendingBatch(options, (batch) => {
    letters.push(...batch);
  });
  return letters.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

export interface DeadLetterReplay {
  /** Messages written back to the source topic. */
  replayed: number;
  /** Dead letters passed over: records cut short when dead-lettered, whose message is not whole. */
  skipped: DeadLetter[];
}

/**
 * Writes pending dead letters back to their source topic (same partition, key, value and
 * headers, plus `apimon-replayed-from`), so the consumers handle them again. Each batch is one
 * Kafka transaction holding both the messages and the replay group's new offsets: a replay cut
 * short anywhere either wrote a batch and moved past it, or did neither, and the next replay
 * starts where this one stopped. Consumers read committed messages only (kafkajs' default), so
 * an aborted batch is never seen. Two replays of one topic fence each other by transactional id.
 */
export async function replayDeadLetters({
  kafka,
  logger,
  source,
  prefix = "",
  limit,
  beforeCommit,
}: DeadLetterOptions & {
  /** Called inside each transaction before it commits; a throw aborts it (tests use it). */
  beforeCommit?: (batch: DeadLetter[]) => void | Promise<void>;
}): Promise<DeadLetterReplay> {
  const spec = dlqTopic(source);
  const dlqName = topicName(spec, prefix);
  const target = topicName(source, prefix);
  const log = logger.child({ component: "dlq-replay", topic: dlqName });
  const producer = kafka.producer({
    transactionalId: `${prefix}apimon-dlq-replay-${source.name}`,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  // Connecting first matters: it fences an earlier replay of this topic and aborts its open
  // transaction, and only then do the replay group's offsets say what was really written.
  await producer.connect();
  const result: DeadLetterReplay = { replayed: 0, skipped: [] };
  try {
    await eachPendingBatch({ kafka, logger, source, prefix, limit }, async (batch, partition) => {
      const whole = batch.filter((l) => !l.record.truncated);
      const last = batch[batch.length - 1];
      if (!last) return;
      const transaction = await producer.transaction();
      try {
        if (whole.length > 0) {
          await transaction.send({
            topic: target,
            messages: whole.map(({ offset, record }) => ({
              partition: record.partition,
              key: record.key,
              value: record.value === null ? null : Buffer.from(record.value, record.valueEncoding),
              headers: { ...record.headers, [REPLAYED_FROM_HEADER]: `${dlqName}/${partition}/${offset}` },
            })),
          });
        }
        await transaction.sendOffsets({
          consumerGroupId: deadLetterReplayGroup(prefix),
          topics: [{ topic: dlqName, partitions: [{ partition, offset: String(BigInt(last.offset) + 1n) }] }],
        });
        await beforeCommit?.(batch);
        await transaction.commit();
      } catch (error) {
        await transaction.abort().catch((err: unknown) => log.warn({ err }, "aborting a replay batch"));
        throw error;
      }
      result.replayed += whole.length;
      result.skipped.push(...batch.filter((l) => l.record.truncated));
    });
    log.info({ replayed: result.replayed, skipped: result.skipped.length }, "dead letters replayed");
    return result;
  } finally {
    await producer.disconnect();
  }
}
