import { Prisma } from "@apimon/db";
import type { TopicSpec } from "@apimon/events";

/** What the writer needs of a transaction: the outbox table (a Prisma transaction client fits). */
export type OutboxTx = Pick<Prisma.TransactionClient, "outbox">;

/** A message for the outbox: its value, and its key when the topic cannot derive it (a tombstone). */
export interface OutboxMessage<T> {
  value: T | null;
  key?: string;
}

/**
 * Writes messages to the outbox in the caller's transaction: they reach Kafka if and only if
 * the transaction commits (the relay publishes them, at least once, in id order per key).
 * Each value is validated against the topic's schema here, so a bad one fails the change
 * rather than the relay; a null value is a tombstone and needs an explicit key.
 */
export async function writeOutbox<T>(
  tx: OutboxTx,
  topic: TopicSpec<T>,
  messages: readonly OutboxMessage<T>[],
): Promise<void> {
  if (messages.length === 0) return;
  await tx.outbox.createMany({
    data: messages.map(({ value, key }) => {
      if (value === null) {
        if (!topic.tombstones || key === undefined) {
          throw new Error(`a tombstone needs a compacted topic and a key (${topic.name})`);
        }
        return { topic: topic.name, messageKey: key, payload: Prisma.DbNull };
      }
      const valid = topic.schema.parse(value);
      return {
        topic: topic.name,
        messageKey: key ?? topic.key(valid),
        payload: valid as unknown as Prisma.InputJsonObject,
      };
    }),
  });
}
