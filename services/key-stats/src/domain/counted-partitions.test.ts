import { dayPartition, parseDayPartition, planCountedPartitions } from "./counted-partitions";

const NOW = new Date("2026-03-10T15:30:00.000Z");

describe("counted_events' daily partitions", () => {
  it("names a partition after the UTC day and bounds it to that day", () => {
    expect(dayPartition(new Date("2026-03-10T23:59:59.999Z"))).toEqual({
      name: "counted_events_p20260310",
      from: new Date("2026-03-10T00:00:00.000Z"),
      to: new Date("2026-03-11T00:00:00.000Z"),
    });
    expect(parseDayPartition("counted_events_p20260310")).toEqual(dayPartition(NOW));
    for (const other of ["counted_events_default", "counted_events_p20260230", "api_usage_p20260310"])
      expect(parseDayPartition(other)).toBeUndefined();
  });

  it("creates today's and the next days' partitions that are missing, never past days'", () => {
    const plan = planCountedPartitions(NOW, ["counted_events_default", "counted_events_p20260311"], {
      retentionDays: 8,
      daysAhead: 2,
    });
    expect(plan.create.map((p) => p.name)).toEqual(["counted_events_p20260310", "counted_events_p20260312"]);
  });

  it("offers for dropping the partitions whose whole day lies before the retention cutoff, oldest first", () => {
    const plan = planCountedPartitions(
      NOW,
      [
        "counted_events_p20260302",
        "counted_events_p20260301",
        "counted_events_default",
        "counted_events_p20260210",
        "counted_events_p20260303",
      ],
      { retentionDays: 8, daysAhead: 0 },
    );
    expect(plan.cutoff).toEqual(new Date("2026-03-02T15:30:00.000Z"));
    // 2026-03-02 still holds events of the last 8 days.
    expect(plan.expired.map((p) => p.name)).toEqual(["counted_events_p20260210", "counted_events_p20260301"]);
  });
});
