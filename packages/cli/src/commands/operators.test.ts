import { createKeysClient, type NewOperatorView, type OperatorView } from "@apimon/client";
import { UsageError } from "../args";
import { apimonMain, USAGE } from "../main";
import { OPERATORS_USAGE, runOperators, runWhoAmI, WHOAMI_USAGE } from "./operators";

const operator = (id: number, fields: Partial<OperatorView> = {}): OperatorView => ({
  id,
  name: `operator ${id}`,
  role: "admin",
  tokenPrefix: "apimon_op_Xy12",
  createdAt: "2026-12-06T09:00:00.000Z",
  lastUsedAt: null,
  revokedAt: null,
  ...fields,
});

const TOKEN = "apimon_op_Xy12secretsecretsecretsecretsecretsecre";

/**
 * A fake keys API that records requests and answers the operators API's shapes: two operators
 * over two pages, a caller who is a viewer, 404 for operator 404, and 409 for a change to
 * operator 409 (whose token is revoked).
 */
function recordingClient() {
  const requests: { method: string; url: string; body?: unknown; auth: string | null }[] = [];
  const client = createKeysClient({
    baseUrl: "http://keys.test",
    adminToken: "admin-token-0123456789",
    fetch: async (input, init) => {
      const url = new URL(String(input));
      const method = init?.method ?? "GET";
      const body = init?.body ? JSON.parse(String(init.body)) : undefined;
      requests.push({
        method,
        url: String(input),
        body,
        auth: new Headers(init?.headers).get("authorization"),
      });
      const answer = (status: number, value: unknown) => new Response(JSON.stringify(value), { status });
      if (url.pathname === "/api/v1/operators/me")
        return answer(200, { operator: { id: 3, name: "alice", role: "viewer" }, role: "viewer" });
      if (url.pathname.startsWith("/api/v1/operators/404"))
        return answer(404, { detail: "Operator not found" });
      if (url.pathname === "/api/v1/operators" && method === "POST") {
        const created: NewOperatorView = { ...operator(5, body), token: TOKEN };
        return answer(201, created);
      }
      if (url.pathname === "/api/v1/operators")
        return answer(
          200,
          url.searchParams.get("cursor") === "3"
            ? { items: [operator(4, { name: "deploy script", role: "admin" })], nextCursor: null }
            : {
                items: [
                  operator(3, {
                    name: "alice",
                    role: "viewer",
                    tokenPrefix: "apimon_op_Ab9z",
                    lastUsedAt: "2026-12-06T09:30:00.000Z",
                    revokedAt: "2026-12-06T09:45:00.000Z",
                  }),
                ],
                nextCursor: "3",
              },
        );
      const revoked = /^\/api\/v1\/operators\/(\d+)\/revoke$/.exec(url.pathname);
      if (revoked && method === "POST")
        return answer(200, operator(Number(revoked[1]), { revokedAt: "2026-12-06T10:00:00.000Z" }));
      const one = /^\/api\/v1\/operators\/(\d+)$/.exec(url.pathname);
      if (one?.[1] === "409" && method === "PATCH")
        return answer(409, { detail: "Operator's token is revoked: make a new operator instead" });
      if (one && method === "PATCH") return answer(200, operator(Number(one[1]), body));
      if (one) return answer(200, operator(Number(one[1])));
      return answer(500, { detail: "unexpected request" });
    },
  });
  return { client, requests };
}

const rows = (text: string) => text.split("\n").map((line) => line.split(/ {2,}/));

