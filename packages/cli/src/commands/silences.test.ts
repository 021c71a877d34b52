import type { CreateSilenceInput, SilenceView } from "@apimon/client";
import type { AlertsApi } from "../alerts-api";
import { UsageError } from "../args";
import { apimonMain } from "../main";
import { runSilences, SILENCES_USAGE } from "./silences";

const NOW = new Date("2026-12-06T10:00:00.000Z");

const silence = (id: number, fields: Partial<SilenceView> = {}): SilenceView => ({
  id,
  type: null,
  apiKeyId: null,
  endpoint: null,
  clientIp: null,
  comment: "deploy",
  createdBy: null,
  startsAt: "2026-12-06T09:00:00.000Z",
  endsAt: "2026-12-06T11:00:00.000Z",
  state: "active",
  openAlertsMatched: 0,
  createdAt: "2026-12-06T09:00:00.000Z",
  updatedAt: "2026-12-06T09:00:00.000Z",
  ...fields,
});

/** A fake alerts API that records what the commands ask of it. */
function fakeApi() {
  const calls: [string, unknown][] = [];
  const api = {
    listSilences: async (params: unknown) => {
      calls.push(["listSilences", params]);
      return {
        items: [
          silence(4, {
            type: "error_rate",
            apiKeyId: 7,
            endpoint: "GET /api/users/:id",
            openAlertsMatched: 2,
          }),
          silence(3, { endpoint: "* /api/billing/*" }),
          silence(1, { state: "expired", openAlertsMatched: null }),
        ],
        nextCursor: null,
      };
    },
    createSilence: async (input: CreateSilenceInput) => {
      calls.push(["createSilence", input]);
      return silence(5);
    },
    updateSilence: async (id: number, patch: unknown) => {
      calls.push(["updateSilence", [id, patch]]);
      return silence(id, { endsAt: "2026-12-06T12:00:00.000Z" });
    },
    endSilence: async (id: number) => {
      calls.push(["endSilence", id]);
      return silence(id, { state: "expired" });
    },
  } as unknown as AlertsApi;
  const run = (argv: string[]) =>
    runSilences(api, argv, { keyNames: async () => new Map([[7, "billing"]]), clock: () => NOW });
  return { calls, run };
}

