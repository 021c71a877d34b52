// `pnpm bench:pipeline`: how fast usage events go from Kafka into Postgres.
//
// Pre-fills a fresh topic (unique prefix) with 200,000 valid usage events over 50 API keys and
// makes a fresh database, then measures, one after the other on the same machine:
//   1. raw insert: the same 200,000 rows with the recorder's own INSERT … SELECT FROM unnest()
//      statement, 10,000 rows per statement on one connection, straight from memory: the
//      ceiling the database allows (the baseline);
//   2. usage-recorder consuming the topic into api_usage (in-process, its real factory), rows/s
//      from its first written row to its last;
//   3. key-stats consuming the same topic into api_keys.usage_count (its real main as a child
//      process), events/s from the first counted event to the last.
// and prints a table with the ratios against the raw insert and the goals
// (recorder ≥ 20,000 rows/s and ≥ 0.5× raw). Drops the database, topics and groups at the end.
//
// Environment: DATABASE_URL (server to create the bench database on; default local postgres),
// KAFKA_BROKERS, BENCH_EVENTS (default 200000), BENCH_KEYS (50), USAGE_RECORDER_BATCH_SIZE /
// USAGE_RECORDER_CONCURRENCY (the recorder's defaults otherwise), BENCH_SKIP_KEY_STATS=1.
import { existsSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import path from "node:path";
import { createDatabase, createPrismaClient, dropDatabase, migrate } from "@apimon/db";
import { dlqTopic, newEventId, topics, type UsageEvent } from "@apimon/events";
import { createKafka, deleteConsumerGroups, ensureTopics, fetchEndOffsets, topicName } from "@apimon/kafka";
import { type Counter, createLogger, createMetricsRegistry, type Histogram } from "@apimon/observability";
import { freePort, repoRoot, spawnTsx } from "@apimon/testkit";
import { Client } from "pg";
import { loadConfig as loadRecorderConfig } from "../../services/usage-recorder/src/config";
import {
  INSERT_USAGE_SQL,
  toArrayLiterals,
  toUsageRow,
} from "../../services/usage-recorder/src/domain/usage-row";
import { createUsageRecorder } from "../../services/usage-recorder/src/usage-recorder";
import { prefillUsageTopic } from "./prefill";
import { runBench } from "./report";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const KEYS = Number(process.env.BENCH_KEYS ?? 50);
const RAW_CHUNK = 10_000;
const GOAL_ROWS_PER_SECOND = 20_000;
const GOAL_RATIO = 0.5;
const serverUrl = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const brokers = (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",").map((s) => s.trim());
const keyStatsEntry = "services/key-stats/src/main.ts";

const logger = createLogger({ service: "bench-pipeline", level: process.env.LOG_LEVEL ?? "warn" });
const say = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => ms / 1000;

interface Measure {
  count: number;
  ms: number;
  /** From the consumer's start to its last row: group join and fetching included. */
  totalMs?: number;
}

/**
 * Polls `read` until it returns `target`; the rate runs from the first poll that saw progress
 * to the one that saw the end, so start-up (group join) is not counted.
 */
async function watch(read: () => Promise<number>, target: number, timeoutMs: number, everyMs = 20) {
  const started = performance.now();
  let first: { at: number; n: number } | undefined;
  for (;;) {
    const n = await read();
    const at = performance.now();
    if (n > 0 && !first) first = { at, n };
    if (n >= target && first) {
      // Rows before the first observation were written before the clock started.
      return { count: target - first.n, ms: at - first.at, totalMs: at - started };
    }
    if (at - started > timeoutMs) throw new Error(`timed out at ${n} of ${target}`);
    await sleep(everyMs);
  }
}

function makeEvents(keyIds: number[], userId: number): UsageEvent[] {
  const now = Date.now();
  const endpoints = ["/users/:id", "/orders", "/orders/:id", "/search", "/health"];
  return Array.from({ length: EVENTS }, (_, i) => {
    const status = i % 50 === 0 ? 500 : i % 17 === 0 ? 404 : 200;
    return {
      id: newEventId(),
      // Spread over the last minute, all of today (UTC) unless the bench starts at midnight.
      occurredAt: new Date(now - 60_000 + Math.floor((i * 60_000) / EVENTS)).toISOString(),
      apiKeyId: keyIds[i % keyIds.length] as number,
      userId,
      endpoint: endpoints[i % endpoints.length] as string,
      method: i % 3 === 0 ? "POST" : "GET",
      statusCode: status,
      responseTimeMs: (i % 400) + 0.5,
      rateLimited: false,
      limits: {
        minute: { limit: 100, remaining: 50, reset: 30 },
        hour: { limit: 1000, remaining: 900, reset: 1800 },
        day: { limit: 10000, remaining: 9000, reset: 40000 },
      },
      clientIp: `10.0.${i % 250}.${i % 200}`,
      edgeInstance: "bench",
    };
  });
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function main(): Promise<void> {
  const loadAtStart = loadavg()[0] ?? 0;
  const stamp = `${Date.now().toString(36)}${process.pid}`;
  const prefix = `bench-pipeline-${stamp}.`;
  const dbName = `apimon_bench_${stamp}`;
  const recorderGroup = `bench-recorder-${stamp}`;
  const keyStatsGroup = `bench-key-stats-${stamp}`;
  const kafka = createKafka({ brokers, clientId: "bench-pipeline", logger });
  const cleanups: { name: string; run: () => Promise<unknown> }[] = [];
  const results: { raw?: Measure; recorder?: Measure; recorderDetail?: string; keyStats?: Measure | string } =
    {};

  try {
    // --- infrastructure --------------------------------------------------------------------
    const created = await ensureTopics(kafka, {
      prefix,
      specs: [topics.usageEvents, dlqTopic(topics.usageEvents)],
    });
    cleanups.push({
      name: "topics",
      run: async () => {
        const admin = kafka.admin();
        await admin.connect();
        await admin.deleteTopics({ topics: created.created }).finally(() => admin.disconnect());
      },
    });
    const dbUrl = await createDatabase(serverUrl, dbName);
    cleanups.push({ name: "database", run: () => dropDatabase(serverUrl, dbName) });
    await migrate({ connectionString: dbUrl });
    const pg = new Client({ connectionString: dbUrl });
    await pg.connect();
    cleanups.push({ name: "pg client", run: () => pg.end() });

    const user = await pg.query<{ id: number }>(
      `INSERT INTO users (email, name, updated_at) VALUES ('bench@example.com', 'Bench', now()) RETURNING id`,
    );
    const userId = user.rows[0]?.id as number;
    const keys = await pg.query<{ id: number }>(
      `INSERT INTO api_keys (user_id, name, key_hash, key_prefix, updated_at)
       SELECT $1, 'bench ' || i, md5('bench' || i) || md5('key' || i), 'bench' || i, now()
       FROM generate_series(1, $2::int) AS i RETURNING id`,
      [userId, KEYS],
    );
    const keyIds = keys.rows.map((r) => r.id);
    // Dropped after the baseline, so the recorder's phase runs without 200,000 live objects.
    let events: UsageEvent[] | undefined = makeEvents(keyIds, userId);

    // --- pre-fill ----------------------------------------------------------------------------
    say(`pre-filling ${prefix}usage.events.v1 with ${fmt(EVENTS)} events over ${KEYS} keys…`);
    let t = performance.now();
    await prefillUsageTopic({ kafka, logger, prefix, events });
    const ends = await fetchEndOffsets(kafka, topicName(topics.usageEvents, prefix));
    const inTopic = ends.reduce((sum, p) => sum + Number(p.high - p.low), 0);
    if (inTopic !== EVENTS) throw new Error(`topic holds ${inTopic} events, expected ${EVENTS}`);
    say(`  pre-filled in ${fmt(seconds(performance.now() - t), 1)} s`);

    // The recorder's own settings (env or defaults), with this run's group and topics.
    const recorderConfig = loadRecorderConfig({ ...process.env, KAFKA_TOPIC_PREFIX: prefix });
    const prisma = createPrismaClient({
      connectionString: dbUrl,
      poolSize: recorderConfig.database.poolSize,
    });
    cleanups.push({ name: "prisma", run: () => prisma.$disconnect() });
    const registry = createMetricsRegistry("usage-recorder", { defaultMetrics: false });
    const recorder = createUsageRecorder({
      prisma,
      kafka,
      logger,
      registry,
      settings: {
        groupId: recorderGroup,
        topicPrefix: prefix,
        batchSize: recorderConfig.batchSize,
        concurrency: recorderConfig.concurrency,
        sessionTimeoutMs: recorderConfig.sessionTimeoutMs,
        lagIntervalMs: recorderConfig.lagIntervalMs,
        partitions: recorderConfig.partitions,
      },
    });
    // Today's partitions first, so the baseline and the recorder write into the same ones.
    await recorder.maintainer.runOnce();

    // --- 1. raw insert baseline ---------------------------------------------------------------
    say(`raw INSERT … unnest of the same rows (${fmt(RAW_CHUNK)} rows per statement)…`);
    const rows = events.map(toUsageRow);
    events = undefined;
    t = performance.now();
    for (let i = 0; i < rows.length; i += RAW_CHUNK) {
      await pg.query(INSERT_USAGE_SQL, toArrayLiterals(rows.slice(i, i + RAW_CHUNK)));
    }
    results.raw = { count: EVENTS, ms: performance.now() - t };
    rows.length = 0;
    const rawCount = Number(
      (await pg.query<{ n: string }>("SELECT count(*) AS n FROM api_usage")).rows[0]?.n,
    );
    if (rawCount !== EVENTS) throw new Error(`raw insert left ${rawCount} rows`);
    await pg.query("TRUNCATE api_usage");
    // Same starting point for the recorder: dead tuples and statistics of the baseline gone.
    await pg.query("VACUUM ANALYZE api_usage");

    // --- 2. usage-recorder --------------------------------------------------------------------
    say(
      `usage-recorder (batch ${recorderConfig.batchSize}, ${recorderConfig.concurrency} partitions at once)…`,
    );
    const inserted = registry.getSingleMetric("usage_recorder_rows_total") as Counter;
    const readInserted = async () =>
      (await inserted.get()).values.find((v) => v.labels.result === "inserted")?.value ?? 0;
    const cpuBefore = process.cpuUsage();
    await recorder.start();
    cleanups.push({
      name: "consumer groups",
      run: () => deleteConsumerGroups(kafka, [recorderGroup, keyStatsGroup]),
    });
    try {
      results.recorder = await watch(readInserted, EVENTS, 300_000, 10);
    } finally {
      await recorder.stop();
    }
    const cpu = process.cpuUsage(cpuBefore);
    const histogram = async (name: string, field: "sum" | "count") => {
      const metric = registry.getSingleMetric(name) as Histogram;
      return (await metric.get()).values
        .filter((v) => v.metricName === `${name}_${field}` && v.labels.outcome !== "error")
        .reduce((sum, v) => sum + v.value, 0);
    };
    const statements = await histogram("usage_recorder_write_seconds", "count");
    const writeSeconds = await histogram("usage_recorder_write_seconds", "sum");
    const batchRows = await histogram("usage_recorder_batch_rows", "sum");
    results.recorderDetail =
      `usage-recorder internals: ${fmt(statements)} bulk inserts of ${fmt(batchRows / statements)} rows on average, ` +
      `${fmt((writeSeconds / statements) * 1000, 1)} ms each; ${fmt(writeSeconds, 2)} s spent in inserts ` +
      `(summed over ${recorderConfig.concurrency} concurrent partitions); ` +
      `${fmt((cpu.user + cpu.system) / 1000 / (EVENTS / 1000), 1)} ms of recorder CPU per 1,000 rows.`;
    const recorded = Number(
      (await pg.query<{ n: string }>("SELECT count(*) AS n FROM api_usage")).rows[0]?.n,
    );
    if (recorded !== EVENTS) throw new Error(`usage-recorder left ${recorded} rows, expected ${EVENTS}`);

    // --- 3. key-stats -------------------------------------------------------------------------
    if (process.env.BENCH_SKIP_KEY_STATS === "1") {
      results.keyStats = "skipped (BENCH_SKIP_KEY_STATS=1)";
    } else if (!existsSync(path.join(repoRoot, keyStatsEntry))) {
      results.keyStats = "n/a (key-stats not built)";
    } else {
      say("key-stats (its main, as a child process)…");
      const port = await freePort();
      const child = spawnTsx(keyStatsEntry, {
        ...process.env,
        DATABASE_URL: dbUrl,
        KAFKA_BROKERS: brokers.join(","),
        KAFKA_TOPIC_PREFIX: prefix,
        KEY_STATS_PORT: String(port),
        KEY_STATS_HOST: "127.0.0.1",
        KEY_STATS_GROUP_ID: keyStatsGroup,
        LOG_LEVEL: "warn",
      });
      const counted = async () => {
        if (child.child.exitCode !== null)
          throw new Error(`key-stats exited: ${child.output().slice(-2000)}`);
        const r = await pg.query<{ n: string | null }>("SELECT sum(usage_count) AS n FROM api_keys");
        return Number(r.rows[0]?.n ?? 0);
      };
      try {
        results.keyStats = await watch(counted, EVENTS, 300_000, 20);
      } catch (error) {
        results.keyStats = `failed: ${error instanceof Error ? error.message : String(error)}`;
      } finally {
        await child.stop("SIGTERM");
      }
    }
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup
        .run()
        .catch((error: unknown) => say(`cleanup of ${cleanup.name} failed: ${String(error)}`));
    }
  }

  // --- report --------------------------------------------------------------------------------
  const raw = results.raw as Measure;
  const rawRate = raw.count / seconds(raw.ms);
  const table: string[][] = [
    ["stage", "items timed", "seconds", "items/s", "vs raw insert", "with start-up (s)"],
  ];
  const row = (name: string, m: Measure | string | undefined) => {
    if (m === undefined || typeof m === "string") {
      table.push([name, m ?? "n/a", "", "", "", ""]);
      return;
    }
    const rate = m.count / seconds(m.ms);
    table.push([
      name,
      fmt(m.count),
      fmt(seconds(m.ms), 2),
      fmt(rate),
      `${fmt(rate / rawRate, 2)}×`,
      m.totalMs === undefined ? "" : fmt(seconds(m.totalMs), 2),
    ]);
  };
  row(`raw INSERT … unnest (${fmt(RAW_CHUNK)} rows/statement)`, raw);
  row("usage-recorder: Kafka → api_usage (rows)", results.recorder);
  row("key-stats: Kafka → api_keys.usage_count (events)", results.keyStats);
  const widths = table[0]?.map((_, c) => Math.max(...table.map((r) => (r[c] ?? "").length))) ?? [];
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(" | ")} |`;
  const out = [line(table[0] as string[]), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`];
  for (const r of table.slice(1)) out.push(line(r));

  const recorder = results.recorder as Measure;
  const recorderRate = recorder.count / seconds(recorder.ms);
  const verdict = (ok: boolean) => (ok ? "met" : "NOT met");
  out.push(
    "",
    `events: ${fmt(EVENTS)} over ${KEYS} keys, ${topics.usageEvents.partitions} partitions; rates count from the first row/event seen to the last.`,
    results.recorderDetail ?? "",
    // The figures are only comparable with the load they were taken under.
    `machine: ${availableParallelism()} cores; 1-minute load average ${fmt(loadAtStart, 1)} at the start, ${fmt(loadavg()[0] ?? 0, 1)} at the end.`,
    `goal usage-recorder ≥ ${fmt(GOAL_ROWS_PER_SECOND)} rows/s: ${fmt(recorderRate)} rows/s (${fmt(recorderRate / GOAL_ROWS_PER_SECOND, 2)}× the goal) — ${verdict(recorderRate >= GOAL_ROWS_PER_SECOND)}`,
    `goal usage-recorder ≥ ${GOAL_RATIO}× raw insert: ${fmt(recorderRate / rawRate, 2)}× — ${verdict(recorderRate / rawRate >= GOAL_RATIO)}`,
  );
  process.stdout.write(`${out.join("\n")}\n`);
}

runBench("bench:pipeline", main);
