import { createKeysClient, type KeysClient } from "@apimon/client";
import { UsageError } from "../args";
import { apimonMain } from "../main";
import { runKeys } from "./keys";

/** What a command answers, as `--json` prints it. */
const runKeysCommand = async (client: KeysClient, argv: string[]) => (await runKeys(client, argv)).data;

/** A fake keys API that records requests; the real one is exercised in the keys e2e test. */
function recordingClient() {
  const requests: { method: string; url: string; body?: unknown; auth?: string | null }[] = [];
  const client = createKeysClient({
    baseUrl: "http://keys.test",
    adminToken: "admin-token-0123456789",
    fetch: async (input, init) => {
      const headers = new Headers(init?.headers);
      requests.push({
        method: init?.method ?? "GET",
        url: String(input),
        body: init?.body ? JSON.parse(String(init.body)) : undefined,
        auth: headers.get("authorization"),
      });
      if (String(input).endsWith("/api/v1/keys/404")) {
        return new Response(JSON.stringify({ detail: "API key not found" }), { status: 404 });
      }
      return new Response(init?.method === "DELETE" ? null : JSON.stringify({ ok: true }), {
        status: init?.method === "DELETE" ? 204 : 200,
      });
    },
  });
  return { client, requests };
}

describe("keys CLI", () => {
  it("creates a key with limits for a user", async () => {
    const { client, requests } = recordingClient();
    await runKeysCommand(client, [
      "create",
      "--user",
      "7",
      "--name",
      "billing",
      "--minute",
      "50",
      "--day",
      "900",
    ]);
    expect(requests).toEqual([
      {
        method: "POST",
        url: "http://keys.test/api/v1/keys",
        body: { userId: 7, name: "billing", rateLimits: { minute: 50, hour: undefined, day: 900 } },
        auth: "Bearer admin-token-0123456789",
      },
    ]);
  });

  it("lists, rotates with a grace period, deactivates and deletes", async () => {
    const { client, requests } = recordingClient();
    await runKeysCommand(client, ["list", "--user", "3", "--active", "true"]);
    await runKeysCommand(client, ["rotate", "12", "--grace", "600"]);
    await runKeysCommand(client, ["deactivate", "12"]);
    expect(await runKeysCommand(client, ["delete", "12"])).toEqual({ deleted: 12 });
    expect(requests.map((r) => [r.method, r.url, r.body])).toEqual([
      ["GET", "http://keys.test/api/v1/keys?userId=3&active=true", undefined],
      ["POST", "http://keys.test/api/v1/keys/12/rotate", { gracePeriodSeconds: 600 }],
      ["PATCH", "http://keys.test/api/v1/keys/12", { isActive: false }],
      ["DELETE", "http://keys.test/api/v1/keys/12", undefined],
    ]);
  });

  it("searches keys and users", async () => {
    const { client, requests } = recordingClient();
    await runKeysCommand(client, ["list", "--search", "ak_Xy12"]);
    await runKeysCommand(client, ["users", "--search", "ann@"]);
    expect(requests.map((r) => r.url)).toEqual([
      "http://keys.test/api/v1/keys?search=ak_Xy12",
      "http://keys.test/api/v1/users?search=ann%40",
    ]);
  });

  it("sets and clears a key's expiry", async () => {
    const { client, requests } = recordingClient();
    await runKeysCommand(client, ["expire", "12", "--at", "2030-01-01T00:00:00Z"]);
    await runKeysCommand(client, ["expire", "12", "--at", "never"]);
    expect(requests.map((r) => [r.method, r.url, r.body])).toEqual([
      ["PATCH", "http://keys.test/api/v1/keys/12", { expiresAt: "2030-01-01T00:00:00Z" }],
      ["PATCH", "http://keys.test/api/v1/keys/12", { expiresAt: null }],
    ]);
    await expect(runKeysCommand(client, ["expire", "12"])).rejects.toThrow(
      new UsageError("--at is required"),
    );
  });

  it("changes a user's email or name, and deletes a user", async () => {
    const { client, requests } = recordingClient();
    await runKeysCommand(client, ["update-user", "4", "--email", "new@example.com"]);
    await runKeysCommand(client, ["update-user", "4", "--name", "New name", "--email", "n@example.com"]);
    expect(await runKeysCommand(client, ["delete-user", "4"])).toEqual({ deleted: 4 });
    expect(requests.map((r) => [r.method, r.url, r.body])).toEqual([
      ["PATCH", "http://keys.test/api/v1/users/4", { email: "new@example.com" }],
      ["PATCH", "http://keys.test/api/v1/users/4", { name: "New name", email: "n@example.com" }],
      ["DELETE", "http://keys.test/api/v1/users/4", undefined],
    ]);
    await expect(runKeysCommand(client, ["update-user", "4"])).rejects.toThrow(
      new UsageError("give at least one of --email, --name"),
    );
    await expect(runKeysCommand(client, ["delete-user"])).rejects.toThrow(
      new UsageError("the user id is required"),
    );
    expect(requests).toHaveLength(3);
  });

  it("asks for a key's usage and the account-wide summary", async () => {
    const { client, requests } = recordingClient();
    await runKeysCommand(client, ["usage", "12", "--from", "2026-01-01T00:00:00Z", "--granularity", "day"]);
    await runKeysCommand(client, ["usage", "12"]);
    await runKeysCommand(client, ["summary", "--user", "3", "--limit", "5"]);
    expect(requests.map((r) => [r.method, r.url])).toEqual([
      ["GET", "http://keys.test/api/v1/keys/12/usage?from=2026-01-01T00%3A00%3A00Z&granularity=day"],
      ["GET", "http://keys.test/api/v1/keys/12/usage"],
      ["GET", "http://keys.test/api/v1/usage/summary?userId=3&limit=5"],
    ]);
    await expect(runKeysCommand(client, ["summary", "--limit", "many"])).rejects.toThrow(UsageError);
  });

  it("asks for every key's usage, or one user's keys', with the same options", async () => {
    const { client, requests } = recordingClient();
    await runKeysCommand(client, ["usage"]);
    await runKeysCommand(client, ["usage", "--from", "2026-01-01T00:00:00Z", "--granularity", "minute"]);
    await runKeysCommand(client, ["usage", "--user", "4", "--to", "2026-01-02T00:00:00Z"]);
    expect(requests.map((r) => [r.method, r.url])).toEqual([
      ["GET", "http://keys.test/api/v1/usage"],
      ["GET", "http://keys.test/api/v1/usage?from=2026-01-01T00%3A00%3A00Z&granularity=minute"],
      ["GET", "http://keys.test/api/v1/usage?to=2026-01-02T00%3A00%3A00Z&userId=4"],
    ]);
  });

  it("refuses a key id together with --user, and a --user that is not an id, before calling the API", async () => {
    const { client, requests } = recordingClient();
    await expect(runKeysCommand(client, ["usage", "12", "--user", "4"])).rejects.toThrow(
      new UsageError("a key id and --user do not go together"),
    );
    await expect(runKeysCommand(client, ["usage", "--user", "ann"])).rejects.toThrow(
      new UsageError("--user must be a whole number of at least 1 (got 'ann')"),
    );
    await expect(runKeysCommand(client, ["usage", "--user", "0"])).rejects.toThrow(
      new UsageError("--user must be a whole number of at least 1 (got '0')"),
    );
    await expect(runKeysCommand(client, ["usage", "--user"])).rejects.toThrow(
      new UsageError("--user needs a value"),
    );
    await expect(runKeysCommand(client, ["usage", "twelve"])).rejects.toThrow(
      new UsageError("the key id must be a whole number of at least 1 (got 'twelve')"),
    );
    expect(requests).toEqual([]);
  });

  describe("usage output", () => {
    const buckets = [
      {
        start: "2026-12-05T10:00:00.000Z",
        requests: 30,
        errors: 1,
        clientErrors: 2,
        rateLimited: 1,
        p50ResponseTimeMs: 12.5,
        p95ResponseTimeMs: 44.775,
      },
      {
        start: "2026-12-05T11:00:00.000Z",
        requests: 0,
        errors: 0,
        clientErrors: 0,
        rateLimited: 0,
        p50ResponseTimeMs: null,
        p95ResponseTimeMs: null,
      },
    ];
    const range = { from: "2026-12-05T10:00:00.000Z", to: "2026-12-05T12:00:00.000Z", granularity: "hour" };
    const table = [
      "START                     REQUESTS  5XX  4XX  LIMITED  P50 MS  P95 MS",
      "2026-12-05T10:00:00.000Z  30        1    2    1        12.5    44.775",
      "2026-12-05T11:00:00.000Z  0         0    0    0        -       -",
    ];
    /** A keys API that answers every request with `body`. */
    const answering = (body: unknown) =>
      createKeysClient({
        baseUrl: "http://keys.test",
        adminToken: "admin-token-0123456789",
        fetch: async () => new Response(JSON.stringify(body), { status: 200 }),
      });

    it("says it covers every key, then lists the buckets; --json is the API's answer", async () => {
      const usage = { ...range, buckets };
      const result = await runKeys(answering(usage), ["usage"]);
      expect(result.data).toEqual(usage);
      expect(result.text()).toBe(
        ["every key, 2026-12-05T10:00:00.000Z to 2026-12-05T12:00:00.000Z by hour", ...table].join("\n"),
      );
    });

    it("says it covers one user's keys", async () => {
      const usage = { ...range, userId: 4, buckets };
      const result = await runKeys(answering(usage), ["usage", "--user", "4"]);
      expect(result.data).toEqual(usage);
      expect(result.text()).toBe(
        ["user 4's keys, 2026-12-05T10:00:00.000Z to 2026-12-05T12:00:00.000Z by hour", ...table].join("\n"),
      );
    });

    it("says it covers one key", async () => {
      const usage = { keyId: 12, ...range, buckets };
      const result = await runKeys(answering(usage), ["usage", "12"]);
      expect(result.data).toEqual(usage);
      expect(result.text()).toBe(
        ["key 12, 2026-12-05T10:00:00.000Z to 2026-12-05T12:00:00.000Z by hour", ...table].join("\n"),
      );
    });
  });

  it("shows the summary's totals with the error rate in percent, and its top keys and endpoints as tables", async () => {
    const summary = {
      from: "2026-12-05T00:00:00.000Z",
      to: "2026-12-06T00:00:00.000Z",
      requests: 31,
      errors: 1,
      clientErrors: 27,
      errorRate: 1 / 31,
      topKeys: [{ keyId: 1, name: "billing", requests: 31, errors: 1, p95ResponseTimeMs: 44.1 }],
      topEndpoints: [
        { endpoint: "/api/users/:id", method: "GET", requests: 30, errors: 0, p95ResponseTimeMs: 44.775 },
        { endpoint: "/api/status/:id", method: "GET", requests: 1, errors: 1, p95ResponseTimeMs: 6.786 },
      ],
    };
    const client = createKeysClient({
      baseUrl: "http://keys.test",
      adminToken: "admin-token-0123456789",
      fetch: async () => new Response(JSON.stringify(summary), { status: 200 }),
    });
    const result = await runKeys(client, ["summary"]);
    expect(result.data).toEqual(summary);
    expect(result.text()).toBe(
      [
        "from          2026-12-05T00:00:00.000Z",
        "to            2026-12-06T00:00:00.000Z",
        "requests      31",
        "errors        1",
        "clientErrors  27",
        "errorRate     3.23%",
        "",
        "top keys",
        "ID  NAME     REQUESTS  5XX  P95 MS",
        "1   billing  31        1    44.1",
        "",
        "top endpoints",
        "METHOD  ENDPOINT         REQUESTS  5XX  P95 MS",
        "GET     /api/users/:id   30        0    44.775",
        "GET     /api/status/:id  1         1    6.786",
      ].join("\n"),
    );
  });

  it("refuses bad usage before calling the API", async () => {
    const { client, requests } = recordingClient();
    await expect(runKeysCommand(client, ["create", "--name", "x"])).rejects.toThrow(
      new UsageError("--user is required"),
    );
    await expect(runKeysCommand(client, ["get", "abc"])).rejects.toThrow(UsageError);
    await expect(runKeysCommand(client, ["frobnicate"])).rejects.toThrow("unknown keys command 'frobnicate'");
    await expect(runKeysCommand(client, ["list", "--colour", "red"])).rejects.toThrow(/Unknown option/);
    expect(requests).toEqual([]);
  });

  it.each([
    [["get", "5", "--user", "3"], "--user does not go with 'get' (it takes no options)"],
    [["rotate", "5", "--hour", "10"], "--hour does not go with 'rotate' (it takes --grace)"],
    [["delete", "5", "--grace", "60"], "--grace does not go with 'delete' (it takes no options)"],
    [["expire", "5", "--at", "never", "--name", "x"], "--name does not go with 'expire' (it takes --at)"],
    [
      ["limits", "5", "--minute", "5", "--at", "never"],
      "--at does not go with 'limits' (it takes --minute, --hour, --day)",
    ],
    [
      ["list", "--email", "a@example.com"],
      "--email does not go with 'list' (it takes --user, --active, --search, --limit, --cursor, --all)",
    ],
    [
      ["users", "--user", "3"],
      "--user does not go with 'users' (it takes --search, --limit, --cursor, --all)",
    ],
    [
      ["summary", "--cursor", "c1"],
      "--cursor does not go with 'summary' (it takes --from, --to, --user, --limit)",
    ],
    [
      ["usage", "12", "--limit", "5"],
      "--limit does not go with 'usage' (it takes --user, --from, --to, --granularity)",
    ],
    [
      ["create", "--user", "7", "--name", "billing", "--grace", "60"],
      "--grace does not go with 'create' (it takes --user, --name, --description, --minute, --hour, --day, --expires-at)",
    ],
    [
      ["create-user", "--email", "a@example.com", "--name", "A", "--user", "3"],
      "--user does not go with 'create-user' (it takes --email, --name)",
    ],
    [
      ["update-user", "4", "--search", "a"],
      "--search does not go with 'update-user' (it takes --email, --name)",
    ],
    [["delete-user", "4", "--name", "x"], "--name does not go with 'delete-user' (it takes no options)"],
  ])("refuses %j, an option of another command, before calling the API: %s", async (argv, message) => {
    const { client, requests } = recordingClient();
    await expect(runKeysCommand(client, argv)).rejects.toThrow(new UsageError(message));
    expect(requests).toEqual([]);
  });

  it("takes --json and --help with any command", async () => {
    const { client, requests } = recordingClient();
    await runKeysCommand(client, ["get", "5", "--json"]);
    await runKeysCommand(client, ["rotate", "5", "--grace", "60", "--json", "-h"]);
    expect(requests.map((r) => [r.method, r.url])).toEqual([
      ["GET", "http://keys.test/api/v1/keys/5"],
      ["POST", "http://keys.test/api/v1/keys/5/rotate"],
    ]);
  });

  it("exits with 2 and says which options the command takes, without calling the API", async () => {
    const fetch = jest.spyOn(globalThis, "fetch");
    try {
      const err: string[] = [];
      const io = { out: () => undefined, err: (t: string) => err.push(t) };
      const env = { ADMIN_TOKEN: "admin-token-0123456789", KEYS_URL: "http://127.0.0.1:9" };
      expect(await apimonMain(["keys", "rotate", "5", "--hour", "10"], env, io)).toBe(2);
      expect(err).toEqual([
        "apimon keys: --hour does not go with 'rotate' (it takes --grace) (see 'apimon keys --help')",
      ]);
      expect(fetch).not.toHaveBeenCalled();
    } finally {
      fetch.mockRestore();
    }
  });

  it("surfaces the API's error detail", async () => {
    const { client } = recordingClient();
    await expect(runKeysCommand(client, ["get", "404"])).rejects.toThrow("HTTP 404: API key not found");
  });
});