describe("silences CLI", () => {
  it("lists silences with 'any' for the matchers left out, keys by name and the open alerts each matches", async () => {
    const { calls, run } = fakeApi();
    const result = await run(["list", "--state", "active"]);
    expect(calls).toEqual([["listSilences", { state: "active", cursor: undefined, limit: undefined }]]);
    const rows = result
      .text()
      .split("\n")
      .map((line) => line.split(/ {2,}/).slice(0, 7));
    expect(rows).toEqual([
      ["ID", "STATE", "TYPE", "KEY", "ENDPOINT", "CLIENT IP", "OPEN ALERTS"],
      ["4", "active", "error_rate", "billing #7", "GET /api/users/:id", "any", "2"],
      ["3", "active", "any", "any", "* /api/billing/*", "any", "0"],
      ["1", "expired", "any", "any", "any", "any", "-"],
    ]);
    expect(result.data).toMatchObject({
      items: [
        { id: 4, apiKeyId: 7 },
        { id: 3, apiKeyId: null },
        { id: 1, apiKeyId: null },
      ],
    });
    await expect(run(["list", "--state", "over"])).rejects.toThrow(
      new UsageError("--state must be one of active, pending, expired (got 'over')"),
    );
  });

  it("adds a silence for a duration from now, with only the matchers given", async () => {
    const { calls, run } = fakeApi();
    await run([
      "add",
      "--type",
      "error_rate",
      "--key",
      "7",
      "--endpoint",
      "GET /api/users/:id",
      "--for",
      "90m",
      "--comment",
      "deploy of billing",
      "--by",
      "ada",
    ]);
    await run([
      "add",
      "--ip",
      "203.0.113.7",
      "--until",
      "2026-12-08T18:00:00+01:00",
      "--comment",
      "pen test",
    ]);
    expect(calls).toEqual([
      [
        "createSilence",
        {
          type: "error_rate",
          apiKeyId: 7,
          endpoint: "GET /api/users/:id",
          endsAt: "2026-12-06T11:30:00.000Z",
          comment: "deploy of billing",
          createdBy: "ada",
        },
      ],
      ["createSilence", { clientIp: "203.0.113.7", endsAt: "2026-12-08T17:00:00.000Z", comment: "pen test" }],
    ]);
  });

  it.each([
    [["add", "--comment", "x"], "--for or --until is required"],
    [
      ["add", "--for", "1h", "--until", "2026-12-07T00:00:00Z", "--comment", "x"],
      "--for and --until do not go together",
    ],
    [["add", "--for", "1w", "--comment", "x"], "--for must be a whole number of minutes, hours or days"],
    [["add", "--until", "tomorrow", "--comment", "x"], "--until must be an ISO time"],
    [["add", "--for", "1h"], "--comment is required"],
    [
      ["add", "--key", "billing", "--for", "1h", "--comment", "x"],
      "--key must be a whole number of at least 1",
    ],
    [["end"], "the silence id is required"],
    [["update", "3"], "give --for, --until or --comment"],
    [["update", "--for", "1h"], "the silence id is required"],
    [["mute"], "unknown silences command 'mute'"],
    [["end", "3", "--comment", "done"], "--comment does not go with 'end' (it takes no options)"],
    [
      ["update", "3", "--for", "1h", "--key", "7"],
      "--key does not go with 'update' (it takes --for, --until, --comment)",
    ],
    [["list", "--for", "1h"], "--for does not go with 'list' (it takes --state, --limit, --cursor, --all)"],
    [
      ["add", "--for", "1h", "--comment", "x", "--state", "active"],
      "--state does not go with 'add' (it takes --type, --key, --endpoint, --ip, --for, --until, --comment, --by)",
    ],
  ])("refuses %j without calling the service: %s", async (argv, message) => {
    const { calls, run } = fakeApi();
    await expect(run(argv)).rejects.toThrow(UsageError);
    await expect(run(argv)).rejects.toThrow(message);
    expect(calls).toEqual([]);
  });

  it("gives a silence a new end from now, or a new comment", async () => {
    const { calls, run } = fakeApi();
    const result = await run(["update", "3", "--for", "2h"]);
    await run(["update", "3", "--until", "2026-12-06T11:15:00Z", "--comment", "nearly done"]);
    expect(calls).toEqual([
      ["updateSilence", [3, { endsAt: "2026-12-06T12:00:00.000Z" }]],
      ["updateSilence", [3, { endsAt: "2026-12-06T11:15:00.000Z", comment: "nearly done" }]],
    ]);
    expect(result.text()).toMatch(/^endsAt +2026-12-06T12:00:00.000Z$/m);
  });

  it("ends a silence now and shows it as the service answers", async () => {
    const { calls, run } = fakeApi();
    const result = await run(["end", "3"]);
    expect(calls).toEqual([["endSilence", 3]]);
    expect(result.data).toMatchObject({ id: 3, state: "expired" });
    expect(result.text()).toMatch(/^state +expired$/m);
  });

  it("exits with 2 and one line for wrong usage, and lists the group's commands on --help", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    const env = { ADMIN_TOKEN: "admin-token-0123456789", ALERTS_URL: "http://127.0.0.1:9" };
    expect(await apimonMain(["silences", "add", "--for", "2w", "--comment", "x"], env, io)).toBe(2);
    expect(err).toEqual([
      "apimon silences: --for must be a whole number of minutes, hours or days, e.g. 30m, 2h or 3d (got '2w') (see 'apimon silences --help')",
    ]);
    expect(await apimonMain(["silences", "--help"], env, io)).toBe(0);
    expect(out).toEqual([SILENCES_USAGE]);
  });
});
