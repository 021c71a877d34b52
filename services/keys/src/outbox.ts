import type { ApiKey, Prisma, PrismaClient } from "@apimon/db";
import { topics } from "@apimon/events";
import { writeOutbox } from "@apimon/outbox";
import { keyChangeOf } from "./domain/key-state";

/** The transaction client a change is written with; the outbox row commits or rolls back with it. */
export type Tx = Prisma.TransactionClient;

/**
 * Records a key's new state for the registry topic, in the caller's transaction. The relay
 * publishes outbox rows in id order, so per key the topic sees changes in commit order.
 */
export async function enqueueKeyState(tx: Tx, key: ApiKey): Promise<void> {
  await writeOutbox(tx, topics.keyChanges, [{ value: keyChangeOf(key), key: key.keyHash }]);
}

/** Records a key's deletion: a tombstone (null value) under its hash on the compacted topic. */
export async function enqueueKeyTombstone(tx: Tx, keyHash: string): Promise<void> {
  await writeOutbox(tx, topics.keyChanges, [{ value: null, key: keyHash }]);
}

/**
 * Runs a change of keys in one transaction with its outbox rows, then calls `committed` (which
 * wakes the relay, so that the change goes out now rather than at its next poll).
 */
export async function changeKeys<T>(
  prisma: PrismaClient,
  committed: () => void,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  const result = await prisma.$transaction(fn);
  committed();
  return result;
}

/**
 * Enqueues the current state of every key again (in id order, `chunkSize` keys per
 * transaction, each key's row locked while its outbox row is written, as every writer does).
 * Run once after KEY_CHANGES_SIGNING_SECRET is first set: the relay then publishes every key's
 * state signed, so that the compacted topic's latest message of every key carries a signature
 * before the edges get the secret. Returns the number of keys enqueued.
 */
export async function enqueueAllKeyStates(prisma: PrismaClient, { chunkSize = 500 } = {}): Promise<number> {
  let after = 0;
  let total = 0;
  for (;;) {
    const count = await prisma.$transaction(async (tx) => {
      const locked = await tx.$queryRaw<{ id: number }[]>`
        select id from api_keys where id > ${after} order by id limit ${chunkSize} for update`;
      if (locked.length === 0) return 0;
      const keys = await tx.apiKey.findMany({
        where: { id: { in: locked.map((k) => k.id) } },
        orderBy: { id: "asc" },
      });
      for (const key of keys) await enqueueKeyState(tx, key);
      after = locked[locked.length - 1]?.id ?? after;
      return keys.length;
    });
    if (count === 0) return total;
    total += count;
  }
}
