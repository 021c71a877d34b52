import { createBatchingProducer } from "@apimon/kafka";
import {
  createTestDatabase,
  createTestTopics,
  expectConfigRefused,
  freePort,
  logLines,
  milestonesLogged,
  startService,
  type TestDatabase,
  type TestTopics,
  type TsxProcess,
  testLogger,
  uniqueName,
  waitFor,
  waitReady,
} from "@apimon/testkit";
import { dayPartition, parseDayPartition } from "../src/domain/counted-partitions";
import {
  expectedStats,
  keyStats,
  publishInChunks,
  seedKeys,
  streamWithDuplicates,
  totalUsage,
  usage,
  waitForStoredOffsetsAtEnd,
  waitForTotalUsage,
} from "./support";

const entry = "services/key-stats/src/main.ts";
const logger = testLogger("key-stats-main");
let db: TestDatabase;
let run: TestTopics;

beforeAll(async () => {
  db = await createTestDatabase();
  run = await createTestTopics("ks-main", [usage], { logger, withDlq: true });
});

afterAll(async () => {
  for (const p of processes)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  await Promise.all(processes.map((p) => p.exited));
  await run?.cleanup();
  await db?.drop();
});

const processes: TsxProcess[] = [];

/** The real main.ts (spawnTsx runs it under node itself, so a SIGKILL really kills it). */
async function start(port: number, groupId: string): Promise<TsxProcess> {
  const handle = await startService(entry, {
    envPrefix: "KEY_STATS",
    databaseUrl: db.url,
    topicPrefix: run.prefix,
    port,
    env: {
      KEY_STATS_GROUP_ID: groupId,
      // Small transactions, so that the kill is likely to land between a database commit and
      // the Kafka commit that follows it.
      KEY_STATS_MAX_BATCH_SIZE: "50",
      // The killed member gives up its partitions after this long (the broker's minimum).
      KEY_STATS_SESSION_TIMEOUT_MS: "6000",
    },
  });
  processes.push(handle);
  return handle;
}

const ready = (port: number) => waitReady(`http://127.0.0.1:${port}`, { timeoutMs: 120_000 });

// Generous: the outcome is asserted, never the speed, and the test machine is shared.
jest.setTimeout(300_000);

describe("key-stats process", () => {
  it("counts exactly 10,000 of 10,500 publishes (5 % twice) although it is SIGKILLed mid-stream and restarted", async () => {
    const groupId = run.group("key-stats");
    const keyIds = await seedKeys(db, uniqueName("main"), 30);
    const { events, publishOrder } = streamWithDuplicates(keyIds, { total: 10_000, duplicateShare: 0.05 });
    const port = await freePort();

    const first = await start(port, groupId);
    expect(await ready(port)).toEqual({
      status: "ready",
      checks: { database: { ok: true }, consumer: { ok: true } },
    });

    const producer = createBatchingProducer({ kafka: run.kafka, logger, topicPrefix: run.prefix });
    let second: TsxProcess | undefined;
    try {
      let killedAt = -1;
      // The stream keeps flowing while the process is killed and while it is down.
      await publishInChunks(producer, publishOrder, {
        chunk: 500,
        pauseMs: 100,
        afterChunk: async (sent) => {
          if (killedAt < 0 && sent >= 3000) {
            await waitFor(async () => (await totalUsage(db, keyIds)) > 0, {
              timeoutMs: 120_000,
              what: "counts",
            });
            first.child.kill("SIGKILL");
            expect(await first.exited).toBe("SIGKILL");
            killedAt = await totalUsage(db, keyIds);
          }
          if (sent >= 6000 && !second) second = await start(port, groupId);
        },
      });
      expect(killedAt).toBeGreaterThan(0);
      expect(killedAt).toBeLessThan(10_000);

      await waitForTotalUsage(db, keyIds, 10_000);
      await waitForStoredOffsetsAtEnd(db, run.kafka, run.prefix, groupId);
      expect(await keyStats(db, keyIds)).toEqual(expectedStats(events, keyIds));
      expect(await totalUsage(db, keyIds)).toBe(10_000);

      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const series of [
        'key_stats_events_total{outcome="counted",service="key-stats"}',
        // The restarted process met copies of events its predecessor had counted.
        'key_stats_events_total{outcome="duplicate",service="key-stats"}',
        'key_stats_counted_events_maintenance_runs_total{outcome="ok",service="key-stats"}',
        "key_stats_write_duration_seconds_count",
        "kafka_consumer_lag{",
        "kafka_consumer_batch_size_count",
      ]) {
        expect(metrics).toContain(series);
      }
    } finally {
      await producer.disconnect();
      second?.child.kill("SIGTERM");
    }
    expect(await second?.exited).toBe(0);
    const milestones = ["key-stats listening", "shutting down", "consumer stopped", "shutdown complete"];
    expect(milestonesLogged(second as TsxProcess, milestones)).toEqual(milestones);
    // It resumed where the database says the counts stopped, and keeps counted_events' partitions.
    expect(logLines(second as TsxProcess).map((l) => l.msg)).toContain("partition assigned");
    const partitions = await db.prisma.$queryRaw<{ name: string }[]>`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'counted_events'::regclass order by 1`;
    const names = partitions.map((p) => p.name);
    // Today's and two days ahead as of its last run, which was at most two days before now.
    expect(names).toContain("counted_events_default");
    expect(names).toContain(dayPartition(new Date()).name);
    expect(names.filter((n) => parseDayPartition(n) !== undefined).length).toBeGreaterThanOrEqual(3);
  });

  it("refuses to start with bad settings, naming every bad variable", async () => {
    await expectConfigRefused(
      entry,
      {
        ...process.env,
        KEY_STATS_PORT: "eighty",
        KEY_STATS_COUNTED_EVENTS_RETENTION_DAYS: "-1",
        DATABASE_URL: "not a url",
      },
      {
        service: "key-stats",
        variables: ["KEY_STATS_PORT", "KEY_STATS_COUNTED_EVENTS_RETENTION_DAYS", "DATABASE_URL"],
      },
    );
  });
});
