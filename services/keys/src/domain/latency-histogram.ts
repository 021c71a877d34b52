// Response-time histograms of the hourly usage tables: percentiles over many requests without
// reading each one. The buckets are those of the database function usage_latency_bucket():
// bucket 0 holds times below 0.1 ms, bucket i ≥ 1 those in [0.1 ms · 2^((i-1)/8), 0.1 ms ·
// 2^(i/8)), each 9.05% wider than the last; the last bucket is open-ended.

/** Buckets per doubling of the response time. */
export const BUCKETS_PER_DOUBLING = 8;
/** Upper end of bucket 0, in seconds. */
export const SMALLEST_BOUND_SECONDS = 0.0001;
/** The highest bucket (open-ended). */
export const LAST_BUCKET = 199;

/** Counts by bucket, as the database stores and merges them: `{"37": 4, …}`. */
export type LatencyHistogram = Record<string, number>;

/** The bucket of a response time in seconds, as usage_latency_bucket() computes it. */
export function latencyBucket(seconds: number): number {
  if (!(seconds >= SMALLEST_BOUND_SECONDS)) return 0;
  const bucket =
    1 + Math.floor((BUCKETS_PER_DOUBLING * Math.log(seconds / SMALLEST_BOUND_SECONDS)) / Math.LN2);
  return Math.min(LAST_BUCKET, bucket);
}

/** The bounds of a bucket in seconds: [lower, upper). */
export function bucketBounds(bucket: number): [number, number] {
  if (bucket <= 0) return [0, SMALLEST_BOUND_SECONDS];
  const lower = SMALLEST_BOUND_SECONDS * 2 ** ((bucket - 1) / BUCKETS_PER_DOUBLING);
  return [lower, lower * 2 ** (1 / BUCKETS_PER_DOUBLING)];
}

/**
 * The q-quantile (0 ≤ q ≤ 1) of the response times a histogram counts, in seconds; null when it
 * counts none. As Postgres' percentile_cont, it interpolates between the sorted times at ranks
 * ⌊q·(n−1)⌋ and ⌈q·(n−1)⌉; each of those is estimated from its bucket, where the bucket's times
 * are taken as spread evenly on a log scale (linearly in bucket 0). An estimate lies in the
 * bucket of the time it stands for, so it is within 9.1% of the exact figure (within 0.1 ms below
 * 0.1 ms); in a bucket of one time, within 4.4%.
 */
export function histogramQuantile(histogram: LatencyHistogram, q: number): number | null {
  const buckets = Object.entries(histogram)
    .map(([bucket, count]) => [Number(bucket), Number(count)] as const)
    .filter(([, count]) => count > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return null;
  /** The estimated time at a whole rank (0-based) of the sorted times. */
  const at = (rank: number): number => {
    let before = 0;
    for (const [bucket, count] of buckets) {
      if (rank < before + count) {
        const position = (rank - before + 0.5) / count;
        const [lower, upper] = bucketBounds(bucket);
        return bucket === 0 ? upper * position : lower * (upper / lower) ** position;
      }
      before += count;
    }
    // Not reached: every rank asked for is below the total.
    return bucketBounds((buckets.at(-1) as readonly [number, number])[0])[1];
  };
  const rank = Math.min(Math.max(q, 0), 1) * (total - 1);
  const below = Math.floor(rank);
  const low = at(below);
  return rank === below ? low : low + (rank - below) * (at(below + 1) - low);
}
