import { createPrismaClient, type PrismaClient, withDatabaseName } from "@apimon/db";
import { type DlqRecord, dlqTopic, topics, type UsageEvent } from "@apimon/events";
import {
  createBatchingProducer,
  createKafka,
  fetchConsumerLag,
  type KafkaClient,
  topicName,
} from "@apimon/kafka";
import { createMetricsRegistry, type Registry } from "@apimon/observability";
import {
  createTcpProxy,
  createTestDatabase,
  createTestTopics,
  makeUsageEvent,
  readTopic,
  sendRaw,
  type TcpProxy,
  type TestDatabase,
  type TestTopics,
  testInfra,
  testLogger,
  waitFor,
} from "@apimon/testkit";
import { createUsageRecorder, type UsageRecorder } from "../src/usage-recorder";
import { eventsWithDuplicates } from "./support/events";
import { hourlyDrift } from "./support/hourly";

const logger = testLogger("usage-recorder");
const usage = topics.usageEvents;
const usageDlq = dlqTopic(usage);

let db: TestDatabase;
let proxy: TcpProxy;
/** The recorder's client reaches Postgres through the proxy; the test's own (db.prisma) does not. */
let recorderPrisma: PrismaClient;
let kafka: KafkaClient;
const runs: TestTopics[] = [];
const running: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  const server = new URL(testInfra.databaseUrl);
  proxy = await createTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
  const viaProxy = new URL(withDatabaseName(testInfra.databaseUrl, db.name));
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  recorderPrisma = createPrismaClient({ connectionString: viaProxy.toString(), connectionTimeoutMs: 1000 });
  kafka = createKafka({ brokers: testInfra.kafkaBrokers, clientId: "usage-recorder-int", logger });
});

