import { dlqTopic, type TopicSpec } from "@apimon/events";
import { createKafka, deleteConsumerGroups, ensureTopics, type KafkaClient, topicName } from "@apimon/kafka";
import type { Logger } from "@apimon/observability";
import { ConfigResourceTypes, type Message } from "kafkajs";
import { testInfra } from "./infra";
import { testLogger } from "./logger";
import { uniqueName, uniqueTopicPrefix } from "./names";
import { waitFor } from "./wait";

/** One test run's own topics and consumer groups on the test broker. */
export interface TestTopics {
  kafka: KafkaClient;
  /** The run's topic prefix (`<label>-…-<random>.`), to hand to producers, consumers and services. */
  prefix: string;
  /** The broker-side name of a catalog topic in this run. */
  name(spec: TopicSpec<unknown> | { name: string }): string;
  /** Creates more catalog topics under the prefix (deleted by cleanup()). */
  ensure(specs: TopicSpec<unknown>[]): Promise<void>;
  /** A fresh consumer-group id, deleted by cleanup(). */
  group(label: string): string;
  /** Groups made elsewhere (a service's, from a name of ours) that cleanup() deletes too. */
  adoptGroups(...groupIds: string[]): void;
  /** Deletes the groups and the topics this run created; never throws. */
  cleanup(): Promise<void>;
}

export interface TestTopicsOptions {
  /** A client of the caller's (another broker, other retries); one on the test broker otherwise. */
  kafka?: KafkaClient;
  logger?: Logger;
  /** The prefix to use instead of a fresh one (e.g. one an ACL was granted for). */
  prefix?: string;
  /** Also create each spec's dead-letter topic. */
  withDlq?: boolean;
  replicationFactor?: number;
}

/**
 * Creates `specs` under a brand-new prefix, so that offsets, groups and dead letters belong to
 * this run alone. Call cleanup() in afterAll.
 */
export async function createTestTopics(
  label: string,
  specs: TopicSpec<unknown>[],
  {
    kafka,
    logger = testLogger(label),
    prefix = uniqueTopicPrefix(label),
    withDlq = false,
    replicationFactor,
  }: TestTopicsOptions = {},
): Promise<TestTopics> {
  const client = kafka ?? createKafka({ brokers: testInfra.kafkaBrokers, clientId: label, logger });
  const created: string[] = [];
  const groups: string[] = [];
  const ensure = async (more: TopicSpec<unknown>[]) => {
    const all = withDlq ? [...more, ...more.map((s) => dlqTopic(s))] : more;
    created.push(...(await ensureTopics(client, { prefix, specs: all, replicationFactor })).created);
  };
  await ensure(specs);
  return {
    kafka: client,
    prefix,
    name: (spec) => topicName(spec, prefix),
    ensure,
    group(groupLabel) {
      const id = uniqueName(groupLabel);
      groups.push(id);
      return id;
    },
    adoptGroups(...groupIds) {
      for (const id of groupIds) if (!groups.includes(id)) groups.push(id);
    },
    async cleanup() {
      await deleteConsumerGroups(client, groups.splice(0)).catch(() => {});
      await deleteTopics(client, created.splice(0)).catch(() => {});
    },
  };
}

/** Deletes topics, ignoring those already gone. */
export async function deleteTopics(kafka: KafkaClient, names: string[]): Promise<void> {
  if (names.length === 0) return;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: names }).catch(() => {});
  } finally {
    await admin.disconnect();
  }
}

/**
 * Writes raw messages (any bytes, partitions chosen by the caller) with an idempotent producer:
 * a retried send (the broker wrote it, its answer was lost) must not double the data.
 */
export async function sendRaw(kafka: KafkaClient, topic: string, messages: Message[]): Promise<void> {
  const raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await raw.connect();
  try {
    await raw.send({ topic, messages });
  } finally {
    await raw.disconnect();
  }
}

/**
 * The topics of one test file: created in a beforeAll, removed (with the run's groups) in an
 * afterAll. Returns the run, to call from within tests and later hooks.
 */
export function testTopicsForFile(
  label: string,
  specs: TopicSpec<unknown>[],
  options: TestTopicsOptions = {},
): () => TestTopics {
  let run: TestTopics | undefined;
  beforeAll(async () => {
    run = await createTestTopics(label, specs, options);
  });
  afterAll(async () => {
    await run?.cleanup();
  });
  return () => {
    if (!run)
      throw new Error(`the topics of ${label} are made in beforeAll; use them in a test or a later hook`);
    return run;
  };
}

/** Sets a topic's `max.message.bytes` (the largest record batch it takes) and waits until the broker applies it. */
export async function limitRecordSize(kafka: KafkaClient, topic: string, bytes: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: [{ name: "max.message.bytes", value: String(bytes) }],
        },
      ],
    });
    await waitFor(
      async () => {
        const { resources } = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ["max.message.bytes"] }],
        });
        return resources[0]?.configEntries[0]?.configValue === String(bytes);
      },
      { what: `${topic}'s size limit` },
    );
  } finally {
    await admin.disconnect();
  }
}
