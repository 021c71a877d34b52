import { topics, type UsageEvent } from "@apimon/events";
import type { ConsumedMessage } from "@apimon/kafka";
import { createMetricsRegistry } from "@apimon/observability";
import { consumedMessage, handlerContext, makeUsageEvent, testLogger } from "@apimon/testkit";
import { planBatch, type UsageRecord } from "../domain/batch-plan";
import { createKeyStatsMetrics } from "../metrics";
import type { AppliedBatch, KeyStatsStore, PartitionRef } from "../stats-store";
import { createUsageEventsHandler } from "./usage-events";

const TOPIC = topics.usageEvents.name;
const logger = testLogger();
const context = handlerContext(topics.usageEvents, logger);

/** The store's contract in memory: counted ids, counts and the offset change together, or not at all. */
function memoryStore(existingKeys: number[]) {
  const counts = new Map<number, number>(existingKeys.map((k) => [k, 0]));
  const countedIds = new Set<string>();
  let nextOffset: bigint | undefined;
  let failNext: "before-commit" | "after-commit" | undefined;
  const store: KeyStatsStore = {
    async readNextOffset(_ref: PartitionRef) {
      return nextOffset;
    },
    async applyBatch(_ref: PartitionRef, records: readonly UsageRecord[]): Promise<AppliedBatch> {
      if (failNext === "before-commit") {
        failNext = undefined;
        throw new Error("connection terminated");
      }
      const stored = nextOffset ?? 0n;
      const recorded = new Set<string>();
      for (const r of records) {
        if (r.offset < stored || countedIds.has(r.eventId)) continue;
        countedIds.add(r.eventId);
        recorded.add(r.eventId);
      }
      const plan = planBatch(records, stored, (id) => !recorded.has(id));
      for (const i of plan.increments)
        if (counts.has(i.apiKeyId)) counts.set(i.apiKeyId, (counts.get(i.apiKeyId) ?? 0) + i.count);
      nextOffset = plan.nextOffset;
      const unknownKeys = plan.increments.map((i) => i.apiKeyId).filter((k) => !counts.has(k));
      if (failNext === "after-commit") {
        // The COMMIT reached the database but its answer was lost.
        failNext = undefined;
        throw new Error("connection terminated");
      }
      return { plan, unknownKeys };
    },
  };
  return {
    store,
    counts: () => Object.fromEntries(counts),
    failNext: (when: "before-commit" | "after-commit") => {
      failNext = when;
    },
  };
}

let offset = 0;
function message(
  apiKeyId: number,
  id: string = crypto.randomUUID(),
  at = offset,
): ConsumedMessage<UsageEvent> {
  const occurredAt = new Date(Date.UTC(2026, 0, 1) + at * 1000).toISOString();
  return consumedMessage(topics.usageEvents, makeUsageEvent({ id, apiKeyId, occurredAt }), at);
}
/** Messages at the next offsets, for the given keys. */
function next(...keys: number[]): ConsumedMessage<UsageEvent>[] {
  return keys.map((k) => message(k, crypto.randomUUID(), offset++));
}

function setup(existingKeys = [1, 2]) {
  offset = 0;
  const memory = memoryStore(existingKeys);
  const registry = createMetricsRegistry("key-stats", { defaultMetrics: false });
  const handler = createUsageEventsHandler({
    store: memory.store,
    groupId: "key-stats",
    metrics: createKeyStatsMetrics(registry),
    logger,
  });
  const outcomes = async () =>
    Object.fromEntries(
      ((await registry.getSingleMetric("key_stats_events_total")?.get())?.values ?? []).map((v) => [
        v.labels.outcome,
        v.value,
      ]),
    );
  return { ...memory, handler, outcomes };
}

describe("counting usage events", () => {
  it("counts each key's events once, however often a batch is delivered", async () => {
    const { handler, counts, outcomes } = setup();
    const batch = next(1, 2, 1);
    await handler.handle(batch, context);
    await handler.handle(batch, context);
    expect(counts()).toEqual({ 1: 2, 2: 1 });
    expect(await outcomes()).toEqual({ counted: 3, redelivered: 3 });
  });

  it("counts a batch whose transaction failed when it is retried, and not twice when the commit had landed", async () => {
    const { handler, counts, failNext } = setup();
    const first = next(1, 1);
    failNext("before-commit");
    await expect(handler.handle(first, context)).rejects.toThrow("connection terminated");
    await handler.handle(first, context);
    expect(counts()).toEqual({ 1: 2, 2: 0 });

    const second = next(2, 2);
    failNext("after-commit");
    await expect(handler.handle(second, context)).rejects.toThrow("connection terminated");
    await handler.handle(second, context);
    expect(counts()).toEqual({ 1: 2, 2: 2 });
  });

  it("counts an event published twice once, in the same batch or a later one", async () => {
    const { handler, counts, outcomes } = setup();
    const [a, b] = next(1, 2);
    const again = message(1, a?.value.id, offset++);
    await handler.handle([a, b, again] as ConsumedMessage<UsageEvent>[], context);
    await handler.handle([message(2, b?.value.id, offset++), ...next(2)], context);
    expect(counts()).toEqual({ 1: 1, 2: 2 });
    expect(await outcomes()).toEqual({ counted: 3, duplicate: 2 });
  });

  it("skips events of deleted keys but moves on past them", async () => {
    const { handler, counts, outcomes, store } = setup([1]);
    await handler.handle(next(1, 7, 7), context);
    expect(counts()).toEqual({ 1: 1 });
    expect(await store.readNextOffset({ groupId: "key-stats", topic: TOPIC, partition: 0 })).toBe(3n);
    expect(await outcomes()).toEqual({ counted: 1, unknown_key: 2 });
  });

  it("resumes a partition just assigned at its stored next offset, and still knows every event counted before", async () => {
    const { handler, counts } = setup([1]);
    expect(await handler.initialOffset(TOPIC, 0)).toBeUndefined();
    const history = next(1, 1, 1, 1, 1);
    await handler.handle(history, context);

    // Reassigned (after a restart, say): reading resumes where the counts stopped.
    expect(await handler.initialOffset(TOPIC, 0)).toBe("5");
    const copies = history.map((m) => message(1, m.value.id, offset++));
    await handler.handle(copies, context);
    expect(counts()).toEqual({ 1: 5 });
  });
});
