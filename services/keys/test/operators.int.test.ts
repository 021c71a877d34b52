import { createPrismaClient, operatorTokenHash } from "@apimon/db";
import { createMetricsRegistry } from "@apimon/observability";
import { captureLogger, invalidRequest, testDatabaseForFile, waitFor } from "@apimon/testkit";
import { createApp } from "../src/app";

// Operators on Postgres: a token made by the API works on the admin API at once, is kept only as
// its hash, may only read when it is a viewer's, and stops working when revoked; each creation
// and revocation has its audit row, and a change made with an operator's token names it.

const ADMIN_TOKEN = "keys-operators-admin-token-0123456789";
const database = testDatabaseForFile();
const log = captureLogger({ service: "keys" });
let app: ReturnType<typeof createApp>;

function appOn(prisma: ReturnType<typeof database>["prisma"]) {
  return createApp({
    logger: log.logger,
    registry: createMetricsRegistry("keys", { defaultMetrics: false }),
    prisma,
    config: {
      adminToken: ADMIN_TOKEN,
      keyHashSecret: "keys-operators-hash-secret-0123456789abcdef",
      graceSeconds: 3600,
      defaults: { minute: 100, hour: 1000, day: 10000 },
    },
    isShuttingDown: () => false,
  });
}

beforeAll(() => {
  app = appOn(database().prisma);
});

interface Sent {
  status: number;
  requestId: string;
  // biome-ignore lint/suspicious/noExplicitAny: answers are asserted field by field
  body: any;
}

