import {
  bucketBounds,
  histogramQuantile,
  LAST_BUCKET,
  type LatencyHistogram,
  latencyBucket,
} from "./latency-histogram";

/** Postgres' percentile_cont over the values. */
function percentileCont(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = q * (sorted.length - 1);
  const below = Math.floor(rank);
  const low = sorted[below] as number;
  return rank === below ? low : low + (rank - below) * ((sorted[below + 1] as number) - low);
}

function histogramOf(values: number[]): LatencyHistogram {
  const histogram: LatencyHistogram = {};
  for (const v of values) {
    const bucket = String(latencyBucket(v));
    histogram[bucket] = (histogram[bucket] ?? 0) + 1;
  }
  return histogram;
}

/** A deterministic stream of numbers in [0, 1). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe("latencyBucket", () => {
  it("puts times below 0.1 ms in bucket 0 and then 8 buckets to each doubling", () => {
    expect([0, 0.00005, 0.0000999].map(latencyBucket)).toEqual([0, 0, 0]);
    expect(latencyBucket(0.0001)).toBe(1);
    expect(latencyBucket(0.0002 * 0.999)).toBe(8);
    expect(latencyBucket(0.0002 * 1.001)).toBe(9);
    // 1 ms: 1 + ⌊8·log2(10)⌋; 250 ms: 1 + ⌊8·log2(2500)⌋.
    expect(latencyBucket(0.001)).toBe(27);
    expect(latencyBucket(0.25)).toBe(91);
    expect(latencyBucket(3600)).toBe(LAST_BUCKET);
    expect(latencyBucket(Number.NaN)).toBe(0);
  });

  it("has bounds that hold the times it puts in each bucket", () => {
    for (const seconds of [0.00005, 0.00013, 0.001, 0.0427, 0.25, 1.5, 30]) {
      const [lower, upper] = bucketBounds(latencyBucket(seconds));
      expect(lower).toBeLessThanOrEqual(seconds);
      expect(upper).toBeGreaterThan(seconds);
    }
    expect(bucketBounds(0)).toEqual([0, 0.0001]);
    const [lower, upper] = bucketBounds(9);
    expect(lower).toBeCloseTo(0.0002, 12);
    expect(upper / lower).toBeCloseTo(2 ** (1 / 8), 12);
  });
});

describe("histogramQuantile", () => {
  it("answers null for an empty histogram", () => {
    expect(histogramQuantile({}, 0.5)).toBeNull();
    expect(histogramQuantile({ "12": 0 }, 0.95)).toBeNull();
  });

  it("estimates a lone time within half a bucket and interpolates between ranks as percentile_cont", () => {
    expect(histogramQuantile(histogramOf([0.25]), 0.5)).toBeCloseTo(0.25, 1);
    const alone = histogramQuantile(histogramOf([0.25]), 0.95) as number;
    expect(Math.abs(alone / 0.25 - 1)).toBeLessThan(0.045);
    // 200, 200 and 300 ms: rank 1.9, so 90% of the way from the second to the third.
    const p95 = histogramQuantile(histogramOf([0.2, 0.2, 0.3]), 0.95) as number;
    expect(Math.abs(p95 / 0.29 - 1)).toBeLessThan(0.091);
    // Buckets in any key order.
    expect(histogramQuantile({ "91": 1, "27": 3 }, 0)).toBe(histogramQuantile({ "27": 3 }, 0));
  });

  it("stays within 9.1% of percentile_cont over any sample", () => {
    const next = random(7);
    for (let run = 0; run < 300; run++) {
      const size = 1 + Math.floor(next() * 400);
      // Log-normal-ish times from about 0.2 ms to several seconds.
      const values = Array.from({ length: size }, () => 0.0002 * Math.exp(next() * next() * 11));
      const histogram = histogramOf(values);
      for (const q of [0, 0.5, 0.95, 0.99, 1]) {
        const exact = percentileCont(values, q);
        const estimate = histogramQuantile(histogram, q) as number;
        expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.0906);
      }
    }
  });

  it("stays within 0.1 ms below 0.1 ms", () => {
    const values = [0.00001, 0.00002, 0.00009];
    expect(Math.abs((histogramQuantile(histogramOf(values), 0.5) as number) - 0.00002)).toBeLessThan(0.0001);
  });
});
