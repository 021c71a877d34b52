import { type KeyChange, type TopicSpec, topics } from "@apimon/events";
import { makeKeyChange } from "@apimon/testkit";
import { backoffMs, type OutboxRow, planBatch } from "./batch";

const catalog = new Map<string, TopicSpec<unknown>>(
  (Object.values(topics) as TopicSpec<unknown>[]).map((t) => [t.name, t]),
);

/** A key's state, told apart by its hash and its minute limit. */
const state = (hashChar: string, minute: number): KeyChange =>
  makeKeyChange({ keyHash: hashChar.repeat(64), rateLimits: { minute, hour: null, day: null } });

let nextId = 1n;
function row(overrides: Partial<OutboxRow> & { payload: unknown }): OutboxRow {
  const payload = overrides.payload as KeyChange | null;
  return {
    id: nextId++,
    topic: topics.keyChanges.name,
    messageKey: payload?.keyHash ?? "f".repeat(64),
    tombstone: payload === null,
    headers: null,
    ...overrides,
  };
}

describe("outbox relay batch planning", () => {
  it("publishes only the oldest row of each key, in id order, and defers the rest", () => {
    const rows = [
      row({ payload: state("a", 1) }),
      row({ payload: state("b", 1) }),
      row({ payload: state("a", 2) }),
      row({ payload: null, messageKey: "c".repeat(64) }),
      row({ payload: state("b", 2) }),
    ];
    const plan = planBatch(rows, catalog);
    expect(plan.publish.map((m) => m.row.id)).toEqual([rows[0]?.id, rows[1]?.id, rows[3]?.id]);
    expect(plan.publish.map((m) => m.value)).toEqual([state("a", 1), state("b", 1), null]);
    expect(plan.publish.every((m) => m.topic === topics.keyChanges)).toBe(true);
    expect(plan.deferred).toBe(2);
    expect(plan.invalid).toEqual([]);
  });

  it("holds back a key whose oldest row fails the schema, with every later row of that key", () => {
    const bad = row({ payload: { ...state("a", 1), keyHash: "not-a-hash" }, messageKey: "a".repeat(64) });
    const later = row({ payload: state("a", 2) });
    const other = row({ payload: state("b", 1) });
    const plan = planBatch([bad, later, other], catalog);
    expect(plan.publish.map((m) => m.row.id)).toEqual([other.id]);
    expect(plan.invalid).toEqual([
      { row: bad, reason: expect.stringMatching(/^schema keys.changes.v1: keyHash: /) },
    ]);
    expect(plan.deferred).toBe(1);
  });

  it("treats an unknown topic, a tombstone on a topic without tombstones and bad headers as invalid", () => {
    const unknown = row({ payload: state("a", 1), topic: "nope.v1" });
    const tombstone = row({ payload: null, topic: topics.usageEvents.name, messageKey: "7" });
    const headers = row({ payload: state("b", 1), headers: { n: 1 } });
    const plan = planBatch([unknown, tombstone, headers], catalog);
    expect(plan.publish).toEqual([]);
    expect(plan.invalid.map((i) => i.reason)).toEqual([
      "unknown topic nope.v1",
      "usage.events.v1 does not take tombstones",
      "headers must be an object of strings",
    ]);
  });

  it("passes string headers through", () => {
    const plan = planBatch([row({ payload: state("a", 1), headers: { "x-source": "keys" } })], catalog);
    expect(plan.publish[0]?.headers).toEqual({ "x-source": "keys" });
  });

  it("backs off exponentially up to a cap", () => {
    const limits = { initialMs: 200, maxMs: 5000 };
    expect([0, 1, 2, 3, 5, 6, 100].map((n) => backoffMs(n, limits))).toEqual([
      0, 200, 400, 800, 3200, 5000, 5000,
    ]);
  });
});