afterEach(async () => {
  await proxy.resume().catch(() => {});
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

afterAll(async () => {
  await recorderPrisma?.$disconnect();
  await proxy?.close();
  await db?.drop();
  await Promise.all(runs.map((run) => run.cleanup()));
});

/** The usage topic and its DLQ under a new prefix, so that one test's offsets are its own. */
async function freshTopics(label: string): Promise<TestTopics> {
  const run = await createTestTopics(label, [usage], { kafka, logger, withDlq: true });
  runs.push(run);
  return run;
}

async function publish(prefix: string, events: UsageEvent[]): Promise<void> {
  const producer = createBatchingProducer({ kafka, logger, topicPrefix: prefix });
  await Promise.all(events.map((e) => producer.publish(usage, e)));
  await producer.disconnect();
}

async function startRecorder(
  prefix: string,
  groupId: string,
  registry: Registry,
  batchSize = 200,
): Promise<UsageRecorder> {
  const recorder = createUsageRecorder({
    prisma: recorderPrisma,
    kafka,
    logger,
    registry,
    settings: {
      groupId,
      topicPrefix: prefix,
      batchSize,
      concurrency: 2,
      sessionTimeoutMs: 10_000,
      lagIntervalMs: 500,
      partitions: { daysAhead: 1, retentionDays: 30, intervalMs: 3_600_000 },
    },
    retry: { initialMs: 50, maxMs: 400 },
  });
  running.push(recorder);
  await recorder.start();
  return recorder;
}

async function rowsOf(events: UsageEvent[]): Promise<number> {
  const [row] = await db.prisma.$queryRaw<{ n: bigint }[]>`
    SELECT count(*) AS n FROM api_usage WHERE event_id = ANY(${events.map((e) => e.id)}::uuid[])`;
  return Number(row?.n ?? 0);
}

/** The group's committed offsets, summed over the partitions. */
async function committed(groupId: string, prefix: string): Promise<bigint> {
  const lag = await fetchConsumerLag(kafka, groupId, topicName(usage, prefix));
  return lag.reduce((sum, p) => sum + (p.committed ?? 0n), 0n);
}

/** The value of the series of `name` carrying `labels` (among others) in the registry's text. */
async function sample(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = (await registry.metrics())
    .split("\n")
    .find(
      (l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && wanted.every((w) => l.includes(w)),
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("usage recorder", () => {
  it("records 10,000 events, 5 % of them published twice, as exactly 10,000 rows with the spec's fields", async () => {
    const run = await freshTopics("rec-dup");
    const { prefix } = run;
    const { events, published } = eventsWithDuplicates(10_000);
    expect(published).toHaveLength(10_500);
    await publish(prefix, published);
    const registry = createMetricsRegistry("test", { defaultMetrics: false });
    const recorder = await startRecorder(prefix, run.group("rec-dup"), registry, 1000);

    // Each message is counted once it is handled: as a new row, or as a duplicate of one.
    await waitFor(
      async () =>
        ((await sample(registry, "usage_recorder_rows_total", { result: "inserted" })) ?? 0) +
          ((await sample(registry, "usage_recorder_rows_total", { result: "duplicate" })) ?? 0) ===
        10_500,
      { timeoutMs: 60_000, what: "all 10,500 messages handled" },
    );
    expect(await rowsOf(events)).toBe(10_000);
    expect(await sample(registry, "usage_recorder_rows_total", { result: "inserted" })).toBe(10_000);
    expect(await sample(registry, "usage_recorder_rows_total", { result: "duplicate" })).toBe(500);

    const probe = events[20] as UsageEvent;
    const [row] = await db.prisma.$queryRaw<Record<string, unknown>[]>`
      SELECT user_id, api_key_id, endpoint, method, status_code, response_time, rate_limited, created_at
      FROM api_usage WHERE event_id = ${probe.id}::uuid`;
    expect(row).toEqual({
      user_id: probe.userId,
      api_key_id: probe.apiKeyId,
      endpoint: "/users/:id",
      method: "GET",
      status_code: 500,
      response_time: 0.02,
      rate_limited: false,
      created_at: new Date(probe.occurredAt),
    });
    // Today's partition was made before consuming, so nothing went to the default partition.
    const [inDefault] = await db.prisma.$queryRaw<
      { n: bigint }[]
    >`SELECT count(*) AS n FROM api_usage_default`;
    expect(Number(inDefault?.n)).toBe(0);

    // Lag per partition, batch sizes and write latency are exported.
    await recorder.lag.refresh();
    const lines = (await registry.metrics()).split("\n");
    const lag = lines.filter((l) => l.startsWith("usage_recorder_consumer_lag{"));
    expect(lag).toHaveLength(usage.partitions);
    expect(lag.every((l) => l.endsWith(" 0"))).toBe(true);
    expect(await sample(registry, "usage_recorder_batch_rows_sum")).toBe(10_500);
    expect(await sample(registry, "usage_recorder_write_seconds_count", { outcome: "ok" })).toBeGreaterThan(
      0,
    );
    // The hourly tables counted each stored request once, redeliveries not again.
    expect(await hourlyDrift(db.prisma)).toEqual([]);
  }, 120_000);

  it("pauses through a Postgres outage mid-stream, commits nothing past unwritten rows, and ends with exactly 10,000 rows", async () => {
    const run = await freshTopics("rec-outage");
    const { prefix } = run;
    const groupId = run.group("rec-outage");
    const { events, published } = eventsWithDuplicates(10_000);
    const half = published.length / 2;
    await publish(prefix, published.slice(0, half));
    const registry = createMetricsRegistry("test", { defaultMetrics: false });
    await startRecorder(prefix, groupId, registry);

    // Cut the database off as soon as the first rows are in, with batches still to write.
    await waitFor(async () => (await rowsOf(events)) > 0, {
      timeoutMs: 30_000,
      intervalMs: 5,
      what: "first rows",
    });
    await proxy.interrupt();
    // The stream goes on while the database is away.
    await publish(prefix, published.slice(half));

    await waitFor(
      async () =>
        ((await sample(registry, "kafka_consumer_retries_total", { topic: topicName(usage, prefix) })) ??
          0) >= 3,
      {
        timeoutMs: 20_000,
        what: "the recorder to retry",
      },
    );
    // Paused: neither rows nor offsets move while the database is away (read once a statement
    // in flight at the cut has surely finished on the server).
    const writtenBefore = await rowsOf(events);
    const pausedAt = await committed(groupId, prefix);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await committed(groupId, prefix)).toBe(pausedAt);
    expect(await rowsOf(events)).toBe(writtenBefore);
    expect(writtenBefore).toBeLessThan(10_000);

    await proxy.resume();
    await waitFor(async () => (await committed(groupId, prefix)) === BigInt(published.length), {
      timeoutMs: 40_000,
      what: "every offset committed",
    });
    expect(await rowsOf(events)).toBe(10_000);
    // A batch cut off mid-statement added nothing to the hourly tables; its retry added it once.
    expect(await hourlyDrift(db.prisma)).toEqual([]);
  }, 120_000);

  it("dead-letters messages that fail the schema and rows the database refuses, and writes the rest", async () => {
    const run = await freshTopics("rec-dlq");
    const { prefix } = run;
    // Quotes, backslashes, braces and commas must survive the array literals of the bulk insert.
    const tricky = '/a "b" \\c {d},e, ü/NULL';
    const good = [makeUsageEvent({ apiKeyId: 9, endpoint: tricky }), makeUsageEvent({ apiKeyId: 9 })];
    // Valid by the schema (a positive integer) but beyond Postgres' integer: the database refuses it.
    const outOfRange = makeUsageEvent({ apiKeyId: 3_000_000_000 });
    await sendRaw(kafka, run.name(usage), [
      { partition: 0, key: "9", value: JSON.stringify(good[0]) },
      { partition: 0, key: "9", value: "{not json" },
      { partition: 0, key: "9", value: JSON.stringify({ ...good[1], statusCode: "200" }) },
      { partition: 0, key: "9", value: JSON.stringify(outOfRange) },
      { partition: 0, key: "9", value: JSON.stringify(good[1]) },
    ]);
    const groupId = run.group("rec-dlq");
    await startRecorder(prefix, groupId, createMetricsRegistry("test", { defaultMetrics: false }));

    const reader = await readTopic(run, usageDlq, { label: "rec-dlq-reader", logger });
    running.push(reader);
    const dead: DlqRecord[] = reader.values;
    await waitFor(() => dead.length >= 3, { timeoutMs: 30_000, what: "three dead letters" });
    await waitFor(async () => (await committed(groupId, prefix)) === 5n, {
      timeoutMs: 10_000,
      what: "commits",
    });

    expect(await rowsOf(good)).toBe(2);
    const stored = await db.prisma.$queryRaw<{ endpoint: string }[]>`
      SELECT endpoint FROM api_usage WHERE event_id = ${good[0]?.id}::uuid`;
    expect(stored).toEqual([{ endpoint: tricky }]);
    expect(await rowsOf([outOfRange])).toBe(0);
    expect(dead.map((d) => [d.offset, d.consumerGroup, d.sourceTopic])).toEqual([
      ["1", groupId, topicName(usage, prefix)],
      ["2", groupId, topicName(usage, prefix)],
      ["3", groupId, topicName(usage, prefix)],
    ]);
    expect(dead[0]?.error).toMatch(/^invalid JSON/);
    expect(dead[1]?.error).toMatch(/^schema usage\.events\.v1: statusCode/);
    expect(dead[2]?.error).toMatch(/^handler error: .*out of range for type integer/s);
    expect(dead[2]?.value).toBe(JSON.stringify(outOfRange));
    // The refused row's batch failed whole: its other rows were added to the hourly tables
    // once, when written without it.
    expect(await hourlyDrift(db.prisma)).toEqual([]);
  });
});
