import { topics, type UsageEvent } from "@apimon/events";
import { createBatchingProducer, fetchConsumerLag } from "@apimon/kafka";
import {
  createTestDatabase,
  createTestTopics,
  expectConfigRefused,
  milestonesLogged,
  startService,
  stopAllSpawned,
  type TestDatabase,
  type TestTopics,
  testLogger,
  waitFor,
  waitReady,
} from "@apimon/testkit";
import { eventsWithDuplicates } from "./support/events";

const entry = "services/usage-recorder/src/main.ts";
const logger = testLogger("usage-recorder-main");
const usage = topics.usageEvents;

let db: TestDatabase;
let run: TestTopics;
let groupId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  run = await createTestTopics("rec-main", [usage], { logger, withDlq: true });
  groupId = run.group("recorder-main");
});

afterAll(async () => {
  await stopAllSpawned(0); // SIGKILL whatever a failed assertion left running
  await db?.drop();
  await run?.cleanup();
});

async function publish(events: UsageEvent[]): Promise<void> {
  const producer = createBatchingProducer({ kafka: run.kafka, logger, topicPrefix: run.prefix });
  await Promise.all(events.map((e) => producer.publish(usage, e)));
  await producer.disconnect();
}

async function rowCount(): Promise<number> {
  const [row] = await db.prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM api_usage`;
  return Number(row?.n ?? 0);
}

function startRecorder() {
  return startService(entry, {
    envPrefix: "USAGE_RECORDER",
    databaseUrl: db.url,
    topicPrefix: run.prefix,
    env: {
      USAGE_RECORDER_GROUP_ID: groupId,
      // Small batches, so the first instance is killed with most of the stream still ahead.
      USAGE_RECORDER_BATCH_SIZE: "100",
      USAGE_RECORDER_CONCURRENCY: "1",
      // The killed member leaves the group after this long; the broker's minimum.
      USAGE_RECORDER_SESSION_TIMEOUT_MS: "6000",
      USAGE_RECORDER_LAG_INTERVAL_MS: "500",
    },
  });
}

describe("usage recorder process", () => {
  it("ends with exactly 10,000 rows from 10,500 messages although killed (SIGKILL) and restarted mid-stream, then shuts down in order", async () => {
    const { published } = eventsWithDuplicates(10_000);
    const half = published.length / 2;
    await publish(published.slice(0, half));

    const first = await startRecorder();
    await waitFor(async () => (await rowCount()) > 0, {
      timeoutMs: 40_000,
      intervalMs: 5,
      what: "the first instance's first rows",
    });
    first.child.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    // At most the first half can be in: the rest of the stream is not even published yet.
    expect(await rowCount()).toBeLessThanOrEqual(5_000);

    await publish(published.slice(half));
    const second = await startRecorder();
    const base = second.url;
    try {
      const ready = await waitReady(base, { timeoutMs: 40_000 });
      expect(ready).toEqual({ status: "ready", checks: { database: { ok: true }, consumer: { ok: true } } });

      const topic = run.name(usage);
      await waitFor(
        async () => {
          const lag = await fetchConsumerLag(run.kafka, groupId, topic);
          return lag.reduce((sum, p) => sum + (p.committed ?? 0n), 0n) === BigInt(published.length);
        },
        { timeoutMs: 50_000, what: "every message committed" },
      );
      expect(await rowCount()).toBe(10_000);

      const metrics = await waitFor(
        async () => {
          const text = await (await fetch(`${base}/metrics`)).text();
          const lag = text.split("\n").filter((l) => l.startsWith("usage_recorder_consumer_lag{"));
          // The lag gauge is refreshed every 500 ms: wait until it shows the caught-up state.
          return lag.length === usage.partitions && lag.every((l) => l.endsWith(" 0")) && text;
        },
        { timeoutMs: 10_000, what: "lag 0 on every partition" },
      );
      expect(metrics).toContain(
        `usage_recorder_consumer_lag{topic="${topic}",partition="0",service="usage-recorder"} 0`,
      );
      expect(metrics).toMatch(/^usage_recorder_batch_rows_count\{service="usage-recorder"\} [1-9]/m);
      expect(metrics).toMatch(/^usage_recorder_write_seconds_count\{[^}]*outcome="ok"[^}]*\} [1-9]/m);
      expect(metrics).toMatch(/^usage_recorder_partitions\{service="usage-recorder"\} 5$/m);
    } finally {
      second.child.kill("SIGTERM");
    }
    expect(await second.exited).toBe(0);
    const milestones = [
      "usage recorder listening",
      "shutting down",
      "consumer stopped",
      "usage recorder stopped",
      "shutdown complete",
    ];
    expect(milestonesLogged(second, milestones)).toEqual(milestones);
  }, 120_000);

  it("refuses to start with bad settings, naming every bad variable", async () => {
    await expectConfigRefused(
      entry,
      { ...process.env, USAGE_RECORDER_PORT: "eighty", USAGE_RETENTION_DAYS: "0" },
      { service: "usage-recorder", variables: ["USAGE_RECORDER_PORT", "USAGE_RETENTION_DAYS"] },
    );
  });
});