async function send(token: string, method: string, path: string, body?: unknown): Promise<Sent> {
  const res = await app.request(`/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    requestId: res.headers.get("x-request-id") ?? "",
    body: text === "" ? undefined : JSON.parse(text),
  };
}

const asAdmin = (method: string, path: string, body?: unknown) => send(ADMIN_TOKEN, method, path, body);

async function makeOperator(name: string, role: "admin" | "viewer" = "admin") {
  const res = await asAdmin("POST", "/operators", { name, role });
  expect(res.status).toBe(201);
  return res.body as { id: number; name: string; role: string; token: string; tokenPrefix: string };
}

async function auditRows(targetType: string, targetId?: number) {
  return database().prisma.auditEvent.findMany({
    where: { targetType, ...(targetId !== undefined && { targetId }) },
    orderBy: { id: "asc" },
  });
}

const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
let userCount = 0;
const newUser = () => ({ email: `operated${++userCount}@example.com`, name: `User ${userCount}` });

describe("making an operator", () => {
  it("answers the token once, keeps only its hash, and writes the audit row without it", async () => {
    const res = await asAdmin("POST", "/operators", { name: "  Alice Ops  ", role: "admin" });
    expect(res.status).toBe(201);
    const { token } = res.body;
    expect(token).toMatch(/^apimon_op_[A-Za-z0-9_-]{43}$/);
    expect(res.body).toEqual({
      id: expect.any(Number),
      name: "Alice Ops",
      role: "admin",
      tokenPrefix: token.slice(0, 14),
      createdAt: ISO,
      lastUsedAt: null,
      revokedAt: null,
      token,
    });

    const row = await database().prisma.operator.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(row.tokenHash).toBe(operatorTokenHash(token));
    const read = await asAdmin("GET", `/operators/${res.body.id}`);
    expect(read.body).not.toHaveProperty("token");
    expect(JSON.stringify(read.body)).not.toContain(row.tokenHash);

    const audit = await auditRows("operator", res.body.id);
    expect(audit).toEqual([
      expect.objectContaining({
        action: "operator.created",
        summary: `created operator ${res.body.id} "Alice Ops" (admin, ${res.body.tokenPrefix}…)`,
        changes: {
          name: { from: null, to: "Alice Ops" },
          role: { from: null, to: "admin" },
          tokenPrefix: { from: null, to: res.body.tokenPrefix },
        },
        source: "api",
        operatorId: null,
        operatorName: null,
        requestId: res.requestId,
      }),
    ]);
    const everything = JSON.stringify(await database().prisma.auditEvent.findMany());
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(row.tokenHash);
  });

  it("makes a viewer unless asked for an admin: a token can do no more than it was made for", async () => {
    const res = await asAdmin("POST", "/operators", { name: "no role given" });
    expect(res.status).toBe(201);
    expect(res.body.role).toBe("viewer");
    expect((await send(res.body.token, "POST", "/users", newUser())).status).toBe(403);
  });

  it("refuses a body it cannot take, naming the fields, and makes nothing", async () => {
    const before = await database().prisma.operator.count();
    const cases: [unknown, ReturnType<typeof invalidRequest>][] = [
      [{ name: "" }, invalidRequest("body", [{ field: "name", message: "must not be empty" }])],
      [
        { name: "bob", role: "owner" },
        invalidRequest("body", [{ field: "role", message: "must be one of admin, viewer" }]),
      ],
      [
        { name: "bob\u0000" },
        invalidRequest("body", [{ field: "name", message: "must not contain control characters" }]),
      ],
    ];
    for (const [body, expected] of cases) {
      const res = await asAdmin("POST", "/operators", body);
      expect({ status: res.status, body: res.body }).toEqual(expected);
    }
    const extra = await asAdmin("POST", "/operators", { name: "bob", tokenHash: "00" });
    expect(extra.status).toBe(400);
    expect(extra.body.errors).toEqual([expect.objectContaining({ field: "tokenHash" })]);
    expect(await database().prisma.operator.count()).toBe(before);
  });
});

describe("an operator's token", () => {
  it("works on the admin API at once, says whose it is, and notes when it was used", async () => {
    const alice = await makeOperator("alice");
    expect((await asAdmin("GET", "/operators/me")).body).toEqual({ operator: null, role: "admin" });
    const me = await send(alice.token, "GET", "/operators/me");
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ operator: { id: alice.id, name: "alice", role: "admin" }, role: "admin" });
    await waitFor(
      async () =>
        (await database().prisma.operator.findUniqueOrThrow({ where: { id: alice.id } })).lastUsedAt ??
        undefined,
      { what: "the token's last use noted" },
    );
  });

  it("of an admin makes changes, operators included, each audit row naming it", async () => {
    const alice = await makeOperator("alice the admin");
    const user = await send(alice.token, "POST", "/users", newUser());
    expect(user.status).toBe(201);
    const bob = await send(alice.token, "POST", "/operators", { name: "bob", role: "viewer" });
    expect(bob.status).toBe(201);
    const [userRow] = await auditRows("user", user.body.id);
    const [bobRow] = await auditRows("operator", bob.body.id);
    for (const row of [userRow, bobRow]) {
      expect(row).toMatchObject({ operatorId: alice.id, operatorName: "alice the admin", source: "api" });
    }
    expect(log.lines).toContainEqual(
      expect.objectContaining({ msg: "user created", userId: user.body.id, operatorId: alice.id }),
    );
  });

  it("of a viewer reads everything and changes nothing: 403 naming it, and no row", async () => {
    const victor = await makeOperator("victor", "viewer");
    expect((await send(victor.token, "GET", "/users")).status).toBe(200);
    expect((await send(victor.token, "GET", "/operators")).status).toBe(200);
    expect((await send(victor.token, "GET", "/operators/me")).body.role).toBe("viewer");

    const users = await database().prisma.user.count();
    const audit = await database().prisma.auditEvent.count();
    const refused = 'Operator "victor" is a viewer: its token may read, not change anything';
    for (const [method, path, body] of [
      ["POST", "/users", newUser()],
      ["POST", "/operators", { name: "mallory" }],
      ["POST", `/operators/${victor.id}/revoke`, undefined],
      ["DELETE", "/users/1", undefined],
    ] as const) {
      const res = await send(victor.token, method, path, body);
      expect({ status: res.status, body: res.body }).toEqual({ status: 403, body: { detail: refused } });
    }
    expect(await database().prisma.user.count()).toBe(users);
    expect(await database().prisma.auditEvent.count()).toBe(audit);
  });

  it("is refused from the request after its revocation; a second revocation changes nothing", async () => {
    const carol = await makeOperator("carol");
    expect((await send(carol.token, "GET", "/users")).status).toBe(200);

    const revoked = await asAdmin("POST", `/operators/${carol.id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: carol.id, name: "carol", revokedAt: ISO });
    const after = await send(carol.token, "GET", "/users");
    expect({ status: after.status, body: after.body }).toEqual({
      status: 401,
      body: { detail: "Not authenticated" },
    });

    const again = await asAdmin("POST", `/operators/${carol.id}/revoke`);
    expect(again.status).toBe(200);
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
    expect((await auditRows("operator", carol.id)).map((row) => row.action)).toEqual([
      "operator.created",
      "operator.revoked",
    ]);
  });

  it("may revoke itself, and the revocation's row names it", async () => {
    const dave = await makeOperator("dave");
    expect((await send(dave.token, "POST", `/operators/${dave.id}/revoke`)).status).toBe(200);
    expect((await send(dave.token, "GET", "/operators/me")).status).toBe(401);
    const [, revokedRow] = await auditRows("operator", dave.id);
    expect(revokedRow).toMatchObject({
      action: "operator.revoked",
      operatorId: dave.id,
      operatorName: "dave",
    });
  });

  it("that is not one, or not an operator's at all, is refused as any wrong token", async () => {
    for (const token of ["apimon_op_nothing-like-a-real-one", "apimon_op_", "not-an-operator-token"]) {
      expect((await send(token, "GET", "/users")).status).toBe(401);
    }
  });
});

