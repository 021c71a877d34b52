import { Prisma, type PrismaClient } from "@apimon/db";
import { histogramQuantile, type LatencyHistogram } from "./domain/latency-histogram";
import { type BucketRow, type Granularity, secondsToMs } from "./domain/usage-range";

// The usage queries. Errors are responses with status >= 500; clientErrors those from 400 to
// 499 (429s included).
//
// Buckets by hour or day (of one key, one user's keys or every key) and the summary read the
// hourly tables, which a trigger on api_usage keeps, for the whole hours of their range, and
// api_usage (one row per request; response_time in seconds) only for the parts of an hour at its
// ends; their percentiles come from the tables' latency histograms (see domain/latency-histogram).
// Buckets by minute read api_usage, with exact percentiles: one key's through its
// (api_key_id, created_at) index.

const STEP: Record<Granularity, string> = { minute: "1 minute", hour: "1 hour", day: "1 day" };
const HOUR_MS = 3_600_000;

export interface SummaryFigures {
  requests: number;
  errors: number;
  clientErrors: number;
  topKeys: {
    keyId: number;
    name: string | null;
    requests: number;
    errors: number;
    p95ResponseTimeMs: number | null;
  }[];
  topEndpoints: {
    endpoint: string;
    method: string;
    requests: number;
    errors: number;
    p95ResponseTimeMs: number | null;
  }[];
}

export interface UsageQueries {
  /**
   * Requests per bucket in [from, to), of one key, of one user's keys or of every key; only
   * buckets with requests.
   */
  buckets(of: Whose, range: { from: Date; to: Date; granularity: Granularity }): Promise<BucketRow[]>;
  /** Totals and the busiest keys and endpoints in [from, to), optionally of one user's keys. */
  summary(range: { from: Date; to: Date; userId?: number; limit: number }): Promise<SummaryFigures>;
}

const num = (value: bigint | number | null): number => (value === null ? 0 : Number(value));
const at = (date: Date) => Prisma.sql`${date.toISOString()}::timestamptz`;

/** Whose requests a query counts: one key's, one user's keys' or (neither) every key's. */
export type Whose = { keyId: number } | { userId?: number };

/** The condition on api_usage's (or usage_hourly_keys') rows of `whose`, with its `and`. */
const ownedBy = (whose: Whose) =>
  "keyId" in whose
    ? Prisma.sql`api_key_id = ${whose.keyId} and`
    : whose.userId === undefined
      ? Prisma.empty
      : Prisma.sql`user_id = ${whose.userId} and`;

/**
 * Where the figures of [from, to) are: the hourly tables for its whole hours, api_usage for the
 * rest. `hourly` filters usage_hourly_endpoints (user 0 holds every key's), `keys`
 * usage_hourly_keys, `counts` is the table and filter of the hours' counts and histograms (a key's
 * hours or the endpoints'), `raw` filters api_usage.
 */
function sources(whose: Whose, from: Date, to: Date) {
  let firstHour = Math.ceil(from.getTime() / HOUR_MS) * HOUR_MS;
  let endHour = Math.floor(to.getTime() / HOUR_MS) * HOUR_MS;
  // No whole hour inside: all of it from api_usage.
  if (firstHour >= endHour) firstHour = endHour = to.getTime();
  const hours = Prisma.sql`hour >= ${at(new Date(firstHour))} and hour < ${at(new Date(endHour))}`;
  const owner = ownedBy(whose);
  const hourly = Prisma.sql`user_id = ${"userId" in whose ? (whose.userId ?? 0) : 0} and ${hours}`;
  const keys = Prisma.sql`${owner} ${hours}`;
  return {
    hourly,
    keys,
    counts:
      "keyId" in whose
        ? Prisma.sql`usage_hourly_keys where ${keys}`
        : Prisma.sql`usage_hourly_endpoints where ${hourly}`,
    raw: Prisma.sql`${owner}
      ((created_at >= ${at(from)} and created_at < ${at(new Date(firstHour))})
        or (created_at >= ${at(new Date(endHour))} and created_at < ${at(to)}))`,
  };
}

