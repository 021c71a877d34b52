import { type PrismaClient, shouldRetryDbError } from "@apimon/db";
import { topics } from "@apimon/events";
import {
  type BatchingProducer,
  type ConsumerRunner,
  createConsumerRunner,
  type KafkaClient,
  subscription,
} from "@apimon/kafka";
import type { Logger, ReadinessCheck, Registry } from "@apimon/observability";
import { createChannelDirectory } from "./delivery/channel-directory";
import { createDeadLetters } from "./delivery/dead-letters";
import { createDeliveryLog } from "./delivery/delivery-log";
import type { BackoffPolicy } from "./domain/backoff";
import { createNotificationJobHandler } from "./handlers/notification-jobs";
import { createNotifierMetrics } from "./metrics";
import type { ChannelSender, ChannelType } from "./senders/sender";

export interface NotifierSettings {
  channelTypes: ChannelType[];
  /** Consumer groups are `${groupPrefix}-email`, `-slack`, `-webhook`. */
  groupPrefix: string;
  topicPrefix: string;
  maxAttempts: number;
  backoff: BackoffPolicy;
  concurrency: number;
  partitionsConcurrency: number;
  /** Consumers in each channel type's group; see NOTIFIER_CONSUMERS_PER_TYPE. */
  consumersPerType: number;
  channelCacheMs: number;
  maxBatchSize?: number;
}

export interface NotifierDeps {
  kafka: KafkaClient;
  prisma: PrismaClient;
  /** Writes dead letters; its topic prefix must be `settings.topicPrefix`. */
  producer: Pick<BatchingProducer, "publish">;
  logger: Logger;
  registry: Registry;
  senders: Record<ChannelType, ChannelSender>;
  settings: NotifierSettings;
}

export interface Notifier {
  start(): Promise<void>;
  /** Ends backoff waits and requests in flight (their slices stay uncommitted), then leaves the groups. */
  stop(): Promise<void>;
  /** One readiness check per channel type's consumer. */
  checks(): Record<string, ReadinessCheck>;
  groupIds(): string[];
}

/**
 * One consumer group per channel type on notifications.v1, so one channel type's trouble is its
 * own; and several consumers in each group, because kafkajs fetches again from a broker only once
 * every batch of its last fetch is handled: with a single consumer, one job waiting out its
 * retries against a target that hangs would hold back every partition of its type.
 */
export function createNotifier({
  kafka,
  prisma,
  producer,
  logger,
  registry,
  senders,
  settings,
}: NotifierDeps): Notifier {
  const stopping = new AbortController();
  const metrics = createNotifierMetrics(registry);
  const channels = createChannelDirectory({ prisma, ttlMs: settings.channelCacheMs });
  const deliveries = createDeliveryLog({ prisma });
  const groups = new Map<ChannelType, { groupId: string; runners: ConsumerRunner[] }>();

  for (const channelType of settings.channelTypes) {
    const groupId = `${settings.groupPrefix}-${channelType}`;
    const handler = createNotificationJobHandler({
      channelType,
      sender: senders[channelType],
      channels,
      deliveries,
      deadLetters: createDeadLetters({ producer, consumerGroup: groupId }),
      metrics,
      maxAttempts: settings.maxAttempts,
      backoff: settings.backoff,
      concurrency: settings.concurrency,
      stopSignal: stopping.signal,
    });
    const runners = Array.from({ length: settings.consumersPerType }, (_, consumer) =>
      createConsumerRunner({
        kafka,
        groupId,
        logger: logger.child({ channelType, consumer }),
        topicPrefix: settings.topicPrefix,
        subscriptions: [subscription(topics.notifications, handler)],
        isRetriable: shouldRetryDbError,
        retry: { initialMs: 200, maxMs: 5000 },
        // Small slices: a slice is committed only when all its jobs are done.
        maxBatchSize: settings.maxBatchSize ?? 50,
        partitionsConsumedConcurrently: settings.partitionsConcurrency,
        registry,
      }),
    );
    groups.set(channelType, { groupId, runners });
  }
  const allRunners = () => [...groups.values()].flatMap((group) => group.runners);

  return {
    async start() {
      await Promise.all(allRunners().map((runner) => runner.start()));
    },
    async stop() {
      // stop() marks each runner stopped before its first await, so the handlers' interrupted
      // slices are left uncommitted instead of being retried.
      const stopped = allRunners().map((runner) => runner.stop());
      stopping.abort(new Error("notifier stopping"));
      await Promise.all(stopped);
    },
    checks() {
      return Object.fromEntries(
        [...groups].map(([type, { runners }]) => [
          `${type}Consumer`,
          () =>
            runners.every((runner) => runner.isHealthy())
              ? { ok: true }
              : { ok: false, detail: "not in its consumer group" },
        ]),
      );
    },
    groupIds: () => [...groups.values()].map((group) => group.groupId),
  };
}
