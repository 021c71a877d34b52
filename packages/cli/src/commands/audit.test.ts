import type { AuditEventView, AuditFilters } from "@apimon/client";
import type { AlertsApi } from "../alerts-api";
import { UsageError } from "../args";
import { apimonMain } from "../main";
import { AUDIT_USAGE, runAudit } from "./audit";

const NOW = new Date("2026-12-06T10:00:00.000Z");

const event = (id: number, fields: Partial<AuditEventView> = {}): AuditEventView => ({
  id,
  occurredAt: "2026-12-06T09:30:00.000Z",
  action: "key.deactivated",
  targetType: "key",
  targetId: 42,
  summary: "Key billing deactivated",
  changes: { isActive: { from: true, to: false } },
  source: "console",
  clientAddress: "198.51.100.7",
  userAgent: "Mozilla/5.0",
  requestId: "req-1",
  operator: null,
  ...fields,
});

/** A fake alerts API whose audit log has two pages; it records what each call asks for. */
function fakeApi() {
  const calls: AuditFilters[] = [];
  const api: Pick<AlertsApi, "listAudit"> = {
    listAudit: async (filter: AuditFilters = {}) => {
      calls.push(filter);
      return filter.cursor === "41"
        ? {
            items: [
              event(40, {
                action: "settings.updated",
                targetType: "settings",
                targetId: null,
                summary: "Alert settings saved",
                changes: null,
                source: "api",
                clientAddress: null,
              }),
            ],
            nextCursor: null,
          }
        : {
            items: [
              event(42),
              event(41, {
                action: "silence.created",
                targetType: "silence",
                targetId: 5,
                summary: "Silence #5 created: deploy of billing",
                source: "cli",
                clientAddress: "2001:db8::7",
                operator: { id: 3, name: "alice" },
              }),
            ],
            nextCursor: "41",
          };
    },
  };
  const run = (argv: string[]) => runAudit(api, argv, { clock: () => NOW });
  return { calls, run };
}

const rows = (text: string) => text.split("\n").map((line) => line.split(/ {2,}/));

describe("audit CLI", () => {
  it("lists the changes newest first: when, action, target, by whom, source, address and summary, and how to go on", async () => {
    const { calls, run } = fakeApi();
    const result = await run([]);
    expect(calls).toEqual([
      { action: undefined, source: undefined, from: undefined, limit: undefined, cursor: undefined },
    ]);
    expect(rows(result.text())).toEqual([
      ["WHEN", "ACTION", "TARGET", "BY", "SOURCE", "ADDRESS", "SUMMARY"],
      [
        "2026-12-06T09:30:00.000Z",
        "key.deactivated",
        "key:42",
        "admin token",
        "console",
        "198.51.100.7",
        "Key billing deactivated",
      ],
      [
        "2026-12-06T09:30:00.000Z",
        "silence.created",
        "silence:5",
        "alice #3",
        "cli",
        "2001:db8::7",
        "Silence #5 created: deploy of billing",
      ],
      ["(more: --cursor 41)"],
    ]);
    expect(result.data).toMatchObject({
      items: [
        { id: 42, changes: { isActive: { from: true, to: false } }, operator: null },
        { id: 41, operator: { id: 3, name: "alice" } },
      ],
      nextCursor: "41",
    });
  });

  it("asks for one alert's acknowledgements", async () => {
    const { calls, run } = fakeApi();
    await run(["--target", "alert:17", "--action", "alert.acknowledged"]);
    expect(calls).toEqual([
      {
        targetType: "alert",
        targetId: 17,
        action: "alert.acknowledged",
        source: undefined,
        from: undefined,
        limit: undefined,
        cursor: undefined,
      },
    ]);
  });

  it("asks for the changes of one operator's token, and for those done to an operator", async () => {
    const { calls, run } = fakeApi();
    await run(["--operator", "3"]);
    await run(["--target", "operator:3", "--action", "operator.revoked"]);
    await run(["--target", "operator"]);
    expect(calls).toEqual([
      {
        operatorId: 3,
        action: undefined,
        source: undefined,
        from: undefined,
        limit: undefined,
        cursor: undefined,
      },
      {
        targetType: "operator",
        targetId: 3,
        action: "operator.revoked",
        source: undefined,
        from: undefined,
        limit: undefined,
        cursor: undefined,
      },
      {
        targetType: "operator",
        action: undefined,
        source: undefined,
        from: undefined,
        limit: undefined,
        cursor: undefined,
      },
    ]);
  });

  it("asks for one target, an action, a source and a start, and reads every page with --all", async () => {
    const { calls, run } = fakeApi();
    await run([
      "--target",
      "key:42",
      "--action",
      "key.deactivated",
      "--source",
      "console",
      "--since",
      "2h",
      "--limit",
      "10",
    ]);
    await run(["--target", "channel", "--since", "2026-12-01T00:00:00+01:00", "--cursor", "41"]);
    const all = await run(["--target", "settings", "--all"]);
    expect(calls).toEqual([
      {
        targetType: "key",
        targetId: 42,
        action: "key.deactivated",
        source: "console",
        from: "2026-12-06T08:00:00.000Z",
        limit: 10,
        cursor: undefined,
      },
      {
        targetType: "channel",
        action: undefined,
        source: undefined,
        from: "2026-11-30T23:00:00.000Z",
        limit: undefined,
        cursor: "41",
      },
      {
        targetType: "settings",
        action: undefined,
        source: undefined,
        from: undefined,
        limit: undefined,
        cursor: undefined,
      },
      {
        targetType: "settings",
        action: undefined,
        source: undefined,
        from: undefined,
        limit: undefined,
        cursor: "41",
      },
    ]);
    expect(rows(all.text()).map((row) => [row[2], row[3]])).toEqual([
      ["TARGET", "BY"],
      ["key:42", "admin token"],
      ["silence:5", "alice #3"],
      ["settings", "admin token"],
    ]);
  });

  it.each([
    [
      ["--target", "keys:42"],
      "--target must be user:<id>, key:<id>, settings, channel:<id>, silence:<id>, operator:<id>, alert:<id>, or a kind alone (got 'keys:42')",
    ],
    [["--target", "settings:1"], "--target must be"],
    [["--target", "key:abc"], "--target must be"],
    [["--operator", "alice"], "--operator must be a whole number of at least 1 (got 'alice')"],
    [["--operator", "0"], "--operator must be a whole number of at least 1 (got '0')"],
    [["--operator"], "--operator needs a value"],
    [["--source", "browser"], "--source must be one of console, cli, api (got 'browser')"],
    [
      ["--since", "yesterday"],
      "--since must be an ISO time or a length of time, e.g. 2h or 7d (got 'yesterday')",
    ],
    [["--since", "0h"], "--since must be a whole number of minutes, hours or days"],
    [["--limit", "0"], "--limit must be a whole number of at least 1"],
    [["--all", "--cursor", "41"], "--all and --cursor do not go together"],
    [["list"], "unexpected argument 'list'"],
  ])("refuses %j without calling the service: %s", async (argv, message) => {
    const { calls, run } = fakeApi();
    await expect(run(argv)).rejects.toThrow(UsageError);
    await expect(run(argv)).rejects.toThrow(message);
    expect(calls).toEqual([]);
  });
});

