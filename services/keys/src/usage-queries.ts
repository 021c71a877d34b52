import { Prisma, type PrismaClient } from "@apimon/db";
import { type BucketRow, type Granularity, secondsToMs } from "./domain/usage-range";

// The usage queries, over api_usage (one row per request; response_time in seconds). Errors are
// responses with status >= 500; clientErrors those from 400 to 499 (429s included). The
// per-key query is a range scan of the (api_key_id, created_at) index; the queries over many keys
// (the buckets of a user's or every key, the summary) read every request of their span (at most
// 31 days), in the time partitions that span touches.

const STEP: Record<Granularity, string> = { minute: "1 minute", hour: "1 hour", day: "1 day" };

export interface SummaryFigures {
  requests: number;
  errors: number;
  clientErrors: number;
  topKeys: { keyId: number; name: string | null; requests: number; errors: number }[];
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
  buckets(
    of: { keyId: number } | { userId?: number },
    range: { from: Date; to: Date; granularity: Granularity },
  ): Promise<BucketRow[]>;
  /** Totals and the busiest keys and endpoints in [from, to), optionally of one user's keys. */
  summary(range: { from: Date; to: Date; userId?: number; limit: number }): Promise<SummaryFigures>;
}

const num = (value: bigint | number | null): number => (value === null ? 0 : Number(value));

export function createUsageQueries({ prisma }: { prisma: PrismaClient }): UsageQueries {
  return {
    async buckets(of, { from, to, granularity }) {
      const whose =
        "keyId" in of
          ? Prisma.sql`api_key_id = ${of.keyId} and`
          : of.userId === undefined
            ? Prisma.empty
            : Prisma.sql`user_id = ${of.userId} and`;
      const rows = await prisma.$queryRaw<
        {
          start: Date;
          requests: bigint;
          errors: bigint;
          client_errors: bigint;
          rate_limited: bigint;
          p50: number | null;
          p95: number | null;
        }[]
      >`
        select date_bin(${STEP[granularity]}::interval, created_at, timestamptz '2000-01-01 00:00:00+00') as start,
               count(*) as requests,
               count(*) filter (where status_code >= 500) as errors,
               count(*) filter (where status_code between 400 and 499) as client_errors,
               count(*) filter (where rate_limited) as rate_limited,
               percentile_cont(0.5) within group (order by response_time) as p50,
               percentile_cont(0.95) within group (order by response_time) as p95
        from api_usage
        where ${whose} created_at >= ${from.toISOString()}::timestamptz
          and created_at < ${to.toISOString()}::timestamptz
        group by 1
        order by 1`;
      return rows.map((r) => ({
        start: r.start,
        requests: num(r.requests),
        errors: num(r.errors),
        clientErrors: num(r.client_errors),
        rateLimited: num(r.rate_limited),
        p50Seconds: r.p50,
        p95Seconds: r.p95,
      }));
    },

    async summary({ from, to, userId, limit }) {
      const where = Prisma.sql`created_at >= ${from.toISOString()}::timestamptz
        and created_at < ${to.toISOString()}::timestamptz
        ${userId === undefined ? Prisma.empty : Prisma.sql`and user_id = ${userId}`}`;
      const [totals, keys, endpoints] = await Promise.all([
        prisma.$queryRaw<{ requests: bigint; errors: bigint; client_errors: bigint }[]>`
          select count(*) as requests,
                 count(*) filter (where status_code >= 500) as errors,
                 count(*) filter (where status_code between 400 and 499) as client_errors
          from api_usage where ${where}`,
        // Deleted keys keep their history: their name is null.
        prisma.$queryRaw<{ key_id: number; name: string | null; requests: bigint; errors: bigint }[]>`
          with top as (
            select api_key_id, count(*) as requests, count(*) filter (where status_code >= 500) as errors
            from api_usage where ${where}
            group by api_key_id
            order by requests desc, api_key_id
            limit ${limit}
          )
          select top.api_key_id as key_id, k.name, top.requests, top.errors
          from top left join api_keys k on k.id = top.api_key_id
          order by top.requests desc, top.api_key_id`,
        prisma.$queryRaw<
          { endpoint: string; method: string; requests: bigint; errors: bigint; p95: number | null }[]
        >`
          select endpoint, method, count(*) as requests,
                 count(*) filter (where status_code >= 500) as errors,
                 percentile_cont(0.95) within group (order by response_time) as p95
          from api_usage where ${where}
          group by endpoint, method
          order by requests desc, endpoint, method
          limit ${limit}`,
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
        })),
        topEndpoints: endpoints.map((e) => ({
          endpoint: e.endpoint,
          method: e.method,
          requests: num(e.requests),
          errors: num(e.errors),
          p95ResponseTimeMs: secondsToMs(e.p95),
        })),
      };
    },
  };
}
