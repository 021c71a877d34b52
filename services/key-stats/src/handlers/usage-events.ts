import type { UsageEvent } from "@apimon/events";
import type { ConsumedMessage, HandlerContext } from "@apimon/kafka";
import type { Logger } from "@apimon/observability";
import type { UsageRecord } from "../domain/batch-plan";
import type { KeyStatsMetrics } from "../metrics";
import type { KeyStatsStore } from "../stats-store";

export interface UsageEventsHandlerDeps {
  store: KeyStatsStore;
  groupId: string;
  metrics: KeyStatsMetrics;
  logger: Logger;
}

export interface UsageEventsHandler {
  /** For the runner's `initialOffset`: where to start reading a partition just assigned. */
  initialOffset(topic: string, partition: number): Promise<string | undefined>;
  handle(messages: ConsumedMessage<UsageEvent>[], context: HandlerContext): Promise<void>;
}

function toRecord(message: ConsumedMessage<UsageEvent>): UsageRecord {
  return {
    offset: BigInt(message.offset),
    eventId: message.value.id,
    apiKeyId: message.value.apiKeyId,
    occurredAtMs: Date.parse(message.value.occurredAt),
  };
}

/**
 * Counts usage events into api_keys.usage_count / last_used, exactly once, in one transaction
 * per batch that also stores the partition's next offset and records each counted event id in
 * counted_events:
 * - a redelivered message (its offset is below the stored next offset) is skipped, so a crash
 *   at any point neither loses nor repeats a count;
 * - an event published twice (same id, new offset), however far behind the original and
 *   across restarts, finds its id in counted_events and is not counted again, for as long as
 *   counted_events keeps it (the usage topic's retention and a margin).
 */
export function createUsageEventsHandler({
  store,
  groupId,
  metrics,
  logger,
}: UsageEventsHandlerDeps): UsageEventsHandler {
  return {
    async initialOffset(topic, partition) {
      const stored = await store.readNextOffset({ groupId, topic, partition });
      if (stored === undefined) return undefined;
      logger.info({ topic, partition, storedNextOffset: String(stored) }, "partition assigned");
      return String(stored);
    },

    async handle(messages, context) {
      const { topic, partition } = context;
      const records = messages.map(toRecord);
      if (records.length === 0) return;

      const stopTimer = metrics.writeDuration.startTimer();
      const { plan, unknownKeys } = await store.applyBatch({ groupId, topic, partition }, records);
      stopTimer();

      const unknownSet = new Set(unknownKeys);
      const unknownEvents = plan.increments
        .filter((i) => unknownSet.has(i.apiKeyId))
        .reduce((sum, i) => sum + i.count, 0);
      metrics.events.inc({ outcome: "counted" }, plan.counted - unknownEvents);
      if (unknownEvents > 0) metrics.events.inc({ outcome: "unknown_key" }, unknownEvents);
      if (plan.duplicates > 0) metrics.events.inc({ outcome: "duplicate" }, plan.duplicates);
      if (plan.redelivered > 0) metrics.events.inc({ outcome: "redelivered" }, plan.redelivered);
      metrics.batchKeys.observe(plan.increments.length);
      if (plan.duplicates > 0 || plan.redelivered > 0 || unknownKeys.length > 0) {
        context.logger.debug(
          {
            counted: plan.counted,
            duplicates: plan.duplicates,
            redelivered: plan.redelivered,
            unknownKeys,
            nextOffset: String(plan.nextOffset),
          },
          "batch applied",
        );
      }
    },
  };
}
