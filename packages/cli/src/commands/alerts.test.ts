import type { AlertDetailView, AlertFilters, AlertReportView, AlertView } from "@apimon/client";
import type { Acknowledged, AlertsApi } from "../alerts-api";
import { UsageError } from "../args";
import { apimonMain } from "../main";
import { table } from "../output";
import { ALERTS_USAGE, DELIVERY_COLUMNS, runAlerts, TIMELINE_COLUMNS } from "./alerts";

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
  it("says which silence, or its group, holds an alert back beside its status", async () => {
    const rows = [
      { id: 1, type: "error_rate", severity: "critical", status: "firing", apiKeyId: null, silencedBy: 8 },
      { id: 2, type: "error_rate", severity: "critical", status: "firing", apiKeyId: null, silencedBy: null },
      {
        id: 3,
        type: "error_rate",
        severity: "warning",
        status: "firing",
        apiKeyId: null,
        silencedBy: null,
        heldUntil: "2026-12-06T12:05:00.000Z",
      },
    ] as AlertView[];
    const api = { listAlerts: async () => ({ items: rows, nextCursor: null }) } as unknown as AlertsApi;
    const result = await runAlerts(api, ["list"], async () => new Map());
    const statusColumn = result
      .text()
      .split("\n")
      .map((line) => line.split(/ {2,}/)[3]);
    expect(statusColumn).toEqual([
      "STATUS",
      "firing, silenced #8",
      "firing",
      "firing, held until 2026-12-06T12:05:00.000Z",
    ]);
  });
});

describe("alerts CLI deliveries", () => {
  it("names the first alert of a message about several and counts the others", () => {
    const delivery = {
      id: 1,
      deliveryId: "d-1",
      channelId: 4,
      attempt: 1,
      status: "succeeded",
      responseCode: 200,
      latencyMs: 12,
      createdAt: "2026-12-06T12:05:00.000Z",
      error: null,
    } as const;
    const text = table(
      [
        { ...delivery, alertId: 5, otherAlertIds: [6, 7] },
        { ...delivery, alertId: 9, otherAlertIds: [] },
      ],
      DELIVERY_COLUMNS,
    );
    expect(text.split("\n").map((line) => line.split(/ {2,}/).at(-1))).toEqual(["MESSAGE", "#5 +2", "-"]);
  });
});

