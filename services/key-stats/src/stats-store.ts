import type { PrismaClient } from "@apimon/db";
import { type BatchPlan, planBatch, type UsageRecord } from "./domain/batch-plan";

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

/** key-stats' writes: usage counters, the events counted and the offset, always together. */
export interface KeyStatsStore {
  /** The stored next offset of a partition, if this group ever stored one. */
  readNextOffset(ref: PartitionRef): Promise<bigint | undefined>;
  /**
   * In one transaction: locks the partition's offset row, records the ids of the batch's events
   * at or past the stored next offset in counted_events (an id already there was counted
   * before), adds the events newly recorded to api_keys and stores the new next offset. Either
   * all of it commits or none.
   */
  applyBatch(ref: PartitionRef, records: readonly UsageRecord[]): Promise<AppliedBatch>;
}

export function createKeyStatsStore({ prisma }: { prisma: PrismaClient }): KeyStatsStore {
  return {
    async readNextOffset({ groupId, topic, partition }) {
      const rows = await prisma.$queryRaw<{ next_offset: bigint }[]>`
        select next_offset from consumer_offsets
        where group_id = ${groupId} and topic = ${topic} and partition = ${partition}`;
      return rows[0]?.next_offset;
    },

    applyBatch({ groupId, topic, partition }, records) {
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

        // Every copy of an event carries the same occurred_at, the partition key, so the primary
        // key finds a copy counted before in any partition and whatever the consumer: only the
        // ids returned here are new.
        const fresh = new Map<string, string>();
        for (const r of records)
          if (r.offset >= stored) fresh.set(r.eventId, new Date(r.occurredAtMs).toISOString());
        const recorded =
          fresh.size === 0
            ? []
            : await tx.$queryRaw<{ event_id: string }[]>`
                insert into counted_events (event_id, occurred_at)
                select * from unnest(${[...fresh.keys()]}::uuid[], ${[...fresh.values()]}::timestamptz[])
                on conflict do nothing
                returning event_id::text`;
        const counted = new Set(recorded.map((r) => r.event_id));
        const plan = planBatch(records, stored, (id) => !counted.has(id.toLowerCase()));

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
