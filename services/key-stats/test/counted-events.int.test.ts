import { newEventId } from "@apimon/events";
import { createMetricsRegistry } from "@apimon/observability";
import { createTestDatabase, type TestDatabase, testLogger } from "@apimon/testkit";
import { createCountedEventsMaintainer } from "../src/counted-events-maintainer";
import { dayPartition } from "../src/domain/counted-partitions";
import { createKeyStatsMetrics } from "../src/metrics";
import { createKeyStatsStore } from "../src/stats-store";
import { seedKeys } from "./support";

const DAY_MS = 86_400_000;
const logger = testLogger("counted-events-test");
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

jest.setTimeout(120_000);

const daysFrom = (at: Date, days: number) => new Date(at.getTime() + days * DAY_MS);

async function partitionNames(): Promise<string[]> {
  const rows = await db.prisma.$queryRaw<{ name: string }[]>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'counted_events'::regclass order by 1`;
  return rows.map((r) => r.name);
}

async function count(eventId: string, occurredAt: Date, countedAt: Date): Promise<void> {
  await db.prisma.$executeRaw`
    insert into counted_events (event_id, occurred_at, counted_at)
    values (${eventId}::uuid, ${occurredAt}, ${countedAt})`;
}

/** Where each of the given events' rows sit now (absent: pruned). */
async function whereAre(ids: Record<string, string>): Promise<Record<string, string | null>> {
  const rows = await db.prisma.$queryRaw<{ event_id: string; partition: string }[]>`
    select event_id::text, tableoid::regclass::text as partition from counted_events
    where event_id = any(${Object.values(ids)}::uuid[])`;
  const at = new Map(rows.map((r) => [r.event_id, r.partition]));
  return Object.fromEntries(Object.entries(ids).map(([label, id]) => [label, at.get(id) ?? null]));
}

describe("counted_events retention", () => {
  it("drops a day's partition and the default partition's rows once nothing in them was counted within retention", async () => {
    const now = new Date();
    let clock = daysFrom(now, -20);
    const registry = createMetricsRegistry("key-stats", { defaultMetrics: false });
    const maintainer = createCountedEventsMaintainer({
      prisma: db.prisma,
      logger,
      metrics: createKeyStatsMetrics(registry),
      retentionDays: 8,
      intervalMs: 3_600_000,
      clock: () => clock,
    });

    // Twenty days ago the maintainer made that day's partition and the next two.
    const old = [0, 1, 2].map((d) => dayPartition(daysFrom(clock, d)));
    expect((await maintainer.runOnce()).created).toEqual(old.map((p) => p.name));

    const ids = {
      countedLongAgo: newEventId(),
      // Occurred twenty days ago, published (an edge's spool) and counted only today.
      countedToday: newEventId(),
      alsoLongAgo: newEventId(),
      defaultLongAgo: newEventId(),
      defaultToday: newEventId(),
    };
    await count(ids.countedLongAgo, old[0]?.from as Date, clock);
    await count(ids.countedToday, old[1]?.from as Date, now);
    await count(ids.alsoLongAgo, old[2]?.from as Date, daysFrom(clock, 2));
    // Thirty days ago had no partition: its events sit in the default one.
    const noPartition = daysFrom(now, -30);
    await count(ids.defaultLongAgo, noPartition, clock);
    await count(ids.defaultToday, noPartition, now);
    expect(await whereAre(ids)).toEqual({
      countedLongAgo: old[0]?.name,
      countedToday: old[1]?.name,
      alsoLongAgo: old[2]?.name,
      defaultLongAgo: "counted_events_default",
      defaultToday: "counted_events_default",
    });

    clock = now;
    const result = await maintainer.runOnce();
    expect(result).toEqual({
      created: [0, 1, 2].map((d) => dayPartition(daysFrom(now, d)).name),
      dropped: [old[0]?.name, old[2]?.name],
      kept: [old[1]?.name],
      expiredDefaultRows: 1,
    });
    expect(await whereAre(ids)).toEqual({
      countedLongAgo: null,
      countedToday: old[1]?.name,
      alsoLongAgo: null,
      defaultLongAgo: null,
      defaultToday: "counted_events_default",
    });
    expect(await partitionNames()).toEqual(
      [
        "counted_events_default",
        old[1]?.name as string,
        ...[0, 1, 2].map((d) => dayPartition(daysFrom(now, d)).name),
      ].sort(),
    );

    // A run changes nothing more; a partition is never created over the default partition's
    // rows of its day (Postgres would refuse it).
    expect(await maintainer.runOnce()).toEqual({
      created: [],
      dropped: [],
      kept: [old[1]?.name],
      expiredDefaultRows: 0,
    });
    clock = noPartition;
    expect((await maintainer.runOnce()).created).toEqual(
      [1, 2].map((d) => dayPartition(daysFrom(noPartition, d)).name),
    );

    const expired = (await registry.getSingleMetric("key_stats_counted_events_expired_total")?.get())?.values;
    expect(expired?.map((v) => [v.labels.what, v.value])).toEqual([
      ["partition", 2],
      ["default_row", 1],
    ]);
  });

  it("still knows an event counted long ago as long as its row is kept, and counts it again only once pruned", async () => {
    const [keyId] = await seedKeys(db, `pruned-${newEventId()}`, 1);
    const store = createKeyStatsStore({ prisma: db.prisma });
    const ref = { groupId: `g-${newEventId()}`, topic: "usage.events.v1", partition: 0 };
    const occurredAtMs = Date.now();
    const eventId = newEventId();
    const at = (offset: number) => ({
      offset: BigInt(offset),
      eventId,
      apiKeyId: keyId as number,
      occurredAtMs,
    });

    expect((await store.applyBatch(ref, [at(0)])).plan.counted).toBe(1);
    expect((await store.applyBatch(ref, [at(1)])).plan).toMatchObject({ counted: 0, duplicates: 1 });
    // Past retention the row is gone, and a copy published after that is counted: the guarantee
    // is for the retention of the topic (and its margin), no longer.
    await db.prisma.$executeRaw`delete from counted_events where event_id = ${eventId}::uuid`;
    expect((await store.applyBatch(ref, [at(2)])).plan.counted).toBe(1);
    const key = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: keyId as number } });
    expect(Number(key.usageCount)).toBe(2);
  });
});
