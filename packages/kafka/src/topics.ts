import { allTopics, type TopicSpec } from "@apimon/events";
import type { Kafka } from "kafkajs";

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
  }: { prefix?: string; replicationFactor?: number; specs?: TopicSpec<unknown>[] } = {},
): Promise<{ created: string[]; existing: string[] }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    const wanted = specs.map((spec) => ({ spec, name: topicName(spec, prefix) }));
    const missing = wanted.filter((t) => !present.has(t.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map(({ spec, name }) => ({
          topic: name,
          numPartitions: spec.partitions,
          replicationFactor,
          configEntries: [
            { name: "cleanup.policy", value: spec.cleanupPolicy },
            ...(spec.retentionMs ? [{ name: "retention.ms", value: String(spec.retentionMs) }] : []),
          ],
        })),
      });
    }
    return {
      created: missing.map((t) => t.name),
      existing: wanted.filter((t) => present.has(t.name)).map((t) => t.name),
    };
  } finally {
    await admin.disconnect();
  }
}
