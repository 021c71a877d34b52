import type { z } from "zod";
import { clientSource } from "./client-source";
import {
  alertSignalSchema,
  authFailureSchema,
  dlqRecordSchema,
  keyChangeSchema,
  notificationJobSchema,
  usageEventSchema,
} from "./schemas";
import { usageEventJson } from "./usage-event-json";

/** A topic's contract: its name, what its messages hold, how they are keyed and how it is kept. */
export interface TopicSpec<T> {
  readonly name: string;
  readonly schema: z.ZodType<T>;
  /** The message key; per-key order holds within a partition. */
  // Method syntax on purpose: it keeps TopicSpec<Specific> assignable to TopicSpec<unknown>.
  key(value: T): string;
  /** The message's text for a value the schema accepts; JSON.stringify when absent. */
  serialize?(value: T): string;
  readonly partitions: number;
  readonly cleanupPolicy: "delete" | "compact";
  readonly retentionMs?: number;
  /** Compacted topics carry null values (tombstones) to delete a key. */
  readonly tombstones: boolean;
  /** Whether consumers send undecodable messages to `<name>.dlq`. */
  readonly dlq: boolean;
}

const DAY_MS = 86_400_000;

function defineTopic<T>(spec: TopicSpec<T>): TopicSpec<T> {
  return spec;
}

/** The one catalog of topics. Nobody hand-writes a topic name elsewhere. */
export const topics = {
  usageEvents: defineTopic({
    name: "usage.events.v1",
    schema: usageEventSchema,
    key: (e) => String(e.apiKeyId),
    serialize: usageEventJson,
    partitions: 12,
    cleanupPolicy: "delete",
    retentionMs: 7 * DAY_MS,
    tombstones: false,
    dlq: true,
  }),
  authFailures: defineTopic({
    name: "auth.failures.v1",
    schema: authFailureSchema,
    // One partition per source, so that one consumer sees every failure an IPv6 /64 made.
    key: (e) => clientSource(e.clientIp),
    partitions: 6,
    cleanupPolicy: "delete",
    retentionMs: 7 * DAY_MS,
    tombstones: false,
    dlq: true,
  }),
  keyChanges: defineTopic({
    name: "keys.changes.v1",
    // Nullable: a null value is a tombstone, so publishers pass the key hash explicitly then.
    schema: keyChangeSchema.nullable(),
    key: (k) => {
      if (k === null) throw new Error("a keys.changes.v1 tombstone needs an explicit key");
      return k.keyHash;
    },
    partitions: 3,
    cleanupPolicy: "compact",
    tombstones: true,
    dlq: true,
  }),
  alertSignals: defineTopic({
    name: "alerts.signals.v1",
    schema: alertSignalSchema,
    key: (s) => s.fingerprint,
    partitions: 6,
    cleanupPolicy: "delete",
    retentionMs: 7 * DAY_MS,
    tombstones: false,
    dlq: true,
  }),
  notifications: defineTopic({
    name: "notifications.v1",
    schema: notificationJobSchema,
    // An alert's messages to one channel stay in order (firing before resolved); its channels
    // are independent, so one channel's failing target does not hold back the others'.
    key: (j) => (j.alert.id === null ? j.deliveryId : `${j.alert.id}:${j.channel.id}`),
    partitions: 6,
    cleanupPolicy: "delete",
    retentionMs: 7 * DAY_MS,
    tombstones: false,
    dlq: true,
  }),
} as const;

export type TopicName = keyof typeof topics;

/** The dead-letter topic of a source topic: same key, the raw message and the reason. */
export function dlqTopic(source: TopicSpec<unknown>): TopicSpec<z.infer<typeof dlqRecordSchema>> {
  return {
    name: `${source.name}.dlq`,
    schema: dlqRecordSchema,
    key: (r) => r.key ?? "",
    partitions: 1,
    cleanupPolicy: "delete",
    retentionMs: 30 * DAY_MS,
    tombstones: false,
    dlq: false,
  };
}

/** Every topic the system uses, dead-letter topics included. */
export function allTopics(): TopicSpec<unknown>[] {
  const sources = Object.values(topics) as TopicSpec<unknown>[];
  return [...sources, ...sources.filter((t) => t.dlq).map((t) => dlqTopic(t) as TopicSpec<unknown>)];
}
