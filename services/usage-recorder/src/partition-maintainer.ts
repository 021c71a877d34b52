import type { Prisma, PrismaClient } from "@apimon/db";
import { counter, createPeriodicTask, gauge, type Logger, type Registry } from "@apimon/observability";
import {
  type DailyPartition,
  type PartitionPolicy,
  parsePartitionName,
  planPartitions,
} from "./domain/partitions";

/**
 * The advisory lock that serialises partition maintenance across recorder instances on a
 * database. (The migration runner holds 72707369, the keys outbox relay 72707370.)
 */
export const PARTITION_MAINTENANCE_LOCK_KEY = 72_707_380n;

export interface PartitionMaintainerOptions extends PartitionPolicy {
  prisma: PrismaClient;
  logger: Logger;
  registry?: Registry;
  /** Pause between runs. */
  intervalMs: number;
  clock?: () => Date;
  /** How long a DDL statement may wait for its table lock before the run gives up (and retries later). */
  lockTimeoutMs?: number;
  /** Pause before the next attempt after a failed run (at most intervalMs). */
  retryAfterFailureMs?: number;
}

export interface MaintenanceResult {
  /** Partitions this run created, with how many rows each took over from the default partition. */
  created: { name: string; movedRows: number }[];
  dropped: string[];
  /** Rows past retention deleted from the default partition. */
  expiredDefaultRows: number;
  /** Rows past retention deleted from the hourly usage tables, both tables' together. */
  expiredHourlyRows: number;
  /** Block ranges of the partitions' BRIN indexes on created_at this run summarized. */
  summarizedRanges: number;
}

export interface PartitionMaintainer {
  /** Runs once (a failure is logged, not thrown), then every intervalMs in the background (a minute after a failure). */
  start(): Promise<void>;
  /** Waits for a run in flight, then stops. */
  stop(): Promise<void>;
  /** One run; throws when the database refuses. */
  runOnce(): Promise<MaintenanceResult>;
}

type Tx = Prisma.TransactionClient;

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const literal = (at: Date) => `'${at.toISOString()}'`;

/**
 * Keeps api_usage's daily partitions: creates yesterday's, today's and `daysAhead` more
 * (`api_usage_pYYYYMMDD`), drops those older than `retentionDays`, deletes expired rows
 * from the DEFAULT partition and the hourly usage tables, and summarizes the BRIN index's new
 * block ranges.
 *
 * Creating a partition for a range that the DEFAULT partition already holds rows of fails in
 * Postgres, so then the rows move: in one transaction the new table is created standalone,
 * the rows are copied into it and deleted from the default, and it is attached. Each change
 * runs in its own transaction under a transaction-scoped advisory lock, so two instances never
 * race (the second finds the partition made and skips it), and a crash rolls a half-done move
 * back. The parent table is locked first, in the order inserts take their locks, so a writer
 * waits for the change rather than deadlocking with it.
 */
