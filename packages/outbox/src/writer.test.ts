import { Prisma } from "@apimon/db";
import { topics } from "@apimon/events";
import { makeKeyChange } from "@apimon/testkit";
import { type OutboxTx, writeOutbox } from "./writer";

/** A transaction that records what it was asked to insert. */
function recordingTx() {
  const rows: unknown[] = [];
  const tx = {
    outbox: {
      createMany: async ({ data }: { data: unknown[] }) => {
        rows.push(...data);
        return { count: data.length };
      },
    },
  } as unknown as OutboxTx;
  return { tx, rows };
}

const change = makeKeyChange();

describe("outbox writer", () => {
  it("writes one row per message, keyed by the topic's key unless one is given", async () => {
    const { tx, rows } = recordingTx();
    await writeOutbox(tx, topics.keyChanges, [{ value: change }, { value: change, key: "explicit" }]);
    expect(rows).toEqual([
      { topic: "keys.changes.v1", messageKey: "a".repeat(64), payload: change },
      { topic: "keys.changes.v1", messageKey: "explicit", payload: change },
    ]);
  });

  it("writes a tombstone as a database NULL under its explicit key", async () => {
    const { tx, rows } = recordingTx();
    await writeOutbox(tx, topics.keyChanges, [{ value: null, key: "b".repeat(64) }]);
    expect(rows).toEqual([{ topic: "keys.changes.v1", messageKey: "b".repeat(64), payload: Prisma.DbNull }]);
  });

  it("refuses a tombstone without a key, or for a topic that takes none, writing nothing", async () => {
    const { tx, rows } = recordingTx();
    await expect(writeOutbox(tx, topics.keyChanges, [{ value: null }])).rejects.toThrow(
      "a tombstone needs a compacted topic and a key (keys.changes.v1)",
    );
    await expect(writeOutbox(tx, topics.notifications, [{ value: null, key: "1" }] as never)).rejects.toThrow(
      "a tombstone needs a compacted topic and a key (notifications.v1)",
    );
    expect(rows).toEqual([]);
  });

  it("refuses a value that fails the topic's schema, writing nothing", async () => {
    const { tx, rows } = recordingTx();
    await expect(
      writeOutbox(tx, topics.keyChanges, [{ value: change }, { value: { ...change, keyHash: "nothex" } }]),
    ).rejects.toThrow(/HMAC-SHA-256 hex/);
    expect(rows).toEqual([]);
  });

  it("writes nothing for no messages", async () => {
    const { tx, rows } = recordingTx();
    await writeOutbox(tx, topics.notifications, []);
    expect(rows).toEqual([]);
  });
});
