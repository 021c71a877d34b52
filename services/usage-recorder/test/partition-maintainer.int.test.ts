import { createPrismaClient } from "@apimon/db";
import { createMetricsRegistry } from "@apimon/observability";
import { createTestDatabase, freePort, type TestDatabase, testLogger } from "@apimon/testkit";
import { createPartitionMaintainer } from "../src/partition-maintainer";
import { hourlyDrift } from "./support/hourly";

const logger = testLogger("usage-recorder-partitions");
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

function maintainerAt(iso: string, policy = { daysAhead: 3, retentionDays: 30 }) {
  return createPartitionMaintainer({
    prisma: db.prisma,
    logger,
    registry: createMetricsRegistry("test", { defaultMetrics: false }),
    intervalMs: 3_600_000,
    clock: () => new Date(iso),
    ...policy,
  });
}

async function partitions(): Promise<string[]> {
  const rows = await db.prisma.$queryRaw<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'api_usage'::regclass ORDER BY 1`;
  return rows.map((r) => r.name);
}

let eventCounter = 0;
/** Inserts a row as the recorder does; returns the table it landed in. */
async function insertAt(
  createdAt: string,
  eventId = `00000000-0000-7000-8000-${String(++eventCounter).padStart(12, "0")}`,
) {
  await db.prisma.$executeRaw`
    INSERT INTO api_usage (event_id, user_id, api_key_id, endpoint, method, status_code, response_time, created_at)
    VALUES (${eventId}::uuid, 1, 1, '/x', 'GET', 200, 0.01, ${createdAt}::timestamptz)
    ON CONFLICT (event_id, created_at) DO NOTHING`;
  const [row] = await db.prisma.$queryRaw<{ part: string }[]>`
    SELECT tableoid::regclass::text AS part FROM api_usage WHERE event_id = ${eventId}::uuid`;
  return { eventId, part: row?.part };
}

describe("api_usage partition maintenance", () => {
  it("creates daily partitions from yesterday to the days ahead, once, and rows land in their day's", async () => {
    const first = await maintainerAt("2026-11-27T10:00:00Z").runOnce();
    expect(first).toEqual({
      created: ["20261126", "20261127", "20261128", "20261129", "20261130"].map((d) => ({
        name: `api_usage_p${d}`,
        movedRows: 0,
      })),
      dropped: [],
      expiredDefaultRows: 0,
      expiredHourlyRows: 0,
      summarizedRanges: 0,
    });
    expect(await maintainerAt("2026-11-27T23:00:00Z").runOnce()).toEqual({
      created: [],
      dropped: [],
      expiredDefaultRows: 0,
      expiredHourlyRows: 0,
      summarizedRanges: 0,
    });
    expect(await partitions()).toEqual([
      "api_usage_default",
      "api_usage_p20261126",
      "api_usage_p20261127",
      "api_usage_p20261128",
      "api_usage_p20261129",
      "api_usage_p20261130",
    ]);
    expect((await insertAt("2026-11-27T23:59:59.999Z")).part).toBe("api_usage_p20261127");
    expect((await insertAt("2026-11-28T00:00:00Z")).part).toBe("api_usage_p20261128");
    expect((await insertAt("2026-12-24T12:00:00Z")).part).toBe("api_usage_default");
  });

  it("moves a day's rows out of the default partition when that day's partition comes late", async () => {
    const early = await insertAt("2026-12-05T00:00:00Z");
    const late = await insertAt("2026-12-05T23:59:59.999Z");
    const nextDay = await insertAt("2026-12-06T08:00:00Z");
    expect([early.part, late.part, nextDay.part]).toEqual(Array(3).fill("api_usage_default"));

    const result = await maintainerAt("2026-12-05T06:00:00Z", { daysAhead: 0, retentionDays: 30 }).runOnce();
    expect(result.created).toEqual([
      { name: "api_usage_p20261204", movedRows: 0 },
      { name: "api_usage_p20261205", movedRows: 2 },
    ]);
    expect((await insertAt("2026-12-05T12:00:00Z")).part).toBe("api_usage_p20261205");
    // A redelivered event (same id, same time) is still one row after the move.
    expect(await insertAt("2026-12-05T00:00:00Z", early.eventId)).toEqual({
      eventId: early.eventId,
      part: "api_usage_p20261205",
    });
    const rows = await db.prisma.$queryRaw<{ part: string; n: bigint }[]>`
      SELECT tableoid::regclass::text AS part, count(*) AS n FROM api_usage
      WHERE created_at >= '2026-12-05' AND created_at < '2026-12-07' GROUP BY 1 ORDER BY 1`;
    expect(rows.map((r) => [r.part, Number(r.n)])).toEqual([
      ["api_usage_default", 1],
      ["api_usage_p20261205", 3],
    ]);
    // Moving rows between partitions does not count them again in the hourly tables.
    expect(await hourlyDrift(db.prisma)).toEqual([]);
  });

  it("drops partitions past retention and deletes expired rows from the default partition and the hourly tables", async () => {
    await insertAt("2025-06-01T00:00:00Z");
    const hours = async () =>
      (
        await db.prisma.$queryRaw<{ hour: Date }[]>`
          SELECT DISTINCT hour FROM usage_hourly_endpoints
          UNION SELECT DISTINCT hour FROM usage_hourly_keys ORDER BY 1`
      ).map((r) => r.hour.toISOString());
    expect(await hours()).toContain("2025-06-01T00:00:00.000Z");
    const result = await maintainerAt("2027-01-01T01:00:00Z", { daysAhead: 0, retentionDays: 27 }).runOnce();
    // The cutoff is 2026-12-05: everything of earlier days goes, the cutoff day stays.
    expect(result.dropped).toEqual([
      "api_usage_p20261126",
      "api_usage_p20261127",
      "api_usage_p20261128",
      "api_usage_p20261129",
      "api_usage_p20261130",
      "api_usage_p20261204",
    ]);
    expect(result.created.map((c) => c.name)).toEqual(["api_usage_p20261231", "api_usage_p20270101"]);
    expect(result.expiredDefaultRows).toBe(1);
    // Three hours (2025-06-01 00:00 and the two of 2026-11-27/28 above), each with a row for every
    // key's requests, one for the user's and one for the key's.
    expect(result.expiredHourlyRows).toBe(9);
    expect((await hours()).filter((h) => h < "2026-12-05")).toEqual([]);
    expect(await hours()).toContain("2026-12-05T12:00:00.000Z");
    expect(await partitions()).toEqual([
      "api_usage_default",
      "api_usage_p20261205",
      "api_usage_p20261231",
      "api_usage_p20270101",
    ]);
    const [left] = await db.prisma.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM api_usage WHERE created_at < '2026-12-05'`;
    expect(Number(left?.n)).toBe(0);
  });

  it("lets two instances maintain at the same moment without errors or double work", async () => {
    await insertAt("2027-02-10T10:00:00Z");
    const a = maintainerAt("2027-02-10T00:30:00Z", { daysAhead: 2, retentionDays: 60 });
    const b = maintainerAt("2027-02-10T00:30:00Z", { daysAhead: 2, retentionDays: 60 });
    const [ra, rb] = await Promise.all([a.runOnce(), b.runOnce()]);
    const made = [...ra.created, ...rb.created].sort((x, y) => x.name.localeCompare(y.name));
    expect(made).toEqual([
      { name: "api_usage_p20270209", movedRows: 0 },
      { name: "api_usage_p20270210", movedRows: 1 },
      { name: "api_usage_p20270211", movedRows: 0 },
      { name: "api_usage_p20270212", movedRows: 0 },
    ]);
    expect(await partitions()).toEqual(
      expect.arrayContaining([
        "api_usage_p20270209",
        "api_usage_p20270210",
        "api_usage_p20270211",
        "api_usage_p20270212",
      ]),
    );
  });

  it("summarizes the block ranges of the BRIN index that autovacuum has not", async () => {
    const maintainer = maintainerAt("2027-03-10T00:30:00Z", { daysAhead: 0, retentionDays: 60 });
    await maintainer.runOnce();
    // Autovacuum kept away from the day's partition: only maintenance summarizes its ranges.
    await db.prisma.$executeRawUnsafe("ALTER TABLE api_usage_p20270310 SET (autovacuum_enabled = off)");
    const [index] = await db.prisma.$queryRaw<{ name: string }[]>`
      SELECT i.indexrelid::regclass::text AS name FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
      WHERE i.indrelid = 'api_usage_p20270310'::regclass AND am.amname = 'brin'`;
    await db.prisma.$executeRawUnsafe(`ALTER INDEX ${index?.name} SET (autosummarize = off)`);
    // About 3 MB of rows: a few ranges of 128 pages.
    await db.prisma.$executeRaw`
      INSERT INTO api_usage (event_id, user_id, api_key_id, endpoint, method, status_code, response_time, created_at)
      SELECT gen_random_uuid(), 1, 1, '/x', 'GET', 200, 0.01,
             timestamptz '2027-03-10T01:00:00Z' + i * interval '1 millisecond'
      FROM generate_series(1, 30000) AS i`;
    expect((await maintainer.runOnce()).summarizedRanges).toBeGreaterThan(1);
    expect((await maintainer.runOnce()).summarizedRanges).toBe(0);
  });

  it("starts even while the database is unreachable, counting the failed run", async () => {
    const unreachable = createPrismaClient({
      connectionString: `postgresql://postgres@127.0.0.1:${await freePort()}/nowhere`,
      connectionTimeoutMs: 500,
    });
    const registry = createMetricsRegistry("test", { defaultMetrics: false });
    const maintainer = createPartitionMaintainer({
      prisma: unreachable,
      logger,
      registry,
      intervalMs: 3_600_000,
      daysAhead: 1,
      retentionDays: 30,
    });
    try {
      await expect(maintainer.start()).resolves.toBeUndefined();
      expect(await registry.metrics()).toMatch(
        /^usage_recorder_partition_runs_total\{[^}]*outcome="error"[^}]*\} 1$/m,
      );
    } finally {
      await maintainer.stop();
      await unreachable.$disconnect();
    }
  });
});
