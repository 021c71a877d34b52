import { type PrismaClient, shouldRetryDbError } from "@apimon/db";
import { topics } from "@apimon/events";
import {
  type ConsumerRunner,
  createConsumerRunner,
  type KafkaClient,
  subscription,
  topicName,
} from "@apimon/kafka";
import type { Logger, Registry } from "@apimon/observability";
import { createUsageEventsHandler } from "./handlers/usage-events";
import { createLagMonitor, type LagMonitor } from "./lag-monitor";
import { createPartitionMaintainer, type PartitionMaintainer } from "./partition-maintainer";
import { createUsageWriter } from "./usage-writer";

export interface UsageRecorderSettings {
  groupId: string;
  topicPrefix: string;
  /** Most rows per bulk insert. */
  batchSize: number;
  /** Partitions handled at the same time. */
  concurrency: number;
  sessionTimeoutMs: number;
  lagIntervalMs: number;
  partitions: { daysAhead: number; retentionDays: number; intervalMs: number };
}

export interface UsageRecorderDeps {
  prisma: PrismaClient;
  kafka: KafkaClient;
  logger: Logger;
  registry?: Registry;
  settings: UsageRecorderSettings;
  /** Backoff of retried batches (a database outage); the runner's defaults otherwise. */
  retry?: { initialMs?: number; maxMs?: number };
  clock?: () => Date;
}

export interface UsageRecorder {
  /** Makes today's partitions, then starts consuming and watching the lag. */
  start(): Promise<void>;
  /** Lets the batch in flight finish and commit, then stops everything. */
  stop(): Promise<void>;
  /** The consumer runs in its group and has not crashed. */
  isHealthy(): boolean;
  readonly maintainer: PartitionMaintainer;
  readonly lag: LagMonitor;
  readonly consumer: ConsumerRunner;
}

/**
 * usage.events.v1 → api_usage: a consumer runner whose handler writes each batch with one
 * bulk insert (idempotent on the event id) before the runner commits, partition maintenance
 * and the lag gauge. Makes no clients: main.ts hands them in.
 */
export function createUsageRecorder({
  prisma,
  kafka,
  logger,
  registry,
  settings,
  retry,
  clock,
}: UsageRecorderDeps): UsageRecorder {
  const log = logger.child({ component: "usage-recorder" });
  const writer = createUsageWriter({ prisma, registry });
  const maintainer = createPartitionMaintainer({
    prisma,
    logger,
    registry,
    clock,
    daysAhead: settings.partitions.daysAhead,
    retentionDays: settings.partitions.retentionDays,
    intervalMs: settings.partitions.intervalMs,
  });
  const lag = createLagMonitor({
    kafka,
    groupId: settings.groupId,
    topic: topicName(topics.usageEvents, settings.topicPrefix),
    logger,
    registry,
    intervalMs: settings.lagIntervalMs,
  });
  const consumer = createConsumerRunner({
    kafka,
    groupId: settings.groupId,
    logger,
    registry,
    topicPrefix: settings.topicPrefix,
    subscriptions: [subscription(topics.usageEvents, createUsageEventsHandler({ writer }))],
    isRetriable: shouldRetryDbError,
    maxBatchSize: settings.batchSize,
    partitionsConsumedConcurrently: settings.concurrency,
    sessionTimeoutMs: settings.sessionTimeoutMs,
    retry,
    onProgress: lag.onProgress,
  });

  return {
    async start() {
      // Before consuming, so that today's rows land in their own partition from the start.
      await maintainer.start();
      await consumer.start();
      await lag.start();
      log.info({ groupId: settings.groupId, batchSize: settings.batchSize }, "usage recorder started");
    },
    async stop() {
      await consumer.stop();
      await Promise.all([lag.stop(), maintainer.stop()]);
      log.info("usage recorder stopped");
    },
    isHealthy: () => consumer.isHealthy(),
    maintainer,
    lag,
    consumer,
  };
}