describe("the CLI's calls to the APIs", () => {
  const env = {
    ADMIN_TOKEN: "admin-token-0123456789",
    ALERTS_URL: "http://alerts.test",
    KEYS_URL: "http://keys.test",
  };
  afterEach(() => jest.restoreAllMocks());

  it("say they are the CLI's, so that the audit log records the CLI as the source of a change", async () => {
    const sent: { url: string; source: string | null; auth: string | null }[] = [];
    jest.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const headers = new Headers(init?.headers);
      sent.push({
        url: String(input),
        source: headers.get("x-apimon-source"),
        auth: headers.get("authorization"),
      });
      const body = String(input).includes("/api/v1/audit")
        ? { items: [event(42)], nextCursor: null }
        : { id: 9 };
      return new Response(JSON.stringify(body), {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    });
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    expect(await apimonMain(["audit", "--target", "key:42", "--json"], env, io)).toBe(0);
    expect(await apimonMain(["keys", "deactivate", "9"], env, io)).toBe(0);
    expect(sent).toEqual([
      {
        url: "http://alerts.test/api/v1/audit?targetType=key&targetId=42",
        source: "cli",
        auth: "Bearer admin-token-0123456789",
      },
      { url: "http://keys.test/api/v1/keys/9", source: "cli", auth: "Bearer admin-token-0123456789" },
    ]);
    expect(JSON.parse(out[0] as string)).toEqual({ items: [event(42)], nextCursor: null });
  });

  it("send the operator filter, and print each change's operator as the API gives it with --json", async () => {
    const urls: string[] = [];
    const changes = [event(42, { targetType: "operator", targetId: 3, operator: { id: 3, name: "alice" } })];
    jest.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      urls.push(String(input));
      return new Response(JSON.stringify({ items: changes, nextCursor: null }), { status: 200 });
    });
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    expect(await apimonMain(["audit", "--target", "operator:3", "--operator", "3", "--json"], env, io)).toBe(
      0,
    );
    expect(urls).toEqual(["http://alerts.test/api/v1/audit?targetType=operator&targetId=3&operatorId=3"]);
    expect(JSON.parse(out[0] as string)).toEqual({ items: changes, nextCursor: null });
  });

  it("lists the audit command's options on --help and in the CLI's usage", async () => {
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    expect(await apimonMain(["audit", "--help"], env, io)).toBe(0);
    expect(await apimonMain(["--help"], env, io)).toBe(0);
    expect(out[0]).toBe(AUDIT_USAGE);
    expect(out[1]).toContain(AUDIT_USAGE);
  });
});
