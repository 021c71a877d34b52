import { countsByKey, fillDays } from "./report";

describe("report helpers", () => {
  it("lists every UTC day the range touches, with zeros for quiet days", () => {
    const from = new Date("2026-11-25T18:00:00.000Z");
    const to = new Date("2026-11-28T00:00:00.000Z");
    expect(fillDays(from, to, new Map([["2026-11-27", 4]]))).toEqual([
      { day: "2026-11-25", count: 0 },
      { day: "2026-11-26", count: 0 },
      { day: "2026-11-27", count: 4 },
    ]);
  });

  it("counts every value of an enumeration, absent ones as 0", () => {
    expect(countsByKey(["warning", "critical"], [{ key: "critical", count: 2 }])).toEqual({
      warning: 0,
      critical: 2,
    });
  });
});
