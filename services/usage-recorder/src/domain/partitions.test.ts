import {
  addDays,
  dailyPartition,
  parsePartitionName,
  partitionName,
  planPartitions,
  utcDay,
} from "./partitions";

const at = (iso: string) => new Date(iso);

describe("daily partition naming and ranges", () => {
  it("names a partition after the UTC day of an instant", () => {
    expect(partitionName(at("2026-11-27T00:00:00.000Z"))).toBe("api_usage_p20261127");
    expect(partitionName(at("2026-11-27T23:59:59.999Z"))).toBe("api_usage_p20261127");
    // 23:30 in New York on the 27th is already the 28th in UTC.
    expect(partitionName(at("2026-11-27T23:30:00-05:00"))).toBe("api_usage_p20261128");
  });

  it("covers [midnight, next midnight) in UTC", () => {
    expect(dailyPartition(at("2026-12-31T18:00:00Z"))).toEqual({
      name: "api_usage_p20261231",
      day: at("2026-12-31T00:00:00.000Z"),
      from: at("2026-12-31T00:00:00.000Z"),
      to: at("2027-01-01T00:00:00.000Z"),
    });
    expect(utcDay(at("2024-02-29T12:34:56Z"))).toEqual(at("2024-02-29T00:00:00Z"));
    expect(addDays(at("2024-02-28T00:00:00Z"), 2)).toEqual(at("2024-03-01T00:00:00Z"));
  });

  it("reads its own names back and ignores other tables and impossible dates", () => {
    expect(parsePartitionName("api_usage_p20261127")).toEqual(at("2026-11-27T00:00:00Z"));
    expect(parsePartitionName("api_usage_default")).toBeUndefined();
    expect(parsePartitionName("api_usage_p2026112")).toBeUndefined();
    expect(parsePartitionName("api_usage_p20260230")).toBeUndefined();
    expect(parsePartitionName("api_usage_p20261127_old")).toBeUndefined();
  });
});

describe("partition maintenance plan", () => {
  const now = at("2026-11-27T10:00:00Z");

  it("creates yesterday's, today's and the days ahead that are missing, oldest first", () => {
    const plan = planPartitions(now, ["api_usage_default", "api_usage_p20261127"], {
      daysAhead: 3,
      retentionDays: 30,
    });
    expect(plan.create.map((p) => p.name)).toEqual([
      "api_usage_p20261126",
      "api_usage_p20261128",
      "api_usage_p20261129",
      "api_usage_p20261130",
    ]);
    expect(plan.drop).toEqual([]);
  });

  it("does nothing when everything exists", () => {
    const existing = ["api_usage_p20261126", "api_usage_p20261127", "api_usage_p20261128"];
    expect(planPartitions(now, existing, { daysAhead: 1, retentionDays: 30 }).create).toEqual([]);
  });

  it("drops partitions of days before the retention cutoff and keeps the cutoff day", () => {
    const plan = planPartitions(
      now,
      [
        "api_usage_p20261027",
        "api_usage_p20261028",
        "api_usage_p20251201",
        "api_usage_default",
        "api_usage_pX",
      ],
      { daysAhead: 0, retentionDays: 30 },
    );
    expect(plan.cutoff).toEqual(at("2026-10-28T00:00:00Z"));
    expect(plan.drop).toEqual(["api_usage_p20251201", "api_usage_p20261027"]);
  });

  it("never drops yesterday's partition, even with one day of retention", () => {
    const plan = planPartitions(now, ["api_usage_p20261125", "api_usage_p20261126"], {
      daysAhead: 0,
      retentionDays: 1,
    });
    expect(plan.drop).toEqual(["api_usage_p20261125"]);
    expect(plan.create.map((p) => p.name)).toEqual(["api_usage_p20261127"]);
  });
});