describe("changing an operator", () => {
  it("renames it and changes its role, which its same token has from the next request", async () => {
    const erin = await makeOperator("erin", "viewer");
    const refused = await send(erin.token, "POST", "/users", newUser());
    expect(refused.status).toBe(403);

    const promoted = await asAdmin("PATCH", `/operators/${erin.id}`, { role: "admin", name: "Erin Ops" });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ id: erin.id, name: "Erin Ops", role: "admin", revokedAt: null });
    expect((await send(erin.token, "GET", "/operators/me")).body).toMatchObject({
      operator: { id: erin.id, name: "Erin Ops", role: "admin" },
      role: "admin",
    });
    const made = await send(erin.token, "POST", "/users", newUser());
    expect(made.status).toBe(201);
    expect((await auditRows("user", made.body.id))[0]).toMatchObject({ operatorName: "Erin Ops" });

    // It may demote itself; its next change is then refused.
    const demoted = await send(erin.token, "PATCH", `/operators/${erin.id}`, { role: "viewer" });
    expect(demoted.body).toMatchObject({ role: "viewer" });
    expect((await send(erin.token, "POST", "/users", newUser())).body).toEqual({
      detail: 'Operator "Erin Ops" is a viewer: its token may read, not change anything',
    });

    const rows = await auditRows("operator", erin.id);
    expect(rows.map((row) => [row.action, row.summary, row.changes, row.operatorName])).toEqual([
      ["operator.created", expect.any(String), expect.any(Object), null],
      [
        "operator.updated",
        `updated operator ${erin.id} "erin" (viewer, ${erin.tokenPrefix}…): name, role, now admin`,
        { name: { from: "erin", to: "Erin Ops" }, role: { from: "viewer", to: "admin" } },
        null,
      ],
      [
        "operator.updated",
        `updated operator ${erin.id} "Erin Ops" (admin, ${erin.tokenPrefix}…): role, now viewer`,
        { role: { from: "admin", to: "viewer" } },
        "Erin Ops",
      ],
    ]);
    expect(JSON.stringify(rows)).not.toContain(erin.token);
  });

  it("writes no row when nothing changes, and refuses a bad body, a viewer, a revoked or unknown operator", async () => {
    const fay = await makeOperator("fay", "viewer");
    const same = await asAdmin("PATCH", `/operators/${fay.id}`, { name: "fay", role: "viewer" });
    expect(same.status).toBe(200);
    expect((await auditRows("operator", fay.id)).map((row) => row.action)).toEqual(["operator.created"]);

    for (const [body, errors] of [
      [{}, [{ field: "(body)", message: "must change at least one of name, role" }]],
      [{ role: "owner" }, [{ field: "role", message: "must be one of admin, viewer" }]],
      [
        { name: "", token: "x" },
        [
          { field: "name", message: expect.any(String) },
          { field: "token", message: "is not a known field" },
        ],
      ],
    ] as const) {
      const res = await asAdmin("PATCH", `/operators/${fay.id}`, body);
      expect({ status: res.status, errors: res.body.errors }).toEqual({ status: 400, errors });
    }
    const byViewer = await send(fay.token, "PATCH", `/operators/${fay.id}`, { role: "admin" });
    expect(byViewer.status).toBe(403);

    await asAdmin("POST", `/operators/${fay.id}/revoke`);
    expect(await asAdmin("PATCH", `/operators/${fay.id}`, { role: "admin" })).toMatchObject({
      status: 409,
      body: { detail: "Operator's token is revoked: make a new operator instead" },
    });
    expect(await asAdmin("PATCH", "/operators/2147483647", { role: "admin" })).toMatchObject({
      status: 404,
      body: { detail: "Operator not found" },
    });
    expect((await database().prisma.operator.findUniqueOrThrow({ where: { id: fay.id } })).role).toBe(
      "viewer",
    );
    expect((await auditRows("operator", fay.id)).map((row) => row.action)).toEqual([
      "operator.created",
      "operator.revoked",
    ]);
  });
});

