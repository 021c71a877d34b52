import type { TopicSpec } from "@apimon/events";
import type { Logger, Registry } from "@apimon/observability";
import { counter, gauge, histogram } from "@apimon/observability";
import type { Kafka, Message } from "kafkajs";
import { ProducerClosedError, ProducerQueueFullError } from "./errors";
import { createIdempotentSender } from "./idempotent-sender";
import { topicName } from "./topics";

export interface PublishOptions {
  /** Overrides the catalog's key function; required for tombstones. */
  key?: string;
  headers?: Record<string, string>;
}

export interface BatchingProducer {
  connect(): Promise<void>;
  /**
   * Validates `value` against the topic's schema and queues it. The promise settles when the
   * broker acknowledged the batch (acks=all) or the send failed after kafkajs' retries; callers
   * on a hot path may leave it unawaited but must handle its rejection.
   */
  publish<T>(topic: TopicSpec<T>, value: T, options?: PublishOptions): Promise<void>;
  /**
   * Validates every value, then queues them all (or, when one is invalid or the queue is full,
   * none) in order. Settles once: when the broker acknowledged all of them, or with the first
   * failure. One promise for many messages: what a hot path that publishes in chunks wants.
   */
  publishAll<T>(topic: TopicSpec<T>, values: readonly T[], options?: PublishAllOptions): Promise<void>;
  /** Sends everything queued so far and waits for the outcome. */
  flush(): Promise<void>;
  /** Flushes, then closes the connection; later publishes reject with ProducerClosedError. */
  disconnect(): Promise<void>;
  /** Messages queued or in flight. */
  depth(): number;
}

export interface PublishAllOptions {
  /**
   * Every value already satisfies the topic's schema: it was parsed with it, or built by code
   * whose every output a test checks against it. The per-message check is skipped, and each
   * value is sent as it is (nothing stripped). For the edge's usage events, the check cost more
   * than encoding and sending them.
   */
  validated?: boolean;
}

/** What a part that publishes through a shared batching producer is made with. */
export interface PublisherDeps {
  producer: BatchingProducer;
  logger: Logger;
  registry?: Registry;
}

export interface BatchingProducerOptions {
  kafka: Kafka;
  logger: Logger;
  topicPrefix?: string;
  /** How long the first message of a batch may wait for company. */
  lingerMs?: number;
  maxBatchMessages?: number;
  /** Beyond this many waiting messages, publish rejects at once (backpressure, bounded memory). */
  maxQueuedMessages?: number;
  registry?: Registry;
}

interface Pending {
  topic: string;
  message: Message;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * A producer that groups messages into one `sendBatch` per linger interval or batch size.
 * One batch is in flight at a time, so messages of one key reach their partition in order, and
 * the producer is idempotent, so a retried batch is written once.
 */
export function createBatchingProducer({
  kafka,
  logger,
  topicPrefix = "",
  lingerMs = 5,
  maxBatchMessages = 1000,
  maxQueuedMessages = 100_000,
  registry,
}: BatchingProducerOptions): BatchingProducer {
  const log = logger.child({ component: "producer" });
  const producer = createIdempotentSender(kafka, log);
  const sent = counter(
    registry,
    "kafka_producer_messages_total",
    "Messages handed to Kafka, by topic and result",
    ["topic", "result"],
  );
  const sendSeconds = histogram(
    registry,
    "kafka_producer_send_seconds",
    "Latency of one batch send (acks=all)",
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
  );
  const depthGauge = gauge(
    registry,
    "kafka_producer_queue_depth",
    "Messages waiting in the producer or in flight",
  );

  let queue: Pending[] = [];
  let inFlight = 0;
  let sending: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  async function sendBatch(batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic) ?? [];
      list.push(p.message);
      byTopic.set(p.topic, list);
    }
    const stop = sendSeconds.startTimer();
    try {
      await producer.sendBatch({
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
      for (const [topic, messages] of byTopic) sent.inc({ topic, result: "ok" }, messages.length);
      for (const p of batch) p.resolve();
    } catch (error) {
      for (const [topic, messages] of byTopic) sent.inc({ topic, result: "error" }, messages.length);
      log.warn({ err: error, messages: batch.length }, "batch send failed");
      for (const p of batch) p.reject(error);
    } finally {
      stop();
    }
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatchMessages);
      queue = queue.slice(batch.length);
      inFlight = batch.length;
      await sendBatch(batch);
      inFlight = 0;
      depthGauge.set(queue.length);
    }
  }

  function kick(): void {
    clearTimeout(timer);
    timer = undefined;
    sending ??= drain().finally(() => {
      sending = undefined;
      if (queue.length > 0) schedule();
    });
  }

  function schedule(): void {
    if (queue.length >= maxBatchMessages || lingerMs === 0) kick();
    else timer ??= setTimeout(kick, lingerMs);
  }

  /** The Kafka message of a value, validated against the topic's schema (throws when invalid). */
  function toMessage<T>(topic: TopicSpec<T>, value: T, options: PublishOptions, validated = false): Message {
    const parsed = validated ? value : topic.schema.parse(value);
    if (parsed === null && !topic.tombstones) throw new Error(`${topic.name} does not take tombstones`);
    return {
      key: options.key ?? topic.key(parsed),
      value: parsed === null ? null : topic.serialize ? topic.serialize(parsed) : JSON.stringify(parsed),
      headers: options.headers,
    };
  }

  /** Why nothing more can be queued now (closed, or `count` more would overflow), if so. */
  function refusal(count: number): Error | undefined {
    if (closed) return new ProducerClosedError();
    if (queue.length + inFlight + count > maxQueuedMessages)
      return new ProducerQueueFullError(queue.length + inFlight);
    return undefined;
  }

  return {
    connect: () => producer.connect(),
    publish<T>(topic: TopicSpec<T>, value: T, options: PublishOptions = {}): Promise<void> {
      const refused = refusal(1);
      if (refused) return Promise.reject(refused);
      let message: Message;
      try {
        message = toMessage(topic, value, options);
      } catch (error) {
        return Promise.reject(error);
      }
      return new Promise<void>((resolve, reject) => {
        queue.push({ topic: topicName(topic, topicPrefix), message, resolve, reject });
        depthGauge.set(queue.length + inFlight);
        schedule();
      });
    },
    publishAll<T>(topic: TopicSpec<T>, values: readonly T[], { validated = false } = {}): Promise<void> {
      const refused = refusal(values.length);
      if (refused) return Promise.reject(refused);
      if (values.length === 0) return Promise.resolve();
      let messages: Message[];
      try {
        messages = values.map((value) => toMessage(topic, value, {}, validated));
      } catch (error) {
        return Promise.reject(error);
      }
      const name = topicName(topic, topicPrefix);
      return new Promise<void>((resolve, reject) => {
        let waiting = messages.length;
        let settled = false;
        const acknowledged = () => {
          if (--waiting === 0 && !settled) {
            settled = true;
            resolve();
          }
        };
        const failed = (error: unknown) => {
          if (settled) return;
          settled = true;
          reject(error);
        };
        for (const message of messages)
          queue.push({ topic: name, message, resolve: acknowledged, reject: failed });
        depthGauge.set(queue.length + inFlight);
        schedule();
      });
    },
    async flush() {
      while (queue.length > 0 || sending) {
        kick();
        await sending;
      }
    },
    async disconnect() {
      closed = true;
      await this.flush();
      await producer.disconnect();
    },
    depth: () => queue.length + inFlight,
  };
}