describe("operators CLI", () => {
  it("lists operators with their role, token prefix, last use and revocation, and how to go on", async () => {
    const { client, requests } = recordingClient();
    const result = await runOperators(client, ["list"]);
    expect(rows(result.text())).toEqual([
      ["ID", "NAME", "ROLE", "TOKEN", "CREATED", "LAST USED", "REVOKED"],
      [
        "3",
        "alice",
        "viewer",
        "apimon_op_Ab9z…",
        "2026-12-06T09:00:00.000Z",
        "2026-12-06T09:30:00.000Z",
        "2026-12-06T09:45:00.000Z",
      ],
      ["(more: --cursor 3)"],
    ]);
    expect(result.data).toMatchObject({ items: [{ id: 3, tokenPrefix: "apimon_op_Ab9z" }], nextCursor: "3" });
    expect(requests).toEqual([
      { method: "GET", url: "http://keys.test/api/v1/operators", auth: "Bearer admin-token-0123456789" },
    ]);
  });

  it("lists only revoked operators with --revoked, only working ones with --active, and every page with --all", async () => {
    const { client, requests } = recordingClient();
    await runOperators(client, ["list", "--revoked"]);
    await runOperators(client, ["list", "--active", "--limit", "1", "--cursor", "3"]);
    const all = await runOperators(client, ["list", "--all"]);
    expect(requests.map((r) => r.url)).toEqual([
      "http://keys.test/api/v1/operators?revoked=true",
      "http://keys.test/api/v1/operators?cursor=3&limit=1&revoked=false",
      "http://keys.test/api/v1/operators",
      "http://keys.test/api/v1/operators?cursor=3",
    ]);
    expect(rows(all.text()).map((row) => [row[1], row[2], row[6]])).toEqual([
      ["NAME", "ROLE", "REVOKED"],
      ["alice", "viewer", "2026-12-06T09:45:00.000Z"],
      ["deploy script", "admin", "-"],
    ]);
  });

  it("creates an operator with the service's default role or the one asked for, and shows its token once", async () => {
    const { client, requests } = recordingClient();
    await runOperators(client, ["create", "deploy script"]);
    const result = await runOperators(client, ["create", "ci-viewer", "--role", "viewer"]);
    expect(requests.map((r) => [r.method, r.url, r.body])).toEqual([
      ["POST", "http://keys.test/api/v1/operators", { name: "deploy script" }],
      ["POST", "http://keys.test/api/v1/operators", { name: "ci-viewer", role: "viewer" }],
    ]);
    expect(result.data).toEqual({ ...operator(5, { name: "ci-viewer", role: "viewer" }), token: TOKEN });
    expect(result.text()).toBe(
      [
        "id           5",
        "name         ci-viewer",
        "role         viewer",
        "tokenPrefix  apimon_op_Xy12",
        "createdAt    2026-12-06T09:00:00.000Z",
        "lastUsedAt   -",
        "revokedAt    -",
        `token        ${TOKEN}`,
        "",
        "Store the token now; it is not shown again (the service keeps only its hash).",
      ].join("\n"),
    );
  });

  it("shows and revokes an operator by id", async () => {
    const { client, requests } = recordingClient();
    expect((await runOperators(client, ["get", "4"])).data).toEqual(operator(4));
    const revoked = await runOperators(client, ["revoke", "4"]);
    expect(revoked.data).toEqual(operator(4, { revokedAt: "2026-12-06T10:00:00.000Z" }));
    expect(revoked.text()).toMatch(/^revokedAt +2026-12-06T10:00:00.000Z$/m);
    expect(requests.map((r) => [r.method, r.url, r.body])).toEqual([
      ["GET", "http://keys.test/api/v1/operators/4", undefined],
      ["POST", "http://keys.test/api/v1/operators/4/revoke", undefined],
    ]);
  });

  it("renames an operator or changes its role, sending only what was asked, and shows it changed", async () => {
    const { client, requests } = recordingClient();
    await runOperators(client, ["update", "4", "--name", "Deploy Bot"]);
    await runOperators(client, ["update", "4", "--role", "viewer"]);
    const result = await runOperators(client, ["update", "4", "--role", "admin", "--name", "-ops-"]);
    expect(requests.map((r) => [r.method, r.url, r.body])).toEqual([
      ["PATCH", "http://keys.test/api/v1/operators/4", { name: "Deploy Bot" }],
      ["PATCH", "http://keys.test/api/v1/operators/4", { role: "viewer" }],
      ["PATCH", "http://keys.test/api/v1/operators/4", { name: "-ops-", role: "admin" }],
    ]);
    expect(result.data).toEqual(operator(4, { name: "-ops-", role: "admin" }));
    expect(result.text()).toBe(
      [
        "id           4",
        "name         -ops-",
        "role         admin",
        "tokenPrefix  apimon_op_Xy12",
        "createdAt    2026-12-06T09:00:00.000Z",
        "lastUsedAt   -",
        "revokedAt    -",
      ].join("\n"),
    );
  });

  it.each([
    [["create"], "the operator's name is required"],
    [["create", "Ann", "Lee"], "unexpected argument 'Lee' (quote a name that has spaces)"],
    [["create", "ann", "--role", "owner"], "--role must be one of admin, viewer (got 'owner')"],
    [["create", "ann", "--role"], "--role needs a value"],
    [["create", "ann", "--name", "bob"], "--name does not go with 'create' (it takes --role)"],
    [["get", "4", "--role", "admin"], "--role does not go with 'get' (it takes no options)"],
    [["revoke", "4", "--name", "x"], "--name does not go with 'revoke' (it takes no options)"],
    [
      ["list", "--role", "viewer"],
      "--role does not go with 'list' (it takes --revoked, --active, --limit, --cursor, --all)",
    ],
    [
      ["update", "4", "--role", "admin", "--all"],
      "--all does not go with 'update' (it takes --name, --role)",
    ],
    [["update"], "the operator id is required"],
    [["update", "x1", "--role", "admin"], "the operator id must be a whole number of at least 1 (got 'x1')"],
    [["update", "4"], "give at least one of --name, --role"],
    [["update", "4", "--role", "owner"], "--role must be one of admin, viewer (got 'owner')"],
    [["update", "4", "--name"], "--name needs a value"],
    [["update", "4", "--name", "Ann", "Lee"], "unexpected argument 'Lee' (quote a name that has spaces)"],
    [["revoke"], "the operator id is required"],
    [["revoke", "abc"], "the operator id must be a whole number of at least 1 (got 'abc')"],
    [["get", "0"], "the operator id must be a whole number of at least 1 (got '0')"],
    [["list", "--revoked", "--active"], "--revoked and --active do not go together"],
    [["list", "--all", "--cursor", "3"], "--all and --cursor do not go together"],
    [["list", "--limit", "0"], "--limit must be a whole number of at least 1"],
    [["delete", "3"], "unknown operators command 'delete'"],
    [[], "an operators command is required"],
  ])("refuses %j without calling the service: %s", async (argv, message) => {
    const { client, requests } = recordingClient();
    await expect(runOperators(client, argv)).rejects.toThrow(UsageError);
    await expect(runOperators(client, argv)).rejects.toThrow(message);
    expect(requests).toEqual([]);
  });

  it("surfaces the API's error detail", async () => {
    const { client } = recordingClient();
    await expect(runOperators(client, ["revoke", "404"])).rejects.toThrow("HTTP 404: Operator not found");
    await expect(runOperators(client, ["update", "404", "--role", "admin"])).rejects.toThrow(
      "HTTP 404: Operator not found",
    );
    await expect(runOperators(client, ["update", "409", "--name", "x"])).rejects.toThrow(
      "HTTP 409: Operator's token is revoked: make a new operator instead",
    );
  });
});

