import type { PrismaClient } from "@apimon/db";
import type { BatchPlan } from "./domain/batch-plan";

export interface PartitionRef {
  groupId: string;
  /** The topic's name on the broker (with any prefix). */
  topic: string;
  partition: number;
}

export interface AppliedBatch {
  plan: BatchPlan;
  /** Keys of the batch that no longer exist (deleted): their events only advanced the offset. */
  unknownKeys: number[];
}

/** key-stats' writes: usage counters and the offsets they were counted up to, always together. */
export interface KeyStatsStore {
  /** The stored next offset of a partition, if this group ever stored one. */
  readNextOffset(ref: PartitionRef): Promise<bigint | undefined>;
  /**
   * In one transaction: locks the partition's offset row, plans the batch against the stored
   * next offset (`plan` runs inside, after the lock), adds the counts to api_keys and stores the
   * new next offset. Either all of it commits or none.
   */
  applyBatch(ref: PartitionRef, plan: (storedNextOffset: bigint) => BatchPlan): Promise<AppliedBatch>;
}

export function createKeyStatsStore({ prisma }: { prisma: PrismaClient }): KeyStatsStore {
  return {
    async readNextOffset({ groupId, topic, partition }) {
      const rows = await prisma.$queryRaw<{ next_offset: bigint }[]>`
        select next_offset from consumer_offsets
        where group_id = ${groupId} and topic = ${topic} and partition = ${partition}`;
      return rows[0]?.next_offset;
    },

    applyBatch({ groupId, topic, partition }, makePlan) {
      return prisma.$transaction(async (tx) => {
        // Creates the row on first use and locks it either way (an upsert's update takes the row
        // lock, like SELECT ... FOR UPDATE): a second consumer of this partition, e.g. a zombie
        // after a rebalance, waits here and then sees the offset this transaction stores.
        const [row] = await tx.$queryRaw<{ next_offset: bigint }[]>`
          insert into consumer_offsets (group_id, topic, partition, next_offset, updated_at)
          values (${groupId}, ${topic}, ${partition}, 0, now())
          on conflict (group_id, topic, partition) do update set next_offset = consumer_offsets.next_offset
          returning next_offset`;
        const stored = row?.next_offset ?? 0n;
        const plan = makePlan(stored);

        let unknownKeys: number[] = [];
        if (plan.increments.length > 0) {
          const ids = plan.increments.map((i) => i.apiKeyId);
          const counts = plan.increments.map((i) => i.count);
          const times = plan.increments.map((i) => new Date(i.lastUsedMs).toISOString());
          // One statement for every key of the batch. Keys that were deleted match no row: their
          // events are dropped (usage history stays in api_usage) and only move the offset on.
          // GREATEST ignores NULL, so a first use sets last_used; an older event never moves it back.
          const updated = await tx.$queryRaw<{ id: number }[]>`
            update api_keys as k
            set usage_count = k.usage_count + b.n, last_used = greatest(k.last_used, b.last_used)
            from unnest(${ids}::int[], ${counts}::int[], ${times}::timestamptz[]) as b(id, n, last_used)
            where k.id = b.id
            returning k.id`;
          if (updated.length < ids.length) {
            const found = new Set(updated.map((u) => u.id));
            unknownKeys = ids.filter((id) => !found.has(id));
          }
        }
        if (plan.nextOffset !== stored) {
          await tx.$executeRaw`
            update consumer_offsets set next_offset = ${plan.nextOffset}, updated_at = now()
            where group_id = ${groupId} and topic = ${topic} and partition = ${partition}`;
        }
        return { plan, unknownKeys };
      });
    },
  };
}
