import type { Prisma, PrismaClient } from "@apimon/db";
import { createPeriodicTask, type Logger } from "@apimon/observability";
import { type DayPartition, planCountedPartitions } from "./domain/counted-partitions";
import type { KeyStatsMetrics } from "./metrics";

/** Serialises counted_events maintenance across key-stats instances on a database. */
export const COUNTED_EVENTS_LOCK_KEY = 72_707_390n;

/** Partitions made beyond today, so that a run missed around midnight costs nothing. */
const DAYS_AHEAD = 2;

export interface CountedEventsMaintenanceResult {
  created: string[];
  dropped: string[];
  /** Expired partitions kept because some of their events were counted after the cutoff. */
  kept: string[];
  /** Rows past retention deleted from the default partition. */
  expiredDefaultRows: number;
}

export interface CountedEventsMaintainer {
  /** Runs once (a failure is logged, not thrown), then every intervalMs until stopped. */
  start(): Promise<void>;
  /** Waits for a run in flight, then stops. */
  stop(): Promise<void>;
  /** One run; throws when the database refuses. */
  runOnce(): Promise<CountedEventsMaintenanceResult>;
}

/**
 * Keeps counted_events from growing without bound: creates the daily partitions of today and
 * the next days, drops a past day's partition once nothing in it was counted within
 * `retentionDays`, and deletes rows counted before that from the DEFAULT partition. Each change
 * runs in its own transaction under an advisory lock, with counted_events locked against writes
 * first, so no row is counted into a partition while it is checked and dropped.
 */
export function createCountedEventsMaintainer({
  prisma,
  logger,
  metrics,
  retentionDays,
  intervalMs,
  clock = () => new Date(),
}: {
  prisma: PrismaClient;
  logger: Logger;
  metrics: KeyStatsMetrics;
  retentionDays: number;
  intervalMs: number;
  clock?: () => Date;
}): CountedEventsMaintainer {
  const log = logger.child({ component: "counted-events" });

  function locked<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
    return prisma.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe("SET LOCAL lock_timeout = '5s'");
        await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${COUNTED_EVENTS_LOCK_KEY})`);
        // Writers wait here (briefly) rather than count into a partition being changed.
        await tx.$executeRawUnsafe("LOCK TABLE counted_events IN SHARE ROW EXCLUSIVE MODE");
        return fn(tx);
      },
      { maxWait: 10_000, timeout: 10 * 60_000 },
    );
  }

  /** The partitions' table names (daily ones match a fixed pattern of digits: safe unquoted). */
  async function partitions(tx: Prisma.TransactionClient | PrismaClient): Promise<string[]> {
    const rows = await tx.$queryRaw<{ name: string }[]>`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'counted_events'::regclass`;
    return rows.map((r) => r.name);
  }

  async function create({ name, from, to }: DayPartition): Promise<boolean> {
    return locked(async (tx) => {
      if ((await partitions(tx)).includes(name)) return false;
      const [held] = await tx.$queryRaw<{ any: boolean }[]>`
        select exists (select 1 from counted_events_default where occurred_at >= ${from} and occurred_at < ${to}) as any`;
      // Postgres refuses a partition over rows of the default one; that day stays there.
      if (held?.any) return false;
      await tx.$executeRawUnsafe(
        `CREATE TABLE ${name} PARTITION OF counted_events
         FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`,
      );
      return true;
    });
  }

  async function dropIfExpired({ name }: DayPartition, cutoff: Date): Promise<boolean> {
    return locked(async (tx) => {
      if (!(await partitions(tx)).includes(name)) return false;
      const [recent] = await tx.$queryRawUnsafe<{ any: boolean }[]>(
        `SELECT EXISTS (SELECT 1 FROM ${name} WHERE counted_at >= $1) AS any`,
        cutoff,
      );
      if (recent?.any) return false;
      await tx.$executeRawUnsafe(`DROP TABLE ${name}`);
      return true;
    });
  }

  async function run(): Promise<CountedEventsMaintenanceResult> {
    const result: CountedEventsMaintenanceResult = {
      created: [],
      dropped: [],
      kept: [],
      expiredDefaultRows: 0,
    };
    const plan = planCountedPartitions(clock(), await partitions(prisma), {
      retentionDays,
      daysAhead: DAYS_AHEAD,
    });
    for (const partition of plan.create) if (await create(partition)) result.created.push(partition.name);
    for (const partition of plan.expired) {
      if (await dropIfExpired(partition, plan.cutoff)) result.dropped.push(partition.name);
      else result.kept.push(partition.name);
    }
    result.expiredDefaultRows = await locked(
      (tx) => tx.$executeRaw`delete from counted_events_default where counted_at < ${plan.cutoff}`,
    );
    if (result.dropped.length > 0)
      metrics.countedEventsExpired.inc({ what: "partition" }, result.dropped.length);
    if (result.expiredDefaultRows > 0)
      metrics.countedEventsExpired.inc({ what: "default_row" }, result.expiredDefaultRows);
    if (result.created.length + result.dropped.length + result.expiredDefaultRows > 0)
      log.info({ ...result, retentionDays }, "counted_events maintained");
    return result;
  }

  const task = createPeriodicTask({
    name: "counted_events maintenance",
    logger: log,
    intervalMs,
    firstRun: "await",
    run: () =>
      run().then(
        (result) => {
          metrics.maintenanceRuns.inc({ outcome: "ok" });
          return result;
        },
        (error: unknown) => {
          metrics.maintenanceRuns.inc({ outcome: "error" });
          throw error;
        },
      ),
    onError: (err) => {
      // Counting goes on meanwhile: events of a day without a partition land in the default one.
      log.warn({ err }, "counted_events maintenance failed; trying again at the next interval");
      return intervalMs;
    },
  });

  return {
    start: () => task.start(),
    stop: () => task.stop(),
    runOnce: () => task.runNow(),
  };
}
