import { allTopics, type TopicSpec } from "@apimon/events";
import type { Admin, Kafka } from "kafkajs";

/** The broker-side name of a catalog topic under a prefix (empty in production, unique per test run). */
export function topicName(spec: TopicSpec<unknown> | { name: string }, prefix = ""): string {
  return `${prefix}${spec.name}`;
}

/**
 * Creates every catalog topic (dead-letter topics included) that does not exist yet, with its
 * partitions and cleanup policy, and waits until each has a leader. Safe to run repeatedly.
 */
export async function ensureTopics(
  kafka: Kafka,
  {
    prefix = "",
    replicationFactor = 1,
    specs = allTopics(),
    timeoutMs = 30_000,
  }: { prefix?: string; replicationFactor?: number; specs?: TopicSpec<unknown>[]; timeoutMs?: number } = {},
): Promise<{ created: string[]; existing: string[] }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    const wanted = specs.map((spec) => ({ spec, name: topicName(spec, prefix) }));
    const missing = wanted.filter((t) => !present.has(t.name));
    if (missing.length > 0) {
      try {
        await admin.createTopics({
          // Leaders are awaited below: kafkajs' own wait gives up on UNKNOWN_TOPIC_OR_PARTITION,
          // which a KRaft broker answers for a moment after creating a topic.
          waitForLeaders: false,
          topics: missing.map(({ spec, name }) => ({
            topic: name,
            numPartitions: spec.partitions,
            replicationFactor,
            configEntries: [
              { name: "cleanup.policy", value: spec.cleanupPolicy },
              // With three copies an acks=all write needs two: one node may be lost, no write is
              // acknowledged by a lone replica. (Fewer copies keep the broker's default.)
              ...(replicationFactor >= 3 ? [{ name: "min.insync.replicas", value: "2" }] : []),
              ...(spec.retentionMs ? [{ name: "retention.ms", value: String(spec.retentionMs) }] : []),
            ],
          })),
        });
      } catch (error) {
        // Another process may have created some of them at the same moment: fine, if all exist now.
        const now = new Set(await admin.listTopics());
        if (!missing.every((t) => now.has(t.name))) throw error;
      }
      await waitForLeaders(
        admin,
        missing.map((t) => t.name),
        timeoutMs,
      );
    }
    return {
      created: missing.map((t) => t.name),
      existing: wanted.filter((t) => present.has(t.name)).map((t) => t.name),
    };
  } finally {
    await admin.disconnect();
  }
}

/** Waits until every partition of the topics has a leader, retrying while metadata catches up. */
async function waitForLeaders(admin: Admin, names: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      if (
        topics.length === names.length &&
        topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
      ) {
        return;
      }
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`topics without leaders after ${timeoutMs} ms: ${names.join(", ")}`);
    await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 500)));
  }
}