/** A percentile of a merged histogram, in seconds. */
const quantile = (latency: LatencyHistogram | null, q: number) =>
  latency === null ? null : histogramQuantile(latency, q);

/** A bucket's counts as the queries answer them. */
interface CountsRow {
  start: Date;
  requests: bigint | number;
  errors: bigint | number;
  client_errors: bigint | number;
  rate_limited: bigint | number;
}

const bucketRow = (r: CountsRow, p50Seconds: number | null, p95Seconds: number | null): BucketRow => ({
  start: r.start,
  requests: num(r.requests),
  errors: num(r.errors),
  clientErrors: num(r.client_errors),
  rateLimited: num(r.rate_limited),
  p50Seconds,
  p95Seconds,
});

/** date_bin() of a column to the granularity's UTC-aligned buckets. */
const bin = (granularity: Granularity, column: Prisma.Sql) =>
  Prisma.sql`date_bin(${STEP[granularity]}::interval, ${column}, timestamptz '2000-01-01 00:00:00+00')`;

export function createUsageQueries({ prisma }: { prisma: PrismaClient }): UsageQueries {
  /** Buckets by minute: every request, exact percentiles. */
  async function requestBuckets(
    of: Whose,
    { from, to, granularity }: { from: Date; to: Date; granularity: Granularity },
  ): Promise<BucketRow[]> {
    const rows = await prisma.$queryRaw<(CountsRow & { p50: number | null; p95: number | null })[]>`
      select ${bin(granularity, Prisma.sql`created_at`)} as start,
             count(*) as requests,
             count(*) filter (where status_code >= 500) as errors,
             count(*) filter (where status_code between 400 and 499) as client_errors,
             count(*) filter (where rate_limited) as rate_limited,
             percentile_cont(0.5) within group (order by response_time) as p50,
             percentile_cont(0.95) within group (order by response_time) as p95
      from api_usage
      where ${ownedBy(of)} created_at >= ${at(from)} and created_at < ${at(to)}
      group by 1
      order by 1`;
    return rows.map((r) => bucketRow(r, r.p50, r.p95));
  }

  /** Buckets by hour or day, from the hourly tables. */
  async function hourlyBuckets(
    of: Whose,
    { from, to, granularity }: { from: Date; to: Date; granularity: Granularity },
  ): Promise<BucketRow[]> {
    const where = sources(of, from, to);
    const byHour = bin(granularity, Prisma.sql`hour`);
    const byTime = bin(granularity, Prisma.sql`created_at`);
    const rows = await prisma.$queryRaw<(CountsRow & { latency: LatencyHistogram | null })[]>`
      with counts as (
        select ${byHour} as start, requests, errors, client_errors, rate_limited
        from ${where.counts}
        union all
        select ${byTime}, 1, (status_code >= 500)::int,
               (status_code between 400 and 499)::int, rate_limited::int
        from api_usage where ${where.raw}
      ), latency as (
        select ${byHour} as start, h.bucket, h.n::bigint as n
        from (select hour, latency from ${where.counts}) u, jsonb_each_text(u.latency) as h(bucket, n)
        union all
        select ${byTime}, usage_latency_bucket(response_time)::text, 1
        from api_usage where ${where.raw}
      ), merged as (
        select start, jsonb_object_agg(bucket, n) as latency
        from (select start, bucket, sum(n) as n from latency group by 1, 2) b
        group by start
      )
      select t.start, t.requests, t.errors, t.client_errors, t.rate_limited, merged.latency
      from (select start, sum(requests) as requests, sum(errors) as errors,
                   sum(client_errors) as client_errors, sum(rate_limited) as rate_limited
            from counts group by start) t
      left join merged using (start)
      order by t.start`;
    return rows.map((r) => bucketRow(r, quantile(r.latency, 0.5), quantile(r.latency, 0.95)));
  }

  return {
    buckets(of, range) {
      return range.granularity === "minute" ? requestBuckets(of, range) : hourlyBuckets(of, range);
    },

    async summary({ from, to, userId, limit }) {
      const where = sources({ userId }, from, to);
      const [totals, keys, endpoints] = await Promise.all([
        prisma.$queryRaw<{ requests: bigint | null; errors: bigint | null; client_errors: bigint | null }[]>`
          select sum(requests) as requests, sum(errors) as errors, sum(client_errors) as client_errors
          from (
            select requests, errors, client_errors from usage_hourly_endpoints where ${where.hourly}
            union all
            select 1, (status_code >= 500)::int, (status_code between 400 and 499)::int
            from api_usage where ${where.raw}
          ) c`,
        // Deleted keys keep their history: their name is null.
        prisma.$queryRaw<
          {
            key_id: number;
            name: string | null;
            requests: bigint;
            errors: bigint;
            latency: LatencyHistogram | null;
          }[]
        >`
          with top as (
            select api_key_id, sum(requests) as requests, sum(errors) as errors
            from (
              select api_key_id, requests, errors from usage_hourly_keys where ${where.keys}
              union all
              select api_key_id, 1, (status_code >= 500)::int from api_usage where ${where.raw}
            ) c
            group by api_key_id
            order by requests desc, api_key_id
            limit ${limit}
          ), latency as (
            select u.api_key_id, h.bucket, h.n::bigint as n
            from usage_hourly_keys u join top using (api_key_id),
                 jsonb_each_text(u.latency) as h(bucket, n)
            where ${where.keys}
            union all
            select r.api_key_id, usage_latency_bucket(r.response_time)::text, 1
            from api_usage r join top using (api_key_id)
            where ${where.raw}
          ), merged as (
            select api_key_id, jsonb_object_agg(bucket, n) as latency
            from (select api_key_id, bucket, sum(n) as n from latency group by 1, 2) b
            group by api_key_id
          )
          select top.api_key_id as key_id, k.name, top.requests, top.errors, merged.latency
          from top left join merged using (api_key_id) left join api_keys k on k.id = top.api_key_id
          order by top.requests desc, top.api_key_id`,
        prisma.$queryRaw<
          {
            endpoint: string;
            method: string;
            requests: bigint;
            errors: bigint;
            latency: LatencyHistogram | null;
          }[]
        >`
          with top as (
            select endpoint, method, sum(requests) as requests, sum(errors) as errors
            from (
              select endpoint, method, requests, errors from usage_hourly_endpoints where ${where.hourly}
              union all
              select endpoint, method, 1, (status_code >= 500)::int from api_usage where ${where.raw}
            ) c
            group by endpoint, method
            order by requests desc, endpoint, method
            limit ${limit}
          ), latency as (
            select u.endpoint, u.method, h.bucket, h.n::bigint as n
            from usage_hourly_endpoints u join top using (endpoint, method),
                 jsonb_each_text(u.latency) as h(bucket, n)
            where ${where.hourly}
            union all
            select r.endpoint, r.method, usage_latency_bucket(r.response_time)::text, 1
            from api_usage r join top using (endpoint, method)
            where ${where.raw}
          ), merged as (
            select endpoint, method, jsonb_object_agg(bucket, n) as latency
            from (select endpoint, method, bucket, sum(n) as n from latency group by 1, 2, 3) b
            group by endpoint, method
          )
          select top.endpoint, top.method, top.requests, top.errors, merged.latency
          from top left join merged using (endpoint, method)
          order by top.requests desc, top.endpoint, top.method`,
      ]);
      const total = totals[0];
      return {
        requests: num(total?.requests ?? 0n),
        errors: num(total?.errors ?? 0n),
        clientErrors: num(total?.client_errors ?? 0n),
        topKeys: keys.map((k) => ({
          keyId: k.key_id,
          name: k.name,
          requests: num(k.requests),
          errors: num(k.errors),
          p95ResponseTimeMs: secondsToMs(quantile(k.latency, 0.95)),
        })),
        topEndpoints: endpoints.map((e) => ({
          endpoint: e.endpoint,
          method: e.method,
          requests: num(e.requests),
          errors: num(e.errors),
          p95ResponseTimeMs: secondsToMs(quantile(e.latency, 0.95)),
        })),
      };
    },
  };
}
