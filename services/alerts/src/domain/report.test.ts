import { countsByKey, fillDays } from "./report";

describe("report helpers", () => {
  it("lists every UTC day the range touches, by type and severity, with zeros for quiet days", () => {
    const from = new Date("2026-11-25T18:00:00.000Z");
    const to = new Date("2026-11-28T00:00:00.000Z");
    const rows = [
      { day: "2026-11-27", type: "error_rate", severity: "critical", count: 3 },
      { day: "2026-11-27", type: "response_time", severity: "critical", count: 1 },
      { day: "2026-11-24", type: "error_rate", severity: "warning", count: 9 },
    ];
    const quiet = (day: string) => ({
      day,
      count: 0,
      byType: { error_rate: 0, response_time: 0 },
      bySeverity: { warning: 0, critical: 0 },
    });
    expect(fillDays(from, to, rows, ["error_rate", "response_time"], ["warning", "critical"])).toEqual([
      quiet("2026-11-25"),
      quiet("2026-11-26"),
      {
        day: "2026-11-27",
        count: 4,
        byType: { error_rate: 3, response_time: 1 },
        bySeverity: { warning: 0, critical: 4 },
      },
    ]);
  });

  it("counts every value of an enumeration, absent ones as 0", () => {
    expect(countsByKey(["warning", "critical"], [{ key: "critical", count: 2 }])).toEqual({
      warning: 0,
      critical: 2,
    });
  });
});
