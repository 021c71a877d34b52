import { planBatch, type UsageRecord } from "./batch-plan";

const T0 = Date.parse("2026-01-01T00:00:00.000Z");

function record(offset: number, eventId: string, apiKeyId: number, secondsAfter = offset): UsageRecord {
  return { offset: BigInt(offset), eventId, apiKeyId, occurredAtMs: T0 + secondsAfter * 1000 };
}

const neverSeen = () => false;

describe("planning a batch of usage events", () => {
  it.each([
    {
      name: "counts every event per key with its latest time, and moves the offset past the batch",
      batch: [record(10, "e1", 2), record(11, "e2", 1), record(12, "e3", 2, 5), record(13, "e4", 2)],
      storedNext: 10n,
      seen: neverSeen,
      increments: [
        { apiKeyId: 1, count: 1, lastUsedMs: T0 + 11_000 },
        // The latest occurrence, not the last in offset order (events of several edges interleave).
        { apiKeyId: 2, count: 3, lastUsedMs: T0 + 13_000 },
      ],
      totals: { nextOffset: 14n, counted: 4, redelivered: 0, duplicates: 0 },
    },
    {
      name: "skips offsets below the stored next offset: that part of the batch was applied before",
      batch: [record(5, "e1", 1), record(6, "e2", 1), record(7, "e3", 1)],
      storedNext: 7n,
      seen: neverSeen,
      increments: [{ apiKeyId: 1, count: 1, lastUsedMs: T0 + 7000 }],
      totals: { nextOffset: 8n, counted: 1, redelivered: 2, duplicates: 0 },
    },
    {
      name: "never moves the offset backwards when the whole batch was applied before",
      batch: [record(5, "e1", 1)],
      storedNext: 9n,
      seen: neverSeen,
      increments: [],
      totals: { nextOffset: 9n, counted: 0, redelivered: 1, duplicates: 0 },
    },
    {
      name: "counts an event published twice once, whether the first copy is in this batch or an earlier one",
      batch: [record(20, "a", 1), record(21, "old", 1), record(22, "a", 1), record(23, "b", 3)],
      storedNext: 20n,
      seen: (id: string) => id === "old",
      increments: [
        { apiKeyId: 1, count: 1, lastUsedMs: T0 + 20_000 },
        { apiKeyId: 3, count: 1, lastUsedMs: T0 + 23_000 },
      ],
      totals: { nextOffset: 24n, counted: 2, redelivered: 0, duplicates: 2 },
    },
  ])("$name", ({ batch, storedNext, seen, increments, totals }) => {
    expect(planBatch(batch, storedNext, seen)).toEqual({ increments, ...totals });
  });

  it("recognises a duplicate whose first copy is in the redelivered part of the batch", () => {
    const plan = planBatch([record(3, "a", 1), record(4, "a", 1)], 4n, neverSeen);
    expect(plan).toMatchObject({ increments: [], nextOffset: 5n, counted: 0, redelivered: 1, duplicates: 1 });
  });
});
