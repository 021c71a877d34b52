// Reading what a test run's topics hold, as a downstream service would.
import type { TopicSpec } from "@apimon/events";
import {
  type ConsumedMessage,
  type ConsumerProgress,
  type ConsumerRunner,
  createConsumerRunner,
  fetchEndOffsets,
  type KafkaClient,
  subscription,
  topicName,
} from "@apimon/kafka";
import type { Logger } from "@apimon/observability";
import { testLogger } from "./logger";
import { uniqueName } from "./names";
import type { TestTopics } from "./test-topics";
import { waitFor } from "./wait";

/** What a reader of one topic has collected so far. */
export interface TopicReader<T> {
  /** Every valid message's value, in arrival order. */
  values: T[];
  runner: ConsumerRunner;
  stop(): Promise<void>;
}

/**
 * Reads a catalog topic of the run into `values` with a consumer group of its own (deleted by
 * cleanup()), as a downstream service would.
 */
export async function readTopic<T>(
  topics: TestTopics,
  spec: TopicSpec<T>,
  {
    label = "reader",
    logger = testLogger(label),
    onValue,
    onProgress,
  }: {
    label?: string;
    logger?: Logger;
    onValue?: (value: T) => Promise<void> | void;
    onProgress?: (progress: ConsumerProgress) => void;
  } = {},
): Promise<TopicReader<T>> {
  const values: T[] = [];
  const runner = createConsumerRunner({
    kafka: topics.kafka,
    groupId: topics.group(label),
    logger,
    topicPrefix: topics.prefix,
    maxWaitTimeMs: 100,
    subscriptions: [
      subscription(spec, async (messages) => {
        for (const m of messages) {
          await onValue?.(m.value);
          values.push(m.value);
        }
      }),
    ],
    onProgress,
  });
  await runner.start();
  return { values, runner, stop: () => runner.stop() };
}

/**
 * Everything on a catalog topic as of now (up to its end offsets when called), read by a fresh
 * consumer group. The default wait is long: a fresh group on a broker that just restarted can
 * take a while to join on a busy machine.
 */
export async function readToEnd<T>(
  kafka: KafkaClient,
  prefix: string,
  spec: TopicSpec<T>,
  { logger = testLogger("read-to-end"), timeoutMs = 150_000 }: { logger?: Logger; timeoutMs?: number } = {},
): Promise<ConsumedMessage<T>[]> {
  const ends = await fetchEndOffsets(kafka, topicName(spec, prefix));
  const total = ends.reduce((sum, p) => sum + Number(p.high - p.low), 0);
  const seen: ConsumedMessage<T>[] = [];
  const runner = createConsumerRunner({
    kafka,
    groupId: uniqueName(`${spec.name}-reader`),
    logger,
    topicPrefix: prefix,
    subscriptions: [subscription(spec, async (messages) => void seen.push(...messages))],
  });
  await runner.start();
  try {
    await waitFor(() => seen.length >= total, { timeoutMs, what: `${total} messages on ${spec.name}` });
  } finally {
    await runner.stop();
  }
  return seen;
}