describe("listing and revoking operators", () => {
  it("lists by id without any token, and filters by revoked", async () => {
    const erin = await makeOperator("erin");
    const frank = await makeOperator("frank", "viewer");
    await asAdmin("POST", `/operators/${frank.id}/revoke`);

    const all = await asAdmin("GET", "/operators?limit=100");
    expect(all.status).toBe(200);
    const ids = all.body.items.map((item: { id: number }) => item.id);
    expect(ids).toEqual([...ids].sort((a: number, b: number) => a - b));
    expect(ids).toEqual(expect.arrayContaining([erin.id, frank.id]));
    for (const item of all.body.items)
      expect(Object.keys(item).sort()).toEqual([
        "createdAt",
        "id",
        "lastUsedAt",
        "name",
        "revokedAt",
        "role",
        "tokenPrefix",
      ]);

    const working = await asAdmin("GET", "/operators?revoked=false&limit=100");
    const gone = await asAdmin("GET", "/operators?revoked=true&limit=100");
    const idsOf = (res: Sent) => res.body.items.map((item: { id: number }) => item.id);
    expect(idsOf(working)).toContain(erin.id);
    expect(idsOf(working)).not.toContain(frank.id);
    expect(idsOf(gone)).toContain(frank.id);
    expect(idsOf(gone)).not.toContain(erin.id);

    const page = await asAdmin("GET", "/operators?limit=1");
    expect(page.body.items).toHaveLength(1);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const next = await asAdmin("GET", `/operators?limit=1&cursor=${page.body.nextCursor}`);
    expect(next.body.items[0].id).toBeGreaterThan(page.body.items[0].id);
  });

  it("refuses a bad filter, an unknown or malformed id", async () => {
    const bad = await asAdmin("GET", "/operators?revoked=yes");
    expect({ status: bad.status, body: bad.body }).toEqual(
      invalidRequest("query", [{ field: "revoked", message: "must be true or false" }]),
    );
    expect((await asAdmin("POST", "/operators/999999/revoke")).status).toBe(404);
    expect((await asAdmin("GET", "/operators/999999")).body).toEqual({ detail: "Operator not found" });
    expect((await asAdmin("POST", "/operators/abc/revoke")).status).toBe(400);
  });
});

describe("an operator's token with the database gone", () => {
  it("gets 503, while the admin token is still checked without it", async () => {
    const dead = createPrismaClient({ connectionString: "postgresql://postgres@127.0.0.1:1/nothing" });
    const offline = appOn(dead);
    try {
      const operator = await offline.request("/api/v1/operators/me", {
        headers: { authorization: "Bearer apimon_op_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
      });
      expect(operator.status).toBe(503);
      expect(await operator.json()).toEqual({ detail: expect.any(String) });
      const admin = await offline.request("/api/v1/operators/me", {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(await admin.json()).toEqual({ operator: null, role: "admin" });
    } finally {
      await dead.$disconnect();
    }
  });
});
