import { type ApiKey, Prisma } from "@apimon/db";
import { topics } from "@apimon/events";
import { keyChangeOf } from "./domain/key-state";

/** The transaction client a change is written with; the outbox row commits or rolls back with it. */
export type Tx = Prisma.TransactionClient;

/**
 * Records a key's new state for the registry topic, in the caller's transaction. The relay
 * publishes outbox rows in id order, so per key the topic sees changes in commit order.
 */
export async function enqueueKeyState(tx: Tx, key: ApiKey): Promise<void> {
  const change = topics.keyChanges.schema.parse(keyChangeOf(key));
  await tx.outbox.create({
    data: {
      topic: topics.keyChanges.name,
      messageKey: key.keyHash,
      payload: change as Prisma.InputJsonObject,
    },
  });
}

/** Records a key's deletion: a tombstone (null value) under its hash on the compacted topic. */
export async function enqueueKeyTombstone(tx: Tx, keyHash: string): Promise<void> {
  await tx.outbox.create({
    data: { topic: topics.keyChanges.name, messageKey: keyHash, payload: Prisma.DbNull },
  });
}
