import type { AlertReportView } from "@apimon/client";
import type { AlertsApi } from "../alerts-api";
import { runAlerts } from "./alerts";

const NO_TYPES = {
  response_time: 0,
  error_rate: 0,
  usage_spike: 0,
  unauthorized_access: 0,
  rate_limit_approaching: 0,
};

describe("alerts CLI report", () => {
  it("shows the totals as fields and the keys and days as tables, naming only the types a day had", async () => {
    const report: AlertReportView = {
      from: "2026-12-05T00:00:00.000Z",
      to: "2026-12-07T00:00:00.000Z",
      total: 4,
      byType: { ...NO_TYPES, response_time: 1, unauthorized_access: 3 },
      bySeverity: { warning: 1, critical: 3 },
      byStatus: { firing: 2, acknowledged: 1, resolved: 1 },
      byApiKey: [
        { apiKeyId: null, count: 3 },
        { apiKeyId: 7, count: 1 },
      ],
      byDay: [
        { day: "2026-12-05", count: 0, byType: NO_TYPES, bySeverity: { warning: 0, critical: 0 } },
        {
          day: "2026-12-06",
          count: 4,
          byType: { ...NO_TYPES, response_time: 1, unauthorized_access: 3 },
          bySeverity: { warning: 1, critical: 3 },
        },
      ],
      timeToAcknowledge: { count: 1, meanSeconds: 90, medianSeconds: 90 },
      timeToResolve: { count: 0, meanSeconds: null, medianSeconds: null },
    };
    const api = { alertReport: async () => report } as unknown as AlertsApi;
    const result = await runAlerts(api, ["report"]);
    expect(result.data).toBe(report);
    const text = result.text();
    expect(text).toContain("total                            4\n");
    expect(text).toContain("byType.unauthorized_access       3\n");
    expect(text).toContain("timeToAcknowledge.medianSeconds  90\n");
    expect(text).not.toContain("byDay");
    expect(text).not.toContain("byApiKey");
    expect(text.slice(text.indexOf("by key"))).toBe(
      [
        "by key",
        "KEY  ALERTS",
        "-    3",
        "7    1",
        "",
        "by day",
        "DAY         ALERTS  WARNING  CRITICAL  TYPES",
        "2026-12-05  0       0        0         -",
        "2026-12-06  4       1        3         unauthorized_access 3, response_time 1",
      ].join("\n"),
    );
  });
});
