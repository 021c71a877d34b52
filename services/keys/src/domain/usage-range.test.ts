import { emptyUsageBucket } from "@apimon/testkit";
import {
  bucketRange,
  fillBuckets,
  MAX_BUCKETS,
  manyKeysBucketRange,
  secondsToMs,
  summaryRange,
} from "./usage-range";

const now = new Date("2026-03-10T15:42:17.123Z");

describe("usage bucket ranges", () => {
  it("defaults to the 24 hours up to the end of the current hour, in hourly buckets", () => {
    const range = bucketRange({ granularity: "hour" }, now);
    if (!range.ok) throw new Error("expected a range");
    expect(range.value.from.toISOString()).toBe("2026-03-09T16:00:00.000Z");
    expect(range.value.to.toISOString()).toBe("2026-03-10T16:00:00.000Z");
    expect(range.value.starts).toHaveLength(24);
    expect(range.value.starts.at(-1)?.toISOString()).toBe("2026-03-10T15:00:00.000Z");
  });

  it("rounds from down and to up to the granularity, in UTC whatever the offset given", () => {
    const range = bucketRange(
      { from: "2026-03-10T10:30:00+02:00", to: "2026-03-10T08:31:00.5Z", granularity: "minute" },
      now,
    );
    if (!range.ok) throw new Error("expected a range");
    expect(range.value.starts.map((d) => d.toISOString())).toEqual([
      "2026-03-10T08:30:00.000Z",
      "2026-03-10T08:31:00.000Z",
    ]);
    expect(range.value.to.toISOString()).toBe("2026-03-10T08:32:00.000Z");

    const days = bucketRange(
      { from: "2026-03-01T23:59:59Z", to: "2026-03-03T00:00:00Z", granularity: "day" },
      now,
    );
    expect(days.ok && days.value.starts.map((d) => d.toISOString())).toEqual([
      "2026-03-01T00:00:00.000Z",
      "2026-03-02T00:00:00.000Z",
    ]);
  });

  it("refuses an empty or inverted range, and more than 1500 buckets", () => {
    expect(
      bucketRange({ from: "2026-03-10T10:00:00Z", to: "2026-03-10T09:00:00Z", granularity: "hour" }, now),
    ).toEqual({ ok: false, errors: [{ field: "from", message: "must be before to" }] });
    expect(
      bucketRange({ from: "2026-03-10T00:00:00Z", to: "2026-03-11T02:00:00Z", granularity: "minute" }, now),
    ).toEqual({
      ok: false,
      errors: [
        {
          field: "granularity",
          message:
            "the range holds 1560 minute buckets, at most 1500 are allowed: narrow from/to or choose a coarser granularity",
        },
      ],
    });
  });

  it("accepts exactly MAX_BUCKETS buckets and refuses one more", () => {
    const to = "2026-03-10T00:00:00Z";
    const fromFor = (minutes: number) => new Date(Date.parse(to) - minutes * 60_000).toISOString();
    expect(bucketRange({ from: fromFor(MAX_BUCKETS), to, granularity: "minute" }, now).ok).toBe(true);
    const over = bucketRange({ from: fromFor(MAX_BUCKETS + 1), to, granularity: "minute" }, now);
    expect(over.ok).toBe(false);
    expect(!over.ok && over.errors[0]?.message).toMatch(/^the range holds 1501 minute buckets, at most 1500/);
  });
});

describe("summary ranges", () => {
  it("defaults to the last 24 hours, exactly", () => {
    expect(summaryRange({}, now)).toEqual({
      ok: true,
      value: { from: new Date("2026-03-09T15:42:17.123Z"), to: now },
    });
  });

  it("refuses an inverted range and more than 31 days", () => {
    expect(summaryRange({ from: "2026-03-10T00:00:00Z", to: "2026-03-10T00:00:00Z" }, now).ok).toBe(false);
    expect(summaryRange({ from: "2026-01-01T00:00:00Z", to: "2026-03-01T00:00:00Z" }, now)).toEqual({
      ok: false,
      errors: [{ field: "from", message: "the range must not exceed 31 days" }],
    });
  });
});

describe("ranges of buckets over many keys", () => {
  it("are the per-key buckets, up to 31 days after rounding out", () => {
    const to = "2026-03-10T00:00:00Z";
    expect(manyKeysBucketRange({ granularity: "hour" }, now)).toEqual(
      bucketRange({ granularity: "hour" }, now),
    );
    expect(manyKeysBucketRange({ from: "2026-02-07T00:00:00Z", to, granularity: "day" }, now)).toMatchObject({
      ok: true,
      value: { granularity: "day", starts: { length: 31 } },
    });
    // 31 days asked for, 32 once `from` is rounded down to its day.
    expect(manyKeysBucketRange({ from: "2026-02-06T23:00:00Z", to, granularity: "day" }, now)).toEqual({
      ok: false,
      errors: [{ field: "from", message: "the range must not exceed 31 days" }],
    });
    // Too many buckets is said as for one key.
    expect(manyKeysBucketRange({ from: "2026-03-08T00:00:00Z", to, granularity: "minute" }, now)).toEqual(
      bucketRange({ from: "2026-03-08T00:00:00Z", to, granularity: "minute" }, now),
    );
  });
});

describe("filling buckets", () => {
  it("lists every bucket, empty ones with zeros and null percentiles, and converts seconds to ms", () => {
    const starts = [0, 1, 2].map((i) => new Date(Date.UTC(2026, 0, 1, i)));
    const buckets = fillBuckets(starts, [
      {
        start: new Date(Date.UTC(2026, 0, 1, 1)),
        requests: 3,
        errors: 1,
        clientErrors: 1,
        rateLimited: 1,
        p50Seconds: 0.012,
        p95Seconds: 0.0291,
      },
    ]);
    expect(buckets).toEqual([
      emptyUsageBucket("2026-01-01T00:00:00.000Z"),
      {
        start: "2026-01-01T01:00:00.000Z",
        requests: 3,
        errors: 1,
        clientErrors: 1,
        rateLimited: 1,
        p50ResponseTimeMs: 12,
        p95ResponseTimeMs: 29.1,
      },
      emptyUsageBucket("2026-01-01T02:00:00.000Z"),
    ]);
    expect(secondsToMs(0.1 + 0.2)).toBe(300);
  });
});
