import type { UsageEvent } from "@apimon/events";
import type { ConsumedMessage, HandlerContext } from "@apimon/kafka";
import type { Logger } from "@apimon/observability";
import { planBatch, type UsageRecord } from "../domain/batch-plan";
import { createDedupWindow, type DedupWindow } from "../domain/dedup-window";
import type { KeyStatsMetrics } from "../metrics";
import type { KeyStatsStore } from "../stats-store";

export interface UsageEventsHandlerDeps {
  store: KeyStatsStore;
  groupId: string;
  /** Messages per partition whose event ids are remembered to drop duplicate publishes. */
  dedupWindow: number;
  metrics: KeyStatsMetrics;
  logger: Logger;
}

interface PartitionState {
  window: DedupWindow;
  /** The stored next offset as last seen by this process; it only ever grows. */
  knownNextOffset: bigint;
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
 * Counts usage events into api_keys.usage_count / last_used, exactly once:
 * - a redelivered message (its offset is below the partition's stored next offset) is skipped
 *   inside the transaction that also stores the new offset, so a crash at any point neither
 *   loses nor repeats a count;
 * - an event published twice (same id, new offset) is recognised by a window of the ids of the
 *   partition's last `dedupWindow` messages. On assignment the runner seeks `dedupWindow`
 *   messages before the stored offset, and those messages, already applied, only refill the
 *   window; so a restart does not forget which events it counted recently.
 */
export function createUsageEventsHandler({
  store,
  groupId,
  dedupWindow,
  metrics,
  logger,
}: UsageEventsHandlerDeps): UsageEventsHandler {
  const partitions = new Map<string, PartitionState>();

  function stateOf(topic: string, partition: number): PartitionState {
    const id = `${topic}:${partition}`;
    let state = partitions.get(id);
    if (!state) {
      state = { window: createDedupWindow(dedupWindow), knownNextOffset: -1n };
      partitions.set(id, state);
    }
    return state;
  }

  return {
    async initialOffset(topic, partition) {
      const state = stateOf(topic, partition);
      // Another consumer may have owned the partition meanwhile: start the window afresh.
      state.window.clear();
      const stored = await store.readNextOffset({ groupId, topic, partition });
      state.knownNextOffset = stored ?? -1n;
      if (stored === undefined) return undefined;
      const from = stored > BigInt(dedupWindow) ? stored - BigInt(dedupWindow) : 0n;
      logger.info(
        { topic, partition, storedNextOffset: String(stored), from: String(from) },
        "partition assigned; replaying the duplicate window before the stored offset",
      );
      return String(from);
    },

    async handle(messages, context) {
      const { topic, partition } = context;
      const state = stateOf(topic, partition);
      const records = messages.map(toRecord);
      const last = records[records.length - 1];
      if (!last) return;

      if (last.offset < state.knownNextOffset) {
        // The replay after an assignment (or a redelivery): applied before, and the stored offset
        // only grows, so no transaction is needed. It only refills the duplicate window.
        for (const record of records) state.window.add(record.eventId);
        metrics.events.inc({ outcome: "redelivered" }, records.length);
        return;
      }

      const stopTimer = metrics.writeDuration.startTimer();
      const { plan, unknownKeys } = await store.applyBatch({ groupId, topic, partition }, (stored) =>
        planBatch(records, stored, state.window.has),
      );
      stopTimer();
      // Only after the commit: ids of a batch that rolled back would make its retry look like
      // a duplicate of itself.
      for (const record of records) state.window.add(record.eventId);
      if (plan.nextOffset > state.knownNextOffset) state.knownNextOffset = plan.nextOffset;

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
