import { type DlqRecord, dlqTopic, type TopicSpec } from "@apimon/events";
import type { Logger, Registry } from "@apimon/observability";
import { counter, gauge, histogram } from "@apimon/observability";
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from "kafkajs";
import { decodeMessage, dlqRecord, dlqSummary, truncateDlqRecord } from "./decode";
import { isMarkedRetriable, isRecordTooLarge } from "./errors";
import { createIdempotentSender, type IdempotentSender } from "./idempotent-sender";
import { topicName } from "./topics";

export interface ConsumedMessage<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  /**
   * The value's bytes as they arrived (null for a tombstone), for checks over exactly what was
   * sent, such as a signature. Set by the consumer runner.
   */
  raw?: Buffer | null;
  headers: Record<string, string>;
  /** Broker timestamp, ms since the epoch, as kafkajs gives it. */
  timestamp: string;
}

export interface HandlerContext {
  topic: string;
  partition: number;
  logger: Logger;
  heartbeat(): Promise<void>;
}

/** Handles one batch of valid messages of one partition, in offset order; must be idempotent. */
export type BatchHandler<T> = (messages: ConsumedMessage<T>[], context: HandlerContext) => Promise<void>;

export interface Subscription<T> {
  topic: TopicSpec<T>;
  handler: BatchHandler<T>;
}

/** Pairs a topic with its handler, keeping the message type. */
export function subscription<T>(topic: TopicSpec<T>, handler: BatchHandler<T>): Subscription<unknown> {
  return { topic, handler } as Subscription<unknown>;
}

export interface ConsumerRunnerOptions {
  kafka: Kafka;
  groupId: string;
  logger: Logger;
  subscriptions: Subscription<unknown>[];
  topicPrefix?: string;
  /**
   * Which handler errors to retry besides those marked retriable (RetriableError), e.g.
   * `shouldRetryDbError` from @apimon/db; the rest are isolated to their message and dead-lettered.
   */
  isRetriable?: (error: unknown) => boolean;
  retry?: { initialMs?: number; maxMs?: number };
  /** Largest slice of a fetched batch handed to the handler at once (and committed after it). */
  maxBatchSize?: number;
  fromBeginning?: boolean;
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  /** Longest fetch long-poll; stop() waits for the poll in flight, so this bounds shutdown too. */
  maxWaitTimeMs?: number;
  registry?: Registry;
  /**
   * Called after each slice of a partition was handled (or dead-lettered) and committed, with
   * the next offset to read. Unlike the handler it also sees slices that held only invalid
   * messages, so a reader can tell when it has caught up with an offset.
   */
  onProgress?: (progress: ConsumerProgress) => void;
  /**
   * Where to start reading a partition, asked each time the runner is assigned it, before the
   * first batch fetched after the assignment is handled (so a partition with nothing new to read
   * is asked once something arrives). For consumers that store their offsets beside their
   * effect, in the same transaction, so that the database, not the group's commit, says what
   * was applied. `undefined` keeps the group's committed offset. The runner seeks at most once
   * per partition per assignment (an offset out of range falls back to the earliest one, or to
   * the latest without `fromBeginning`); handlers must still skip what they already applied,
   * since a batch may be in flight when a seek lands.
   */
  initialOffset?: (topic: string, partition: number) => Promise<string | undefined>;
  /**
   * Called synchronously each time the consumer (re)joins its group, before it fetches, with the
   * partitions it now owns per broker-side topic name; whatever is not listed was revoked. For
   * consumers that keep per-partition state in memory (drop revoked state, rebuild new state).
   */
  onAssignment?: (assignment: Record<string, number[]>) => void;
  /**
   * Dead-letter records are cut to this many bytes of JSON (below the broker's default 1 MiB
   * `max.message.bytes`); one the topic still refuses as too large is sent as a summary.
   */
  maxDlqRecordBytes?: number;
}

/** How far a runner got in one partition: everything before `nextOffset` is handled and committed. */
export interface ConsumerProgress {
  topic: string;
  partition: number;
  nextOffset: string;
}

export interface ConsumerRunner {
  start(): Promise<void>;
  /** Lets the slice in flight finish and commit, then leaves the group; nothing after it is skipped. */
  stop(): Promise<void>;
  /** Running, in its group, and not crashed. */
  isHealthy(): boolean;
}

class Stopped extends Error {}

/** sendToDlq lets only broker trouble escape, and that passes once the brokers answer. */
const anyError = () => true;

/**
 * Runs batch handlers over catalog topics with at-least-once delivery: every message is
 * validated; undecodable ones go to `<topic>.dlq` with the reason and source offset; handler
 * errors marked retriable (or accepted by `isRetriable`) are retried with capped exponential
 * backoff until they pass or the runner stops; offsets are committed only after the handler
 * (and any DLQ write) succeeded.
 */