export function createPartitionMaintainer({
  prisma,
  logger,
  registry,
  daysAhead,
  retentionDays,
  intervalMs,
  clock = () => new Date(),
  lockTimeoutMs = 5000,
  retryAfterFailureMs = 60_000,
}: PartitionMaintainerOptions): PartitionMaintainer {
  const log = logger.child({ component: "partition-maintainer" });
  const partitionsGauge = gauge(
    registry,
    "usage_recorder_partitions",
    "Daily partitions of api_usage after the last maintenance run",
  );
  const changes = counter(
    registry,
    "usage_recorder_partition_changes_total",
    "Partition changes: created, created_with_move (rows taken from the default partition), dropped",
    ["action"],
  );
  const runs = counter(
    registry,
    "usage_recorder_partition_runs_total",
    "Partition maintenance runs, by outcome (ok, error)",
    ["outcome"],
  );
  const lastSuccess = gauge(
    registry,
    "usage_recorder_partition_last_success_timestamp_seconds",
    "When partition maintenance last succeeded (alert if it falls behind)",
  );

  /** One change in its own transaction, serialised across instances by the advisory lock. */
  function locked<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return prisma.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '${Math.max(1, Math.round(lockTimeoutMs))}ms'`);
        await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${PARTITION_MAINTENANCE_LOCK_KEY})`);
        return fn(tx);
      },
      { maxWait: 10_000, timeout: 10 * 60_000 },
    );
  }

  async function listPartitions(tx: Tx | PrismaClient): Promise<string[]> {
    const rows = await tx.$queryRawUnsafe<{ name: string }[]>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = to_regclass('api_usage')`,
    );
    return rows.map((r) => r.name);
  }

  /** The DEFAULT partition's name as a usable identifier (schema-qualified when needed), if any. */
  async function defaultPartition(tx: Tx): Promise<string | undefined> {
    const [row] = await tx.$queryRawUnsafe<{ name: string | null }[]>(
      `SELECT CASE WHEN partdefid = 0 THEN NULL ELSE partdefid::regclass::text END AS name
       FROM pg_partitioned_table WHERE partrelid = to_regclass('api_usage')`,
    );
    return row?.name ?? undefined;
  }

  async function create(partition: DailyPartition): Promise<{ movedRows: number } | undefined> {
    return locked(async (tx) => {
      if ((await listPartitions(tx)).includes(partition.name)) return undefined;
      // Writers take the parent's lock before the default partition's; so does this.
      await tx.$executeRawUnsafe("LOCK TABLE api_usage IN SHARE ROW EXCLUSIVE MODE");
      const name = quoteIdent(partition.name);
      const range = `FROM (${literal(partition.from)}) TO (${literal(partition.to)})`;
      const where = `created_at >= ${literal(partition.from)} AND created_at < ${literal(partition.to)}`;
      const fallback = await defaultPartition(tx);
      const [held] = fallback
        ? await tx.$queryRawUnsafe<{ any: boolean }[]>(
            `SELECT EXISTS (SELECT 1 FROM ${fallback} WHERE ${where}) AS any`,
          )
        : [{ any: false }];
      if (!fallback || !held?.any) {
        await tx.$executeRawUnsafe(`CREATE TABLE ${name} PARTITION OF api_usage FOR VALUES ${range}`);
        return { movedRows: 0 };
      }
      // Rows for this day already sit in the default partition (late events, or a partition
      // made late): Postgres refuses to create the partition over them, so move them.
      await tx.$executeRawUnsafe(
        `CREATE TABLE ${name} (LIKE api_usage INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
      );
      const movedRows = await tx.$executeRawUnsafe(
        `INSERT INTO ${name} SELECT * FROM ${fallback} WHERE ${where}`,
      );
      await tx.$executeRawUnsafe(`DELETE FROM ${fallback} WHERE ${where}`);
      await tx.$executeRawUnsafe(`ALTER TABLE api_usage ATTACH PARTITION ${name} FOR VALUES ${range}`);
      return { movedRows };
    });
  }

  async function drop(name: string): Promise<boolean> {
    return locked(async (tx) => {
      if (!(await listPartitions(tx)).includes(name)) return false;
      await tx.$executeRawUnsafe(`DROP TABLE ${quoteIdent(name)}`);
      return true;
    });
  }

  async function expireDefaultRows(cutoff: Date): Promise<number> {
    return locked(async (tx) => {
      const fallback = await defaultPartition(tx);
      if (!fallback) return 0;
      return tx.$executeRawUnsafe(`DELETE FROM ${fallback} WHERE created_at < ${literal(cutoff)}`);
    });
  }

  async function expireHourlyRows(cutoff: Date): Promise<number> {
    const [endpoints, keys] = await prisma.$transaction([
      prisma.$executeRawUnsafe(`DELETE FROM usage_hourly_endpoints WHERE hour < ${literal(cutoff)}`),
      prisma.$executeRawUnsafe(`DELETE FROM usage_hourly_keys WHERE hour < ${literal(cutoff)}`),
    ]);
    return endpoints + keys;
  }

  /**
   * Summarizes the block ranges of the partitions' BRIN indexes that autovacuum has not yet.
   * Autosummarize queues a request per filled range, in a queue of fixed size that a bulk load
   * (a catch-up after an outage) overflows; until a range is summarized, the usage queries'
   * part-hours read it whole. Takes no lock that stops inserts. A database that refuses (the
   * role does not own the indexes) is logged, not a failed run: the ranges wait for vacuum.
   */
  async function summarizeBrin(): Promise<number> {
    try {
      const [row] = await prisma.$queryRawUnsafe<{ ranges: number }[]>(
        `SELECT coalesce(sum(brin_summarize_new_values(i.indexrelid)), 0)::int AS ranges
         FROM pg_inherits p
         JOIN pg_index i ON i.indrelid = p.inhrelid
         JOIN pg_class c ON c.oid = i.indexrelid
         JOIN pg_am am ON am.oid = c.relam
         WHERE p.inhparent = to_regclass('api_usage') AND am.amname = 'brin'`,
      );
      return row?.ranges ?? 0;
    } catch (error) {
      log.warn({ err: error }, "could not summarize api_usage's BRIN index; vacuum will");
      return 0;
    }
  }

  async function run(): Promise<MaintenanceResult> {
    const result: MaintenanceResult = {
      created: [],
      dropped: [],
      expiredDefaultRows: 0,
      expiredHourlyRows: 0,
      summarizedRanges: 0,
    };
    try {
      const plan = planPartitions(clock(), await listPartitions(prisma), { daysAhead, retentionDays });
      for (const partition of plan.create) {
        const made = await create(partition);
        if (!made) continue;
        result.created.push({ name: partition.name, movedRows: made.movedRows });
        changes.inc({ action: made.movedRows > 0 ? "created_with_move" : "created" });
        log.info({ partition: partition.name, movedRows: made.movedRows }, "created api_usage partition");
      }
      for (const name of plan.drop) {
        if (!(await drop(name))) continue;
        result.dropped.push(name);
        changes.inc({ action: "dropped" });
        log.info({ partition: name, retentionDays }, "dropped api_usage partition past retention");
      }
      result.expiredDefaultRows = await expireDefaultRows(plan.cutoff);
      if (result.expiredDefaultRows > 0) {
        log.info({ rows: result.expiredDefaultRows }, "deleted expired rows from the default partition");
      }
      result.expiredHourlyRows = await expireHourlyRows(plan.cutoff);
      if (result.expiredHourlyRows > 0) {
        log.info({ rows: result.expiredHourlyRows }, "deleted expired rows from the hourly usage tables");
      }
      result.summarizedRanges = await summarizeBrin();
      if (result.summarizedRanges > 0) {
        log.info({ ranges: result.summarizedRanges }, "summarized block ranges of api_usage's BRIN index");
      }
      const present = await listPartitions(prisma);
      partitionsGauge.set(present.filter((n) => parsePartitionName(n) !== undefined).length);
      runs.inc({ outcome: "ok" });
      lastSuccess.set(clock().getTime() / 1000);
      return result;
    } catch (error) {
      runs.inc({ outcome: "error" });
      throw error;
    }
  }

  const task = createPeriodicTask({
    name: "partition maintenance",
    logger: log,
    intervalMs,
    firstRun: "await",
    run,
    onError: (error) => {
      // Writes go on meanwhile: rows of a day without its partition land in the default one,
      // and the run that creates the partition moves them.
      const retryMs = Math.min(intervalMs, retryAfterFailureMs);
      log.warn({ err: error, retryMs }, "api_usage partition maintenance failed; retrying");
      return retryMs;
    },
  });

  return {
    async start() {
      if (task.isRunning()) return;
      await task.start();
      log.info({ intervalMs, daysAhead, retentionDays }, "partition maintenance scheduled");
    },
    stop: () => task.stop(),
    runOnce: () => task.runNow(),
  };
}
