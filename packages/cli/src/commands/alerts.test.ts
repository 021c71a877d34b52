import type { AlertReportView, AlertView } from "@apimon/client";
import type { AlertsApi } from "../alerts-api";
import { runAlerts } from "./alerts";

const NO_TYPES = {
  response_time: 0,
  error_rate: 0,
  usage_spike: 0,
  unauthorized_access: 0,
  rate_limit_approaching: 0,
};

describe("alerts CLI key names", () => {
  const alert = (id: number, apiKeyId: number | null) =>
    ({
      id,
      type: "response_time",
      severity: "warning",
      status: "firing",
      apiKeyId,
      endpoint: null,
      occurrences: 1,
      lastSeenAt: "2026-12-06T08:00:00.000Z",
      message: "slow",
    }) as AlertView;

  it("names each key of a list once, and keeps the id of a key it has no name for", async () => {
    const asked: (readonly number[])[] = [];
    const api = {
      listAlerts: async () => ({
        items: [alert(1, 7), alert(2, 8), alert(3, 7), alert(4, null)],
        nextCursor: null,
      }),
    } as unknown as AlertsApi;
    const result = await runAlerts(api, ["list"], async (ids) => {
      asked.push(ids);
      return new Map([[7, "billing"]]);
    });
    expect(asked).toEqual([[7, 8]]);
    const keyColumn = result
      .text()
      .split("\n")
      .map((line) => line.split(/ {2,}/)[4]);
    expect(keyColumn).toEqual(["KEY", "billing #7", "8", "billing #7", "-"]);
    // --json is the API's answer, as it was.
    expect(result.data).toMatchObject({
      items: [{ apiKeyId: 7 }, { apiKeyId: 8 }, { apiKeyId: 7 }, { apiKeyId: null }],
    });
  });
});

describe("alerts CLI list", () => {
  it("says which silence holds an alert back beside its status", async () => {
    const rows = [
      { id: 1, type: "error_rate", severity: "critical", status: "firing", apiKeyId: null, silencedBy: 8 },
      { id: 2, type: "error_rate", severity: "critical", status: "firing", apiKeyId: null, silencedBy: null },
    ] as AlertView[];
    const api = { listAlerts: async () => ({ items: rows, nextCursor: null }) } as unknown as AlertsApi;
    const result = await runAlerts(api, ["list"], async () => new Map());
    const statusColumn = result
      .text()
      .split("\n")
      .map((line) => line.split(/ {2,}/)[3]);
    expect(statusColumn).toEqual(["STATUS", "firing, silenced #8", "firing"]);
  });
});

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
      byEndpoint: [
        { endpoint: "GET /api/export", count: 1, responseTime: 1, errorRate: 0, resolvedUnacknowledged: 1 },
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
    const result = await runAlerts(api, ["report"], async () => new Map([[7, "billing"]]));
    expect(result.data).toBe(report);
    const text = result.text();
    expect(text).toContain("total                            4\n");
    expect(text).toContain("byType.unauthorized_access       3\n");
    expect(text).toContain("timeToAcknowledge.medianSeconds  90\n");
    expect(text).not.toContain("byDay");
    expect(text).not.toContain("byApiKey");
    expect(text).not.toContain("byEndpoint");
    expect(text.slice(text.indexOf("by key"))).toBe(
      [
        "by key",
        "KEY         ALERTS",
        "-           3",
        "billing #7  1",
        "",
        "by endpoint",
        "ENDPOINT         ALERTS  RESPONSE TIME  ERROR RATE  RESOLVED UNACKNOWLEDGED",
        "GET /api/export  1       1              0           1",
        "",
        "by day",
        "DAY         ALERTS  WARNING  CRITICAL  TYPES",
        "2026-12-05  0       0        0         -",
        "2026-12-06  4       1        3         unauthorized_access 3, response_time 1",
      ].join("\n"),
    );
  });
});