export function createConsumerRunner({
  kafka,
  groupId,
  logger,
  subscriptions,
  topicPrefix = "",
  isRetriable: isAlsoRetriable = () => false,
  retry = {},
  maxBatchSize = 500,
  fromBeginning = true,
  partitionsConsumedConcurrently = 1,
  sessionTimeoutMs = 30_000,
  maxWaitTimeMs = 1000,
  registry,
  onProgress,
  initialOffset,
  onAssignment,
  maxDlqRecordBytes = 900_000,
}: ConsumerRunnerOptions): ConsumerRunner {
  const isRetriable = (error: unknown) => isMarkedRetriable(error) || isAlsoRetriable(error);
  const initialMs = retry.initialMs ?? 100;
  const maxMs = retry.maxMs ?? 5000;
  const byName = new Map(subscriptions.map((s) => [topicName(s.topic, topicPrefix), s]));
  const log = logger.child({ component: "consumer", groupId });
  const consumed = counter(
    registry,
    "kafka_consumer_messages_total",
    "Messages consumed, by topic and outcome (ok, dlq)",
    ["topic", "outcome"],
  );
  const retries = counter(registry, "kafka_consumer_retries_total", "Retriable handler failures", ["topic"]);
  const batchSize = histogram(
    registry,
    "kafka_consumer_batch_size",
    "Messages per handler call",
    [1, 10, 50, 100, 250, 500, 1000],
    ["topic"],
  );
  const dlqDropped = counter(
    registry,
    "kafka_consumer_dlq_dropped_total",
    "Failed messages the DLQ refused even as a summary (logged, then skipped)",
    ["topic"],
  );
  const lag = gauge(
    registry,
    "kafka_consumer_lag",
    "Messages behind the high watermark when a batch was fetched",
    ["topic", "partition"],
  );

  let consumer: Consumer | undefined;
  let dlqProducer: IdempotentSender | undefined;
  let running = false;
  let joined = false;
  let crashed = false;
  /** Set by stop(): a consumer that crashes from then on is not restarted. */
  let stopping = false;
  /** `topic:partition` of the partitions positioned by `initialOffset` since the last group join. */
  const positioned = new Set<string>();
  let wake: () => void = () => {};
  let stopped = new Promise<void>((resolve) => {
    wake = resolve;
  });

  /** Waits, unless the runner stops or the partition is taken away first. */
  async function sleep(ms: number, alive: () => boolean): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stopped, new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
    if (!alive()) throw new Stopped();
  }

  /** Retries `fn` while it fails retriably (and the partition is ours); other errors propagate. */
  async function retrying(
    what: string,
    topic: string,
    fn: () => Promise<void>,
    payload: EachBatchPayload,
    alive: () => boolean,
    retriable: (error: unknown) => boolean = isRetriable,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (!alive()) throw new Stopped();
      try {
        return await fn();
      } catch (error) {
        if (error instanceof Stopped || !retriable(error)) throw error;
        retries.inc({ topic });
        const delay = Math.min(maxMs, initialMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
        log.warn({ err: error, topic, attempt, delayMs: Math.round(delay) }, `${what} failed; retrying`);
        await sleep(delay, alive);
        await payload.heartbeat();
      }
    }
  }

  /**
   * Writes dead-letter records. Only broker trouble escapes (and is retried by the caller until
   * the brokers answer): a record the topic refuses as too large is sent alone, then as a
   * summary, and if even that is refused it is logged and counted, so the partition moves on.
   */
  async function sendToDlq(
    spec: TopicSpec<unknown>,
    topic: string,
    partition: number,
    failures: { message: KafkaMessage; reason: string }[],
  ): Promise<void> {
    if (failures.length === 0) return;
    const sender = dlqProducer;
    if (!sender) throw new Error("consumer runner not started");
    const dlqName = topicName(dlqTopic(spec), topicPrefix);
    const records: { key: Buffer | string | null; record: DlqRecord }[] = failures.map(
      ({ message, reason }) => ({
        key: message.key,
        record: truncateDlqRecord(
          dlqRecord(message, { topic, partition, consumerGroup: groupId }, reason),
          maxDlqRecordBytes,
        ),
      }),
    );
    const send = (batch: typeof records) =>
      sender.sendBatch({
        topicMessages: [
          { topic: dlqName, messages: batch.map((r) => ({ key: r.key, value: JSON.stringify(r.record) })) },
        ],
      });
    try {
      await send(records);
    } catch (error) {
      if (!isRecordTooLarge(error)) throw error;
      for (const one of records) {
        if (records.length > 1) {
          try {
            await send([one]);
            continue;
          } catch (alone) {
            if (!isRecordTooLarge(alone)) throw alone;
          }
        }
        try {
          const summary = dlqSummary(one.record);
          await send([{ key: summary.key, record: summary }]);
          log.warn({ topic, partition, offset: one.record.offset }, "DLQ record too large; sent a summary");
        } catch (summary) {
          if (!isRecordTooLarge(summary)) throw summary;
          dlqDropped.inc({ topic });
          log.error(
            { err: summary, topic, partition, offset: one.record.offset, reason: one.record.error },
            "the DLQ refuses even a summary of this message; skipping it",
          );
        }
      }
    }
    consumed.inc({ topic, outcome: "dlq" }, failures.length);
    for (const { message, reason } of failures)
      log.warn({ topic, partition, offset: message.offset, reason }, "message sent to DLQ");
  }

  async function handleSlice(
    sub: Subscription<unknown>,
    payload: EachBatchPayload,
    slice: KafkaMessage[],
    alive: () => boolean,
  ): Promise<void> {
    const { topic, partition } = payload.batch;
    const context: HandlerContext = {
      topic,
      partition,
      logger: log.child({ topic, partition }),
      heartbeat: () => payload.heartbeat(),
    };
    const valid: ConsumedMessage<unknown>[] = [];
    const invalid: { message: KafkaMessage; reason: string }[] = [];
    for (const message of slice) {
      const decoded = decodeMessage(sub.topic, message.value);
      if (!decoded.ok) {
        invalid.push({ message, reason: decoded.reason });
        continue;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(v);
      valid.push({
        topic,
        partition,
        offset: message.offset,
        key: message.key === null ? null : message.key.toString("utf8"),
        value: decoded.value,
        raw: message.value,
        headers,
        timestamp: message.timestamp,
      });
    }
    // Dead-lettering must succeed before the commit, or the bad message would vanish.
    await retrying(
      "DLQ write",
      topic,
      () => sendToDlq(sub.topic, topic, partition, invalid),
      payload,
      alive,
      anyError,
    );

    const runHandler = async (messages: ConsumedMessage<unknown>[]): Promise<void> => {
      try {
        await retrying("handler", topic, () => sub.handler(messages, context), payload, alive);
      } catch (error) {
        if (error instanceof Stopped) throw error;
        if (messages.length > 1) {
          // A non-retriable failure: run the messages one by one so only the culprit is dead-lettered.
          for (const one of messages) await runHandler([one]);
          return;
        }
        const bad = slice.find((m) => m.offset === messages[0]?.offset);
        if (!bad) throw error;
        log.error({ err: error, topic, partition, offset: bad.offset }, "handler failed permanently");
        await retrying(
          "DLQ write",
          topic,
          () =>
            sendToDlq(sub.topic, topic, partition, [
              { message: bad, reason: `handler error: ${(error as Error).message ?? String(error)}` },
            ]),
          payload,
          alive,
          anyError,
        );
      }
    };
    if (valid.length > 0) {
      batchSize.observe({ topic }, valid.length);
      await runHandler(valid);
      consumed.inc({ topic, outcome: "ok" }, valid.length);
    }
  }

  /**
   * On a partition's first batch since the group join, asks `initialOffset` where to read from
   * and seeks there when the batch starts elsewhere. True when the batch must be dropped: kafkajs
   * applies the seek on its next fetch and marks this batch stale.
   */
  async function seekToInitialOffset(payload: EachBatchPayload, alive: () => boolean): Promise<boolean> {
    const { topic, partition } = payload.batch;
    const id = `${topic}:${partition}`;
    if (!initialOffset || positioned.has(id) || !consumer) return false;
    let offset: string | undefined;
    try {
      await retrying(
        "initial offset lookup",
        topic,
        async () => {
          offset = await initialOffset(topic, partition);
        },
        payload,
        alive,
      );
    } catch (error) {
      if (error instanceof Stopped) return true;
      throw error;
    }
    // Once per assignment, whatever happens next: an offset that is out of range comes back as
    // the earliest one, and seeking again would loop.
    positioned.add(id);
    const first = payload.batch.firstOffset();
    if (offset === undefined || offset === first) return false;
    log.info({ topic, partition, from: first, to: offset }, "seeking to the initial offset");
    consumer.seek({ topic, partition, offset });
    return true;
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const sub = byName.get(batch.topic);
    if (!sub) return;
    lag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(batch.offsetLag()));
    const alive = () => running && payload.isRunning() && !payload.isStale();
    if (await seekToInitialOffset(payload, alive)) return;
    for (let i = 0; i < batch.messages.length; i += maxBatchSize) {
      if (!alive()) return;
      const slice = batch.messages.slice(i, i + maxBatchSize);
      try {
        await handleSlice(sub, payload, slice, alive);
      } catch (error) {
        // Stopped or revoked mid-retry: leave the slice uncommitted for the next owner.
        if (error instanceof Stopped) return;
        throw error;
      }
      const last = slice[slice.length - 1] as KafkaMessage;
      const nextOffset = (BigInt(last.offset) + 1n).toString();
      payload.resolveOffset(last.offset);
      // Through the batch payload, not consumer.commitOffsets: the latter silently skips the
      // commit once stop() has begun, which would redeliver the slice that just finished.
      await payload.commitOffsetsIfNecessary({
        topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: nextOffset }] }],
      });
      onProgress?.({ topic: batch.topic, partition: batch.partition, nextOffset });
      await payload.heartbeat();
    }
  }

  /** Pending relaunch of a consumer that kafkajs gave up on, and how many came before it. */
  let relaunchTimer: NodeJS.Timeout | undefined;
  let relaunches = 0;

  /**
   * kafkajs restarts a consumer only after a retriable error. Some of its non-retriable ones are
   * transient all the same: "Failed to find group coordinator" while a broker restarts leaves
   * the consumer stopped for good (a known kafkajs defect), and with it every service reading
   * through this runner. So a consumer kafkajs will not restart is replaced, after a backoff,
   * until one joins its group; the runner reports unhealthy meanwhile.
   */
  function relaunchLater(failed: Consumer): void {
    if (stopping || relaunchTimer) return;
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(relaunches, 5));
    relaunches++;
    log.warn({ delayMs: delay, attempt: relaunches }, "kafkajs will not restart the consumer; replacing it");
    relaunchTimer = setTimeout(() => {
      relaunchTimer = undefined;
      relaunch(failed).catch((err) => {
        log.error({ err }, "replacing the consumer failed");
        if (consumer) relaunchLater(consumer);
      });
    }, delay);
    // A process whose owner forgot to stop the runner is not kept alive by the replacement alone.
    relaunchTimer.unref();
  }

  async function relaunch(failed: Consumer): Promise<void> {
    if (stopping || consumer !== failed) return;
    await failed.disconnect().catch(() => {});
    if (stopping || consumer !== failed) return;
    const next = await prepare();
    if (stopping) return next.disconnect();
    await runConsumer(next);
  }

  /** A new kafkajs consumer of the runner's group, connected and subscribed, not yet running. */
  async function prepare(): Promise<Consumer> {
    crashed = false;
    joined = false;
    const current = kafka.consumer({
      groupId,
      sessionTimeout: sessionTimeoutMs,
      maxWaitTimeInMs: maxWaitTimeMs,
      allowAutoTopicCreation: false,
      retry: {
        // kafkajs' own default for consumers, which a retry option would otherwise replace.
        retries: 5,
        // A disconnect while kafkajs restarts a crashed consumer (the brokers being away) does
        // not end that restart: it would crash again and restart again, forever, keeping the
        // process alive after its shutdown.
        restartOnFailure: async () => !stopping,
      },
    });
    consumer = current;
    current.on(current.events.GROUP_JOIN, (event) => {
      joined = true;
      relaunches = 0;
      onAssignment?.(event.payload.memberAssignment);
      // A new assignment: every partition is positioned again before its next batch.
      positioned.clear();
    });
    current.on(current.events.CRASH, (event) => {
      log.error({ err: event.payload.error, restart: event.payload.restart }, "consumer crashed");
      if (event.payload.restart) return;
      crashed = true;
      relaunchLater(current);
    });
    await current.connect();
    for (const name of byName.keys()) await current.subscribe({ topic: name, fromBeginning });
    return current;
  }

  function runConsumer(current: Consumer): Promise<void> {
    return current.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently,
      eachBatch,
    });
  }

  return {
    async start() {
      if (running) return;
      stopped = new Promise<void>((resolve) => {
        wake = resolve;
      });
      stopping = false;
      relaunches = 0;
      dlqProducer = createIdempotentSender(kafka, log);
      await dlqProducer.connect();
      const current = await prepare();
      running = true;
      await runConsumer(current);
      log.info({ topics: [...byName.keys()] }, "consumer started");
    },
    async stop() {
      if (!running && !consumer) return;
      running = false;
      stopping = true;
      clearTimeout(relaunchTimer);
      relaunchTimer = undefined;
      wake();
      // kafkajs' disconnect waits for the batch in flight, which returns at its next slice boundary.
      await consumer?.disconnect();
      await dlqProducer?.disconnect();
      consumer = undefined;
      dlqProducer = undefined;
      joined = false;
      log.info("consumer stopped");
    },
    isHealthy: () => running && joined && !crashed,
  };
}
