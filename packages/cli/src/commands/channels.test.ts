import type { ChannelView, CreateChannelInput } from "@apimon/client";
import type { AlertsApi } from "../alerts-api";
import { UsageError } from "../args";
import { apimonMain } from "../main";
import { CHANNELS_USAGE, runChannels } from "./channels";

const channel = (id: number, fields: Partial<ChannelView> = {}): ChannelView => ({
  id,
  name: `channel ${id}`,
  type: "email",
  target: "ops@example.com",
  hasSecret: false,
  minSeverity: "warning",
  alertTypes: [],
  endpoints: [],
  userIds: [],
  enabled: true,
  createdAt: "2026-12-06T09:00:00.000Z",
  updatedAt: "2026-12-06T09:00:00.000Z",
  ...fields,
});

/** A fake alerts API that records what the commands ask of it. */
function fakeApi() {
  const calls: [string, unknown][] = [];
  const api = {
    listChannels: async (params: unknown) => {
      calls.push(["listChannels", params]);
      return {
        items: [
          channel(1),
          channel(2, { alertTypes: ["error_rate"], endpoints: ["* /api/billing/*"] }),
          channel(3, { userIds: [3, 7] }),
          channel(4, { alertTypes: ["usage_spike"], userIds: [3] }),
        ],
        nextCursor: null,
      };
    },
    createChannel: async (input: CreateChannelInput) => {
      calls.push(["createChannel", input]);
      return channel(5, input);
    },
    updateChannel: async (id: number, patch: Partial<ChannelView>) => {
      calls.push(["updateChannel", [id, patch]]);
      return channel(id, patch);
    },
    testChannel: async (id: number) => {
      calls.push(["testChannel", id]);
      const attempt = (n: number, status: string) => ({
        id: n,
        deliveryId: `d${n}`,
        alertId: null,
        otherAlertIds: [],
        channelId: id,
        attempt: n,
        status,
        responseCode: null,
        error: "connect ECONNREFUSED 127.0.0.1:9",
        latencyMs: 3,
        createdAt: "2026-12-06T09:00:00.000Z",
      });
      return { ...attempt(2, "failed"), attempts: [attempt(1, "retrying"), attempt(2, "failed")] };
    },
  } as unknown as AlertsApi;
  return { calls, run: (argv: string[]) => runChannels(api, argv) };
}

describe("channels CLI", () => {
  it("lists what each channel is for: its types and endpoints, then its users", async () => {
    const { run } = fakeApi();
    const rows = (await run(["list"]))
      .text()
      .split("\n")
      .map((line) => line.split(/ {2,}/)[5]);
    expect(rows).toEqual([
      "FOR",
      "any",
      "error_rate · * /api/billing/*",
      "users 3, 7",
      "usage_spike · any endpoint · users 3",
    ]);
  });

  it("creates a channel for some users' keys, each id once", async () => {
    const { calls, run } = fakeApi();
    const created = await run([
      "create",
      "--type",
      "email",
      "--target",
      "acme@example.com",
      "--name",
      "acme",
      "--user",
      "3",
      "--user",
      "7",
      "--user",
      "3",
    ]);
    expect(calls).toEqual([
      [
        "createChannel",
        {
          type: "email",
          target: "acme@example.com",
          name: "acme",
          alertTypes: [],
          endpoints: [],
          userIds: [3, 7],
        },
      ],
    ]);
    expect(created.text()).toMatch(/^userIds +\[3,7\]$/m);
  });

  it("replaces the whole scope: types, endpoints and users, none given being every alert", async () => {
    const { calls, run } = fakeApi();
    await run(["scope", "4", "--alert-type", "error_rate", "--endpoint", "GET /x", "--user", "12"]);
    await run(["scope", "4"]);
    expect(calls).toEqual([
      ["updateChannel", [4, { alertTypes: ["error_rate"], endpoints: ["GET /x"], userIds: [12] }]],
      ["updateChannel", [4, { alertTypes: [], endpoints: [], userIds: [] }]],
    ]);
  });

  it.each([
    [["scope", "4", "--user", "acme"], "--user must be a whole number of at least 1 (got 'acme')"],
    [["scope", "4", "--user", "0"], "--user must be a whole number of at least 1 (got '0')"],
    [["scope", "4", "--user"], "--user needs a value"],
    [["scope", "--user", "3"], "the channel id is required"],
    [
      ["scope", "4", "--name", "acme"],
      "--name does not go with 'scope' (it takes --alert-type, --endpoint, --user)",
    ],
    [["list", "--user", "3"], "--user does not go with 'list' (it takes --limit, --cursor, --all)"],
    [["test", "4", "--type", "email"], "--type does not go with 'test' (it takes no options)"],
    [
      ["enable", "4", "--min-severity", "critical"],
      "--min-severity does not go with 'enable' (it takes no options)",
    ],
    [
      ["create", "--type", "email", "--target", "a@example.com", "--name", "a", "--limit", "5"],
      "--limit does not go with 'create' (it takes --type, --target, --name, --secret, --min-severity, --alert-type, --endpoint, --user)",
    ],
  ])("refuses %j without calling the service: %s", async (argv, message) => {
    const { calls, run } = fakeApi();
    await expect(run(argv)).rejects.toThrow(UsageError);
    await expect(run(argv)).rejects.toThrow(message);
    expect(calls).toEqual([]);
  });

  it("fails a test whose message was not delivered, so that a script can tell", async () => {
    const { run } = fakeApi();
    const result = await run(["test", "36"]);
    expect(result.failed).toBe("the test message was not delivered: connect ECONNREFUSED 127.0.0.1:9");
    expect(result.text()).toContain("attempts");
  });

  it("refuses a second id rather than acting on the first alone", async () => {
    const { calls, run } = fakeApi();
    await expect(run(["delete", "4", "5"])).rejects.toThrow(
      "unexpected argument '5': one channel id at a time",
    );
    expect(calls).toEqual([]);
  });

  it("says in its help how a channel is made for some users", async () => {
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: () => undefined };
    expect(await apimonMain(["channels", "--help"], {}, io)).toBe(0);
    expect(out).toEqual([CHANNELS_USAGE]);
    expect(CHANNELS_USAGE).toContain(
      "scope <channel id> [--alert-type T]… [--endpoint E]… [--user <user id>]…",
    );
  });
});