describe("alerts CLI timeline", () => {
  it("says what held an event's notification back: a silence or the alert's group", () => {
    const event = {
      id: 1,
      kind: "opened",
      at: "2026-12-06T12:00:00.000Z",
      severity: "warning",
      observedValue: 2.5,
      by: null,
      note: null,
      channelIds: [] as number[],
    } as const;
    const text = table(
      [
        { ...event, silenceId: 3, heldUntil: null },
        { ...event, silenceId: null, heldUntil: "2026-12-06T12:05:00.000Z" },
        { ...event, channelIds: [1], silenceId: null, heldUntil: null },
      ],
      TIMELINE_COLUMNS,
    );
    expect(text.split("\n").map((line) => line.split(/ {2,}/).at(-1))).toEqual([
      "HELD",
      "by silence #3",
      "for its group until 2026-12-06T12:05:00.000Z",
      "-",
    ]);
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

type Stored = Pick<AlertView, "id" | "type" | "severity" | "status" | "apiKeyId">;

/**
 * A fake alerts API over `alerts` that records what the commands ask of it: lists filtered and
 * paged two at a time, acknowledgements answered as the service answers them.
 */
function acknowledgingApi(alerts: Stored[]) {
  const calls: [string, unknown][] = [];
  const byId = new Map(alerts.map((a) => [a.id, { ...a }]));
  const listAlerts = async (filter: AlertFilters) => {
    calls.push(["listAlerts", filter]);
    const matching = [...byId.values()]
      .filter(
        (a) =>
          (filter.status === undefined ? a.status !== "resolved" : a.status === filter.status) &&
          (filter.type === undefined || a.type === filter.type) &&
          (filter.severity === undefined || a.severity === filter.severity) &&
          (filter.apiKeyId === undefined || a.apiKeyId === filter.apiKeyId),
      )
      .sort((a, b) => b.id - a.id);
    const start = Number(filter.cursor ?? 0);
    const next = start + 2 < matching.length ? String(start + 2) : null;
    return { items: matching.slice(start, start + 2) as AlertView[], nextCursor: next };
  };
  const api = {
    listAlerts,
    iterateAlerts: async function* (filter: AlertFilters) {
      for (let cursor: string | undefined; ; ) {
        const page = await listAlerts({ ...filter, cursor });
        yield* page.items;
        if (page.nextCursor === null) return;
        cursor = page.nextCursor;
      }
    },
    acknowledgeMany: async (body: { ids: number[]; note?: string }): Promise<Acknowledged> => {
      calls.push(["acknowledgeMany", body]);
      const where = (status: string | undefined) => body.ids.filter((id) => byId.get(id)?.status === status);
      const answer = {
        acknowledged: where("firing"),
        alreadyAcknowledged: where("acknowledged"),
        resolved: where("resolved"),
        notFound: where(undefined),
      };
      for (const id of answer.acknowledged) (byId.get(id) as Stored).status = "acknowledged";
      return answer;
    },
    acknowledgeAlert: async (id: number, note?: string) => {
      calls.push(["acknowledgeAlert", [id, note]]);
      (byId.get(id) as Stored).status = "acknowledged";
      return {};
    },
    getAlert: async (id: number) => {
      calls.push(["getAlert", id]);
      return { ...byId.get(id), timeline: [], deliveries: [] } as unknown as AlertDetailView;
    },
  } as unknown as AlertsApi;
  return { calls, run: (argv: string[]) => runAlerts(api, argv) };
}

const stored = (id: number, fields: Partial<Stored> = {}): Stored => ({
  id,
  type: "response_time",
  severity: "warning",
  status: "firing",
  apiKeyId: null,
  ...fields,
});

describe("alerts CLI acknowledgement", () => {
  it("acknowledges one alert by id as before: the alert itself, not a list of ids", async () => {
    const { calls, run } = acknowledgingApi([stored(3)]);
    const result = await run(["ack", "3", "--note", "looking"]);
    expect(calls).toEqual([
      ["acknowledgeAlert", [3, "looking"]],
      ["getAlert", 3],
    ]);
    expect(result.text()).toMatch(/^status +acknowledged$/m);
    expect(result.failed).toBeUndefined();
  });

  it("acknowledges several ids in one request, each once and in order, and says what became of each", async () => {
    const { calls, run } = acknowledgingApi([
      stored(3),
      stored(4),
      stored(5, { status: "acknowledged" }),
      stored(7, { status: "resolved" }),
      stored(9),
    ]);
    const result = await run(["ack", "9", "3", "5", "7", "4", "9", "--note", "upstream slow"]);
    expect(calls).toEqual([["acknowledgeMany", { ids: [3, 4, 5, 7, 9], note: "upstream slow" }]]);
    expect(result.text()).toBe(
      ["acknowledged 3, 4, 9", "already acknowledged 5", "resolved meanwhile 7"].join("\n"),
    );
    // A resolved alert needs no acknowledgement: nothing failed.
    expect(result.failed).toBeUndefined();
    expect(result.data).toEqual({
      acknowledged: [3, 4, 9],
      alreadyAcknowledged: [5],
      resolved: [7],
      notFound: [],
    });
  });

  it("prints only the lists that have ids, and fails the command for ids no alert has", async () => {
    const { calls, run } = acknowledgingApi([stored(3, { status: "acknowledged" })]);
    const one = await run(["ack", "3", "99"]);
    expect(calls).toEqual([["acknowledgeMany", { ids: [3, 99] }]]);
    expect(one.text()).toBe("already acknowledged 3\nnot found 99");
    expect(one.failed).toBe("no alert has the id 99");
    const two = await run(["ack", "98", "99"]);
    expect(two.text()).toBe("not found 98, 99");
    expect(two.failed).toBe("no alerts have the ids 98, 99");
  });

  it("sends more than 500 ids in requests of 500 and merges their answers", async () => {
    // 1 to 1201, given newest first; no alert has the id 600.
    const ids = Array.from({ length: 1201 }, (_, i) => i + 1);
    const { calls, run } = acknowledgingApi(ids.filter((id) => id !== 600).map((id) => stored(id)));
    const result = await run(["ack", ...ids.map(String).reverse()]);
    expect(calls.map(([call, body]) => [call, (body as { ids: number[] }).ids])).toEqual([
      ["acknowledgeMany", ids.slice(0, 500)],
      ["acknowledgeMany", ids.slice(500, 1000)],
      ["acknowledgeMany", ids.slice(1000)],
    ]);
    expect(result.data).toEqual({
      acknowledged: ids.filter((id) => id !== 600),
      alreadyAcknowledged: [],
      resolved: [],
      notFound: [600],
    });
    expect(result.failed).toBe("no alert has the id 600");
  });

  it("acknowledges with --firing every firing alert the filters select, reading every page first", async () => {
    const { calls, run } = acknowledgingApi([
      stored(1, { severity: "critical", apiKeyId: 7 }),
      stored(2, { severity: "critical", apiKeyId: 7, status: "acknowledged" }),
      stored(3, { severity: "critical", apiKeyId: 7 }),
      stored(4, { severity: "critical", apiKeyId: 8 }),
      stored(5, { severity: "critical", apiKeyId: 7, type: "error_rate" }),
      stored(6, { severity: "warning", apiKeyId: 7 }),
      stored(8, { severity: "critical", apiKeyId: 7 }),
      stored(9, { severity: "critical", apiKeyId: 7, status: "resolved" }),
      stored(10, { severity: "critical", apiKeyId: 7 }),
    ]);
    const argv = [
      ...["ack", "--firing", "--type", "response_time", "--severity", "critical", "--api-key", "7"],
      ...["--endpoint", "* /api/*"],
    ];
    const result = await run([...argv, "--note", "one upstream"]);
    const filter = {
      type: "response_time",
      severity: "critical",
      apiKeyId: 7,
      endpoint: "* /api/*",
      status: "firing",
    };
    expect(calls).toEqual([
      ["listAlerts", { ...filter, cursor: undefined }],
      ["listAlerts", { ...filter, cursor: "2" }],
      ["acknowledgeMany", { ids: [1, 3, 8, 10], note: "one upstream" }],
    ]);
    expect(result.text()).toBe("acknowledged 1, 3, 8, 10");
    expect(result.failed).toBeUndefined();

    const again = await run(argv);
    expect(again.text()).toBe("no firing alerts match");
    expect(again.data).toEqual({ acknowledged: [], alreadyAcknowledged: [], resolved: [], notFound: [] });
    expect(calls.slice(3)).toEqual([["listAlerts", { ...filter, cursor: undefined }]]);
  });

  it.each([
    [["ack", "--firing", "3"], "--firing and alert ids do not go together"],
    [["ack", "3", "4", "--firing", "--type", "error_rate"], "--firing and alert ids do not go together"],
    [
      ["ack", "--firing", "--status", "acknowledged"],
      "--status does not go with 'ack' (it takes --firing, --type, --severity, --api-key, --endpoint, --note)",
    ],
    [
      ["ack", "3", "--status", "resolved"],
      "--status does not go with 'ack' (it takes --firing, --type, --severity, --api-key, --endpoint, --note)",
    ],
    [["ack", "--firing", "--severity", "loud"], "--severity must be one of warning, critical (got 'loud')"],
    [["ack", "3", "4", "--type", "error_rate"], "--type selects alerts only with --firing"],
    [["ack", "3", "--api-key", "7"], "--api-key selects alerts only with --firing"],
    [["ack", "3", "--endpoint", "GET /a"], "--endpoint selects alerts only with --firing"],
    [["ack"], "give one or more alert ids, or --firing"],
    [["ack", "--note", "x"], "give one or more alert ids, or --firing"],
    [["ack", "abc"], "the alert id must be a whole number of at least 1 (got 'abc')"],
    [["ack", "3", "abc"], "an alert id must be a whole number of at least 1 (got 'abc')"],
    [["ack", "0", "3"], "an alert id must be a whole number of at least 1 (got '0')"],
  ])("refuses %j without calling the service: %s", async (argv, message) => {
    const { calls, run } = acknowledgingApi([stored(3), stored(4)]);
    await expect(run(argv)).rejects.toThrow(new UsageError(message));
    expect(calls).toEqual([]);
  });

  it.each([
    [
      ["list", "--note", "x"],
      "--note does not go with 'list' (it takes --type, --severity, --status, --api-key, --endpoint, --limit, --cursor, --all)",
    ],
    [
      ["ack", "3", "--limit", "5"],
      "--limit does not go with 'ack' (it takes --firing, --type, --severity, --api-key, --endpoint, --note)",
    ],
    [["show", "3", "--note", "x"], "--note does not go with 'show' (it takes no options)"],
    [["counts", "--from", "2026-12-01T00:00:00Z"], "--from does not go with 'counts' (it takes no options)"],
    [["report", "--api-key", "7"], "--api-key does not go with 'report' (it takes --from, --to)"],
  ])("refuses %j, an option of another command, without calling the service: %s", async (argv, message) => {
    const { calls, run } = acknowledgingApi([stored(3)]);
    await expect(run(argv)).rejects.toThrow(new UsageError(message));
    expect(calls).toEqual([]);
  });

  it("exits with 2 and one line for wrong usage, and lists the ack forms on --help", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    const env = { ADMIN_TOKEN: "admin-token-0123456789", ALERTS_URL: "http://127.0.0.1:9" };
    expect(await apimonMain(["alerts", "ack", "3", "4", "--firing"], env, io)).toBe(2);
    expect(err).toEqual([
      "apimon alerts: --firing and alert ids do not go together (see 'apimon alerts --help')",
    ]);
    expect(await apimonMain(["alerts", "--help"], env, io)).toBe(0);
    expect(out).toEqual([ALERTS_USAGE]);
    expect(ALERTS_USAGE).toContain("ack <alert id> <alert id>… [--note <text>]");
    expect(ALERTS_USAGE).toContain("ack --firing [--type T]");
  });
});
