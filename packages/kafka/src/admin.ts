import type { Kafka } from "kafkajs";

/** Where a partition's log starts and ends right now; `high` is the next offset to be written. */
export interface PartitionOffsets {
  partition: number;
  low: bigint;
  high: bigint;
}

/** Leadership still settling (e.g. just after the topic was created, or during a failover). */
const LEADERSHIP_ERRORS = new Set(["NOT_LEADER_FOR_PARTITION", "LEADER_NOT_AVAILABLE"]);

/**
 * The log start and end offsets (high watermarks) of every partition of a topic, as of now,
 * in partition order. A partition with `high === low` holds nothing to read. Fails when the
 * topic does not exist.
 */
export async function fetchEndOffsets(
  kafka: Kafka,
  topic: string,
  { timeoutMs = 30_000 }: { timeoutMs?: number } = {},
): Promise<PartitionOffsets[]> {
  const deadline = Date.now() + timeoutMs;
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const offsets = await admin.fetchTopicOffsets(topic);
        return offsets
          .map((p) => ({ partition: p.partition, low: BigInt(p.low), high: BigInt(p.high) }))
          .sort((a, b) => a.partition - b.partition);
      } catch (error) {
        // kafkajs retries only an unknown topic here; a KRaft broker answers "not the leader"
        // for a moment after creating a topic although the metadata already names it leader.
        const type = (error as { type?: unknown }).type;
        if (typeof type !== "string" || !LEADERSHIP_ERRORS.has(type) || Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/** A consumer group's position in one partition: the end, its last commit and the gap. */
export interface PartitionLag {
  partition: number;
  /** The high watermark: the next offset to be written. */
  high: bigint;
  /** The group's committed offset (the next one it will read), or null if it committed none. */
  committed: bigint | null;
  /** Messages the group has not committed yet: high − committed (high − low without a commit). */
  lag: bigint;
}

/**
 * Each partition's lag of a consumer group on a topic, from the broker's high watermarks and
 * the group's committed offsets (one admin connection, two requests). Cheap enough to poll
 * every few seconds; it sees every partition, whichever member owns it or none.
 */
export async function fetchConsumerLag(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<PartitionLag[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [ends, commits] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const committed = new Map<number, bigint>();
    for (const p of commits[0]?.partitions ?? []) {
      // kafkajs reports "-1" for a partition without a commit.
      if (BigInt(p.offset) >= 0n) committed.set(p.partition, BigInt(p.offset));
    }
    return ends
      .map((p) => {
        const high = BigInt(p.high);
        const commit = committed.get(p.partition) ?? null;
        const from = commit ?? BigInt(p.low);
        return { partition: p.partition, high, committed: commit, lag: high > from ? high - from : 0n };
      })
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Deletes consumer groups that have no members left (e.g. a throwaway group after its consumer
 * stopped), so they do not pile up on the broker until offsets retention expires them.
 * Returns the ids that could not be deleted (unknown, still in use), without throwing for them.
 */
export async function deleteConsumerGroups(kafka: Kafka, groupIds: string[]): Promise<string[]> {
  if (groupIds.length === 0) return [];
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteGroups(groupIds);
    return [];
  } catch (error) {
    // kafkajs rejects with KafkaJSDeleteGroupsError listing each group's failure.
    const groups = (error as { groups?: { groupId: string; error?: unknown }[] }).groups;
    if (!Array.isArray(groups)) throw error;
    return groups.filter((g) => g.error).map((g) => g.groupId);
  } finally {
    await admin.disconnect();
  }
}
