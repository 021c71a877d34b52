// Time ranges of the usage queries: pure arithmetic, no I/O. Buckets are aligned to UTC
// (Postgres computes the same boundaries with date_bin and an origin of 2000-01-01T00:00Z,
// which is a whole number of days after the Unix epoch).
import type { FieldError } from "@apimon/http";

export const GRANULARITIES = ["minute", "hour", "day"] as const;
export type Granularity = (typeof GRANULARITIES)[number];

export const GRANULARITY_MS: Record<Granularity, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/** Most buckets one usage answer may hold (a day of minutes, two months of hours). */
export const MAX_BUCKETS = 1500;
/** Default span of both usage queries when `from` is left out. */
export const DEFAULT_SPAN_MS = 24 * 3_600_000;
/** Longest span of the usage queries over many keys (the summary's and the buckets'). */
export const MAX_SUMMARY_SPAN_MS = 31 * 86_400_000;

export type RangeResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export interface BucketRange {
  /** The first bucket's start (`from` rounded down to the granularity). */
  from: Date;
  /** The end of the last bucket (`to` rounded up), exclusive. */
  to: Date;
  granularity: Granularity;
  /** Every bucket's start, oldest first. */
  starts: Date[];
}

const floorTo = (ms: number, step: number) => Math.floor(ms / step) * step;
const ceilTo = (ms: number, step: number) => Math.ceil(ms / step) * step;

/**
 * The buckets of a per-key usage query. `to` defaults to now and is rounded up to a bucket
 * boundary, so the current bucket is included; `from` defaults to `to` minus 24 hours and is
 * rounded down. The range must be non-empty and hold at most MAX_BUCKETS buckets.
 */
export function bucketRange(
  query: { from?: string; to?: string; granularity: Granularity },
  now: Date,
): RangeResult<BucketRange> {
  const step = GRANULARITY_MS[query.granularity];
  const toMs = ceilTo(query.to === undefined ? now.getTime() : Date.parse(query.to), step);
  const fromMs = floorTo(query.from === undefined ? toMs - DEFAULT_SPAN_MS : Date.parse(query.from), step);
  if (fromMs >= toMs) return { ok: false, errors: [{ field: "from", message: "must be before to" }] };
  const count = (toMs - fromMs) / step;
  if (count > MAX_BUCKETS) {
    return {
      ok: false,
      errors: [
        {
          field: "granularity",
          message: `the range holds ${count} ${query.granularity} buckets, at most ${MAX_BUCKETS} are allowed: narrow from/to or choose a coarser granularity`,
        },
      ],
    };
  }
  const starts = Array.from({ length: count }, (_, i) => new Date(fromMs + i * step));
  return {
    ok: true,
    value: { from: new Date(fromMs), to: new Date(toMs), granularity: query.granularity, starts },
  };
}

/**
 * The buckets of a usage query over many keys (the whole stack, or one user's): as
 * {@link bucketRange}, and like the summary at most 31 days.
 */
export function manyKeysBucketRange(
  query: { from?: string; to?: string; granularity: Granularity },
  now: Date,
): RangeResult<BucketRange> {
  const range = bucketRange(query, now);
  if (range.ok && range.value.to.getTime() - range.value.from.getTime() > MAX_SUMMARY_SPAN_MS) {
    return { ok: false, errors: [{ field: "from", message: "the range must not exceed 31 days" }] };
  }
  return range;
}

/** The span of the summary: `to` defaults to now, `from` to 24 hours before `to`; at most 31 days. */
export function summaryRange(
  query: { from?: string; to?: string },
  now: Date,
): RangeResult<{ from: Date; to: Date }> {
  const toMs = query.to === undefined ? now.getTime() : Date.parse(query.to);
  const fromMs = query.from === undefined ? toMs - DEFAULT_SPAN_MS : Date.parse(query.from);
  if (fromMs >= toMs) return { ok: false, errors: [{ field: "from", message: "must be before to" }] };
  if (toMs - fromMs > MAX_SUMMARY_SPAN_MS) {
    return { ok: false, errors: [{ field: "from", message: "the range must not exceed 31 days" }] };
  }
  return { ok: true, value: { from: new Date(fromMs), to: new Date(toMs) } };
}

/** One bucket's figures as the database aggregates them (absent for a bucket without requests). */
export interface BucketRow {
  start: Date;
  requests: number;
  errors: number;
  clientErrors: number;
  rateLimited: number;
  /** Seconds, as api_usage stores response times. */
  p50Seconds: number | null;
  p95Seconds: number | null;
}

export interface UsageBucket {
  start: string;
  requests: number;
  errors: number;
  clientErrors: number;
  rateLimited: number;
  p50ResponseTimeMs: number | null;
  p95ResponseTimeMs: number | null;
}

/** Seconds to milliseconds, rounded to the microsecond (binary floating point leaves noise). */
export function secondsToMs(seconds: number | null): number | null {
  return seconds === null ? null : Math.round(seconds * 1_000_000) / 1000;
}

/** Every bucket of the range, the empty ones with zeros and null percentiles. */
export function fillBuckets(starts: Date[], rows: BucketRow[]): UsageBucket[] {
  const byStart = new Map(rows.map((row) => [row.start.getTime(), row]));
  return starts.map((start) => {
    const row = byStart.get(start.getTime());
    return {
      start: start.toISOString(),
      requests: row?.requests ?? 0,
      errors: row?.errors ?? 0,
      clientErrors: row?.clientErrors ?? 0,
      rateLimited: row?.rateLimited ?? 0,
      p50ResponseTimeMs: secondsToMs(row?.p50Seconds ?? null),
      p95ResponseTimeMs: secondsToMs(row?.p95Seconds ?? null),
    };
  });
}