describe("whoami CLI", () => {
  it("says whose token the CLI sends and what it may do", async () => {
    const { client, requests } = recordingClient();
    const result = await runWhoAmI(client, []);
    expect(result.text()).toBe('operator 3 "alice" (viewer)');
    expect(result.data).toEqual({ operator: { id: 3, name: "alice", role: "viewer" }, role: "viewer" });
    expect(requests.map((r) => [r.method, r.url])).toEqual([["GET", "http://keys.test/api/v1/operators/me"]]);
  });

  it("names the admin token as such", async () => {
    const result = await runWhoAmI({ whoAmI: async () => ({ operator: null, role: "admin" }) }, []);
    expect(result.text()).toBe("admin token (admin)");
  });

  it("takes no arguments", async () => {
    const { client, requests } = recordingClient();
    await expect(runWhoAmI(client, ["alice"])).rejects.toThrow(new UsageError("unexpected argument 'alice'"));
    expect(requests).toEqual([]);
  });
});

describe("the CLI's operator commands", () => {
  const env = { ADMIN_TOKEN: TOKEN, KEYS_URL: "http://keys.test", ALERTS_URL: "http://alerts.test" };
  afterEach(() => jest.restoreAllMocks());

  /** Runs the whole CLI against `answer`, collecting what it prints. */
  async function cli(argv: string[], answer: () => Response) {
    jest.spyOn(globalThis, "fetch").mockImplementation(async () => answer());
    const out: string[] = [];
    const err: string[] = [];
    const code = await apimonMain(argv, env, { out: (t) => out.push(t), err: (t) => err.push(t) });
    return { code, out, err };
  }

  it("prints a refusal of a viewer's token as the service's detail, and exits with 1", async () => {
    const detail = 'Operator "ci-viewer" is a viewer: its token may read, not change anything';
    expect(
      await cli(["keys", "deactivate", "9"], () => new Response(JSON.stringify({ detail }), { status: 403 })),
    ).toEqual({ code: 1, out: [], err: [`apimon keys: the keys service answered 403: ${detail}`] });
    expect(
      await cli(
        ["operators", "create", "bob"],
        () => new Response(JSON.stringify({ detail }), { status: 403 }),
      ),
    ).toEqual({ code: 1, out: [], err: [`apimon operators: the keys service answered 403: ${detail}`] });
  });

  it("prints a refused update as the service's detail, and exits with 1", async () => {
    const detail = (status: number, text: string) => () =>
      new Response(JSON.stringify({ detail: text }), { status });
    expect(
      await cli(
        ["operators", "update", "7", "--role", "admin"],
        detail(409, "Operator's token is revoked: make a new operator instead"),
      ),
    ).toEqual({
      code: 1,
      out: [],
      err: [
        "apimon operators: the keys service answered 409: Operator's token is revoked: make a new operator instead",
      ],
    });
    expect(await cli(["operators", "update", "8", "--name", "x"], detail(404, "Operator not found"))).toEqual(
      { code: 1, out: [], err: ["apimon operators: the keys service answered 404: Operator not found"] },
    );
  });

  it("prints an updated operator as the API's JSON with --json", async () => {
    const changed = operator(7, { name: "Erin Ops", role: "admin" });
    const run = await cli(
      ["operators", "update", "7", "--role", "admin", "--json"],
      () => new Response(JSON.stringify(changed), { status: 200 }),
    );
    expect({ code: run.code, err: run.err }).toEqual({ code: 0, err: [] });
    expect(JSON.parse(run.out[0] as string)).toEqual(changed);
  });

  it("prints a revoked token's refusal with the hint to check ADMIN_TOKEN", async () => {
    const refused = () => new Response(JSON.stringify({ detail: "Not authenticated" }), { status: 401 });
    expect(await cli(["whoami"], refused)).toEqual({
      code: 1,
      out: [],
      err: ["apimon whoami: the keys service answered 401: Not authenticated; check ADMIN_TOKEN"],
    });
  });

  it("prints whoami as a line, or as the API's JSON with --json", async () => {
    const caller = { operator: { id: 3, name: "alice", role: "viewer" }, role: "viewer" };
    const answer = () => new Response(JSON.stringify(caller), { status: 200 });
    expect(await cli(["whoami"], answer)).toEqual({ code: 0, out: ['operator 3 "alice" (viewer)'], err: [] });
    const json = await cli(["whoami", "--json"], answer);
    expect(JSON.parse(json.out[0] as string)).toEqual(caller);
  });

  it("refuses wrong usage with exit 2 and a pointer to the command's help", async () => {
    expect(await cli(["operators", "create", "ann", "--role", "owner"], () => new Response("{}"))).toEqual({
      code: 2,
      out: [],
      err: [
        "apimon operators: --role must be one of admin, viewer (got 'owner') (see 'apimon operators --help')",
      ],
    });
    expect(await cli(["operators", "update", "7"], () => new Response("{}"))).toEqual({
      code: 2,
      out: [],
      err: ["apimon operators: give at least one of --name, --role (see 'apimon operators --help')"],
    });
    expect(globalThis.fetch).not.toHaveBeenCalled();
  });

  it("refuses a token pasted with more than itself as configuration (exit 2), before any call", async () => {
    jest.spyOn(globalThis, "fetch");
    for (const ADMIN_TOKEN of [`${TOKEN}\ntoken  ${TOKEN}`, `${TOKEN} x`, "apimon_op_é"]) {
      const err: string[] = [];
      const code = await apimonMain(
        ["whoami"],
        { ...env, ADMIN_TOKEN },
        { out: () => {}, err: (t) => err.push(t) },
      );
      expect(code).toBe(2);
      expect(err.join("\n")).toContain("ADMIN_TOKEN must be one word of printable ASCII");
      expect(err.join("\n")).not.toContain(TOKEN);
    }
    expect(globalThis.fetch).not.toHaveBeenCalled();
  });

  it("lists the operator commands and whoami on --help and in the CLI's usage", async () => {
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    expect(await apimonMain(["operators", "--help"], env, io)).toBe(0);
    expect(await apimonMain(["whoami", "--help"], env, io)).toBe(0);
    expect(out).toEqual([OPERATORS_USAGE, WHOAMI_USAGE]);
    expect(USAGE).toContain(OPERATORS_USAGE);
    expect(USAGE).toContain(WHOAMI_USAGE);
    expect(USAGE).toMatch(/^usage: apimon <[^>]*\|operators\|whoami\|/);
  });
});
