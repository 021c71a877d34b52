import { type RunningServer, startServer } from "@apimon/http";
import { hashApiKey } from "@apimon/key-registry";
import { createMetricsRegistry } from "@apimon/observability";
import { captureLogger, invalidRequest, testDatabaseForFile } from "@apimon/testkit";
import { createApp } from "../src/app";

const ADMIN_TOKEN = "keys-audit-admin-token-0123456789";
const KEY_HASH_SECRET = "keys-audit-hash-secret-0123456789abcdef";
const GRACE_SECONDS = 86_400;
/** The service's clock: expiries and rotation grace periods are computed from it. */
const NOW = new Date("2030-06-01T12:00:00.000Z");

const database = testDatabaseForFile();
const log = captureLogger({ service: "keys" });
/** Every plaintext key the API handed out, to prove that no audit row holds one. */
const issuedKeys: string[] = [];
/** Times the API said a change had committed. */
let committed = 0;
let app: ReturnType<typeof createApp>;

beforeAll(() => {
  app = createApp({
    logger: log.logger,
    registry: createMetricsRegistry("keys", { defaultMetrics: false }),
    prisma: database().prisma,
    config: {
      adminToken: ADMIN_TOKEN,
      keyHashSecret: KEY_HASH_SECRET,
      graceSeconds: GRACE_SECONDS,
      defaults: { minute: 100, hour: 1000, day: 10000 },
    },
    clock: () => NOW,
    isShuttingDown: () => false,
    onKeyChangesQueued: () => committed++,
  });
});

interface Sent {
  status: number;
  /** The request id the service gave the request (X-Request-Id). */
  requestId: string;
  // biome-ignore lint/suspicious/noExplicitAny: answers are asserted field by field
  body: any;
}

/** An authenticated request to the admin API, with a JSON body when one is given. */
async function send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await app.request(`/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body !== undefined && { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    requestId: res.headers.get("x-request-id") ?? "",
    body: text === "" ? undefined : JSON.parse(text),
  } as Sent;
}

/** The actor of a request made with none of the actor headers, as its audit row records it. */
function byApi(sent: Sent) {
  return {
    source: "api",
    clientAddress: null,
    userAgent: null,
    requestId: sent.requestId,
    operatorId: null,
    operatorName: null,
  };
}

let userCount = 0;
async function createUser(name: string) {
  userCount += 1;
  const res = await send("POST", "/users", { email: `audited${userCount}@example.com`, name });
  expect(res.status).toBe(201);
  return res.body as { id: number; email: string; name: string };
}

async function createKey(body: Record<string, unknown>) {
  const res = await send("POST", "/keys", body);
  expect(res.status).toBe(201);
  issuedKeys.push(res.body.key);
  return res.body as { key: string; id: number; prefix: string; userId: number };
}

async function rotateKey(id: number, body?: unknown) {
  const res = await send("POST", `/keys/${id}/rotate`, body);
  expect(res.status).toBe(201);
  issuedKeys.push(res.body.key);
  return res;
}

/** The id of the newest audit row: the rows a test's changes write come after it. */
async function auditMark(): Promise<number> {
  const last = await database().prisma.auditEvent.findFirst({ orderBy: { id: "desc" } });
  return last?.id ?? 0;
}

/** The audit rows written after `mark`, oldest first, without their id and time. */
async function auditSince(mark: number) {
  const rows = await database().prisma.auditEvent.findMany({
    where: { id: { gt: mark } },
    orderBy: { id: "asc" },
  });
  return rows.map(({ id: _id, occurredAt: _at, ...row }) => row);
}

async function outboxRowsSince(mark: number) {
  return database().prisma.outbox.count({ where: { id: { gt: BigInt(mark) } } });
}

async function outboxMark(): Promise<number> {
  const last = await database().prisma.outbox.findFirst({ orderBy: { id: "desc" } });
  return Number(last?.id ?? 0n);
}

describe("audit rows of users", () => {
  it("records a user's creation with their email and name", async () => {
    const mark = await auditMark();
    const res = await send("POST", "/users", { email: "Ada@Example.com", name: "Ada Lovelace" });
    expect(res.status).toBe(201);
    expect(await auditSince(mark)).toEqual([
      {
        action: "user.created",
        targetType: "user",
        targetId: res.body.id,
        summary: `created user ${res.body.id} "Ada Lovelace" (ada@example.com)`,
        changes: {
          email: { from: null, to: "ada@example.com" },
          name: { from: null, to: "Ada Lovelace" },
        },
        ...byApi(res),
      },
    ]);
  });

  it("records an update's changed fields, and nothing for an update that changes nothing", async () => {
    const user = await createUser("Grace Hopper");
    const mark = await auditMark();
    const res = await send("PATCH", `/users/${user.id}`, {
      email: "Grace@Navy.example",
      name: "Grace Hopper",
    });
    expect(res.status).toBe(200);
    expect(await auditSince(mark)).toEqual([
      {
        action: "user.updated",
        targetType: "user",
        targetId: user.id,
        summary: `updated user ${user.id} "Grace Hopper" (grace@navy.example): email`,
        changes: { email: { from: user.email, to: "grace@navy.example" } },
        ...byApi(res),
      },
    ]);

    const again = await auditMark();
    expect((await send("PATCH", `/users/${user.id}`, { name: "Grace Hopper" })).status).toBe(200);
    expect(await auditSince(again)).toEqual([]);
  });

  it("records a user's deletion and the deletion of each key that went with them", async () => {
    const user = await createUser("Leaving");
    const one = await createKey({ userId: user.id, name: "one" });
    const two = await createKey({ userId: user.id, name: "two" });
    const mark = await auditMark();
    const res = await send("DELETE", `/users/${user.id}`);
    expect(res.status).toBe(204);
    const keyDeleted = (key: typeof one, name: string) => ({
      action: "key.deleted",
      targetType: "key",
      targetId: key.id,
      summary: `deleted key "${name}" (${key.prefix}…) with user ${user.id}`,
      changes: {
        name: { from: name, to: null },
        keyPrefix: { from: key.prefix, to: null },
        userId: { from: user.id, to: null },
      },
      ...byApi(res),
    });
    expect(await auditSince(mark)).toEqual([
      {
        action: "user.deleted",
        targetType: "user",
        targetId: user.id,
        summary: `deleted user ${user.id} "Leaving" (${user.email}) with their 2 keys`,
        changes: { email: { from: user.email, to: null }, name: { from: "Leaving", to: null } },
        ...byApi(res),
      },
      keyDeleted(one, "one"),
      keyDeleted(two, "two"),
    ]);
  });

  it("says so when a deleted user had no keys", async () => {
    const user = await createUser("Keyless");
    const mark = await auditMark();
    expect((await send("DELETE", `/users/${user.id}`)).status).toBe(204);
    expect(await auditSince(mark)).toEqual([
      expect.objectContaining({
        action: "user.deleted",
        summary: `deleted user ${user.id} "Keyless" (${user.email}) with no keys`,
      }),
    ]);
  });
});

describe("audit rows of keys", () => {
  let owner: Awaited<ReturnType<typeof createUser>>;

  beforeAll(async () => {
    owner = await createUser("Key Owner");
  });

  it("records a key's creation with what it set, naming it by its display prefix", async () => {
    const mark = await auditMark();
    const res = await send("POST", "/keys", {
      userId: owner.id,
      name: "billing",
      description: "invoices",
      rateLimits: { minute: 5, day: 500 },
      expiresAt: "2031-01-01T02:00:00+02:00",
    });
    expect(res.status).toBe(201);
    issuedKeys.push(res.body.key);
    expect(await auditSince(mark)).toEqual([
      {
        action: "key.created",
        targetType: "key",
        targetId: res.body.id,
        summary: `created key "billing" (${res.body.prefix}…) for user ${owner.id}`,
        changes: {
          name: { from: null, to: "billing" },
          description: { from: null, to: "invoices" },
          userId: { from: null, to: owner.id },
          rateLimitMinute: { from: null, to: 5 },
          rateLimitDay: { from: null, to: 500 },
          expiresAt: { from: null, to: "2031-01-01T00:00:00.000Z" },
        },
        ...byApi(res),
      },
    ]);
  });

  it("records an update's changed fields, and nothing for an update that changes nothing", async () => {
    const key = await createKey({
      userId: owner.id,
      name: "patched",
      description: "old",
      rateLimits: { hour: 70 },
    });
    const mark = await auditMark();
    const res = await send("PATCH", `/keys/${key.id}`, {
      name: "renamed",
      description: null,
      expiresAt: "2030-07-01T00:00:00Z",
      rateLimits: { minute: 7, hour: null },
    });
    expect(res.status).toBe(200);
    expect(await auditSince(mark)).toEqual([
      {
        action: "key.updated",
        targetType: "key",
        targetId: key.id,
        summary: `updated key "renamed" (${key.prefix}…): name, description, expiresAt, rateLimitMinute, rateLimitHour`,
        changes: {
          name: { from: "patched", to: "renamed" },
          description: { from: "old", to: null },
          expiresAt: { from: null, to: "2030-07-01T00:00:00.000Z" },
          rateLimitMinute: { from: null, to: 7 },
          rateLimitHour: { from: 70, to: null },
        },
        ...byApi(res),
      },
    ]);

    const again = await auditMark();
    const same = await send("PATCH", `/keys/${key.id}`, {
      name: "renamed",
      isActive: true,
      rateLimits: { day: null },
    });
    expect(same.status).toBe(200);
    expect(await auditSince(again)).toEqual([]);
  });

  it("records turning a key off as a deactivation and on again as a reactivation", async () => {
    const key = await createKey({ userId: owner.id, name: "toggled" });
    const mark = await auditMark();
    const off = await send("PATCH", `/keys/${key.id}`, { isActive: false });
    const on = await send("PATCH", `/keys/${key.id}`, { isActive: true, rateLimits: { minute: 9 } });
    expect([off.status, on.status]).toEqual([200, 200]);
    expect(await auditSince(mark)).toEqual([
      {
        action: "key.deactivated",
        targetType: "key",
        targetId: key.id,
        summary: `deactivated key "toggled" (${key.prefix}…)`,
        changes: { isActive: { from: true, to: false } },
        ...byApi(off),
      },
      {
        action: "key.reactivated",
        targetType: "key",
        targetId: key.id,
        summary: `reactivated key "toggled" (${key.prefix}…), also changing rateLimitMinute`,
        changes: { isActive: { from: false, to: true }, rateLimitMinute: { from: null, to: 9 } },
        ...byApi(on),
      },
    ]);
  });

  it("records a rotation on the old key, and the successor's creation", async () => {
    const old = await createKey({ userId: owner.id, name: "rotated", rateLimits: { hour: 42 } });
    const mark = await auditMark();
    const res = await rotateKey(old.id, { gracePeriodSeconds: 3600 });
    expect(await auditSince(mark)).toEqual([
      {
        action: "key.rotated",
        targetType: "key",
        targetId: old.id,
        summary:
          `rotated key "rotated" (${old.prefix}…) to key ${res.body.id} (${res.body.prefix}…) ` +
          "with a grace period of 1 hour",
        changes: { expiresAt: { from: null, to: "2030-06-01T13:00:00.000Z" } },
        ...byApi(res),
      },
      {
        action: "key.created",
        targetType: "key",
        targetId: res.body.id,
        summary: `created key "rotated" (${res.body.prefix}…) for user ${owner.id} by rotating key ${old.id}`,
        changes: {
          name: { from: null, to: "rotated" },
          userId: { from: null, to: owner.id },
          rateLimitHour: { from: null, to: 42 },
        },
        ...byApi(res),
      },
    ]);
  });

  it("records a rotation with the configured grace period when the request names none", async () => {
    const old = await createKey({ userId: owner.id, name: "default grace" });
    const mark = await auditMark();
    const res = await rotateKey(old.id);
    expect((await auditSince(mark)).map((row) => row.summary)).toEqual([
      `rotated key "default grace" (${old.prefix}…) to key ${res.body.id} (${res.body.prefix}…) with a grace period of 1 day`,
      `created key "default grace" (${res.body.prefix}…) for user ${owner.id} by rotating key ${old.id}`,
    ]);
  });

  it("records a key's deletion", async () => {
    const key = await createKey({ userId: owner.id, name: "doomed" });
    const mark = await auditMark();
    const res = await send("DELETE", `/keys/${key.id}`);
    expect(res.status).toBe(204);
    expect(await auditSince(mark)).toEqual([
      {
        action: "key.deleted",
        targetType: "key",
        targetId: key.id,
        summary: `deleted key "doomed" (${key.prefix}…) of user ${owner.id}`,
        changes: {
          name: { from: "doomed", to: null },
          keyPrefix: { from: key.prefix, to: null },
          userId: { from: owner.id, to: null },
        },
        ...byApi(res),
      },
    ]);
  });
});

describe("refused changes", () => {
  it("write no audit row", async () => {
    const user = await createUser("Refused");
    const other = await createUser("Other");
    const key = await createKey({ userId: user.id, name: "refused" });
    const off = await createKey({ userId: user.id, name: "off" });
    expect((await send("PATCH", `/keys/${off.id}`, { isActive: false })).status).toBe(200);
    await rotateKey(key.id);
    const mark = await auditMark();

    expect(await send("POST", "/users", { email: "not-an-email", name: "" })).toMatchObject({ status: 400 });
    expect(await send("POST", "/users", { email: user.email.toUpperCase(), name: "Twin" })).toMatchObject({
      status: 409,
      body: { detail: "A user with this email already exists" },
    });
    expect(await send("PATCH", `/users/${other.id}`, { email: user.email })).toMatchObject({ status: 409 });
    expect(await send("PATCH", `/users/${other.id}`, {})).toMatchObject({ status: 400 });
    expect(await send("PATCH", "/users/999999", { name: "Nobody" })).toMatchObject({
      status: 404,
      body: { detail: "User not found" },
    });
    expect(await send("DELETE", "/users/999999")).toMatchObject({ status: 404 });
    expect(await send("POST", "/keys", { userId: 999_999, name: "orphan" })).toMatchObject({
      status: 404,
      body: { detail: "User not found" },
    });
    expect(
      await send("POST", "/keys", { userId: user.id, name: "late", expiresAt: "2030-05-01T00:00:00Z" }),
    ).toMatchObject(invalidRequest("body", [{ field: "expiresAt", message: "must be in the future" }]));
    expect(await send("POST", "/keys", { userId: user.id, name: "", role: "admin" })).toMatchObject({
      status: 400,
    });
    expect(await send("PATCH", `/keys/${key.id}`, { isActive: "no" })).toMatchObject({ status: 400 });
    expect(await send("PATCH", "/keys/999999", { isActive: false })).toMatchObject({
      status: 404,
      body: { detail: "API key not found" },
    });
    expect(await send("POST", `/keys/${key.id}/rotate`, {})).toMatchObject({
      status: 409,
      body: { detail: "API key was already rotated" },
    });
    expect(await send("POST", `/keys/${off.id}/rotate`, {})).toMatchObject({ status: 409 });
    expect(await send("POST", "/keys/999999/rotate", {})).toMatchObject({ status: 404 });
    expect(await send("DELETE", "/keys/999999")).toMatchObject({ status: 404 });

    expect(await auditSince(mark)).toEqual([]);
  });
});

describe("the actor of an audit row", () => {
  /** Creates a user with these headers on the request; the actor fields of its audit row. */
  async function actorOf(headers: Record<string, string>) {
    userCount += 1;
    const mark = await auditMark();
    const res = await send(
      "POST",
      "/users",
      { email: `actor${userCount}@example.com`, name: "Actor" },
      headers,
    );
    expect(res.status).toBe(201);
    const [row, ...more] = await auditSince(mark);
    expect(more).toEqual([]);
    return {
      source: row?.source,
      clientAddress: row?.clientAddress,
      userAgent: row?.userAgent,
      requestId: row?.requestId,
    };
  }

  it("is the console at the operator's address, with the request's user agent and id", async () => {
    expect(
      await actorOf({
        "X-Apimon-Source": "console",
        "X-Apimon-Operator-Address": "203.0.113.7",
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
        "X-Request-Id": "audit-request-1",
      }),
    ).toEqual({
      source: "console",
      clientAddress: "203.0.113.7",
      userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
      requestId: "audit-request-1",
    });
  });

  it("is the CLI whatever the header's case, and keeps an IPv6 operator address", async () => {
    expect(await actorOf({ "X-Apimon-Source": " CLI ", "X-Apimon-Operator-Address": "2001:db8::7" })).toEqual(
      {
        source: "cli",
        clientAddress: "2001:db8::7",
        userAgent: null,
        requestId: expect.any(String),
      },
    );
  });

  it("is api for a request that says nothing about itself, or claims a source there is not", async () => {
    const requests: Record<string, string>[] = [{}, { "X-Apimon-Source": "root" }, { "X-Apimon-Source": "" }];
    for (const headers of requests) {
      expect(await actorOf(headers)).toEqual({
        source: "api",
        clientAddress: null,
        userAgent: null,
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
    }
  });

  it("ignores an operator address that is not an IP address", async () => {
    for (const address of ["localhost", "203.0.113.7, 10.0.0.1", "<script>"]) {
      expect(
        await actorOf({ "X-Apimon-Source": "console", "X-Apimon-Operator-Address": address }),
      ).toMatchObject({ source: "console", clientAddress: null });
    }
  });

  describe("over a real HTTP server", () => {
    let server: RunningServer;

    beforeAll(async () => {
      server = await startServer(app, { port: 0, hostname: "127.0.0.1" });
    });

    afterAll(async () => {
      await server.close();
    });

    it("is the caller's own address when the operator address is missing or not an IP address", async () => {
      const operators: Record<string, string>[] = [{}, { "X-Apimon-Operator-Address": "not-an-address" }];
      for (const operator of operators) {
        userCount += 1;
        const mark = await auditMark();
        const res = await fetch(`http://127.0.0.1:${server.port}/api/v1/users`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${ADMIN_TOKEN}`,
            "content-type": "application/json",
            "user-agent": "apimon-cli/1.0",
            "x-apimon-source": "cli",
            ...operator,
          },
          body: JSON.stringify({ email: `wire${userCount}@example.com`, name: "Wire" }),
        });
        expect(res.status).toBe(201);
        expect(await auditSince(mark)).toEqual([
          expect.objectContaining({
            action: "user.created",
            source: "cli",
            clientAddress: "127.0.0.1",
            userAgent: "apimon-cli/1.0",
            requestId: res.headers.get("x-request-id"),
          }),
        ]);
      }
    });
  });
});

describe("a change that fails at commit", () => {
  // Deferred constraint triggers on api_keys and users run at commit, after every row of the
  // transaction was written, and refuse the commit of a change to a key or user whose name
  // matches a pattern in commit_refusals. Their message lists the audit rows that the failing
  // transaction itself wrote (by xmin), so a test sees that the row was written in it; what is
  // left afterwards shows that it rolled back with the change.
  beforeAll(async () => {
    const { prisma } = database();
    await prisma.$executeRawUnsafe("create table commit_refusals (name_pattern text not null)");
    await prisma.$executeRawUnsafe(`
      create function refuse_commit() returns trigger language plpgsql as $$
      declare
        target_name text := case when tg_op = 'DELETE' then old.name else new.name end;
      begin
        if exists (select 1 from commit_refusals where target_name like name_pattern) then
          raise exception 'commit refused; this transaction wrote the audit rows %', (
            select string_agg(action, ', ' order by id) from audit_events
            where xmin::text = (txid_current() % 4294967296)::text);
        end if;
        return null;
      end $$`);
    await prisma.$executeRawUnsafe(`
      create constraint trigger refuse_key_commit after insert on api_keys
      deferrable initially deferred for each row execute function refuse_commit()`);
    await prisma.$executeRawUnsafe(`
      create constraint trigger refuse_user_commit after delete on users
      deferrable initially deferred for each row execute function refuse_commit()`);
  });

  afterEach(async () => {
    await database().prisma.$executeRawUnsafe("delete from commit_refusals");
  });

  /**
   * Sends a change whose commit is refused for a key or user named like `namePattern`, and
   * checks that it failed at commit after writing the audit rows `actions` in its transaction,
   * and that neither they nor the change's outbox rows are left.
   */
  async function expectRolledBack(namePattern: string, actions: string, ...request: Parameters<typeof send>) {
    await database().prisma.$executeRaw`insert into commit_refusals (name_pattern) values (${namePattern})`;
    const audit = await auditMark();
    const outbox = await outboxMark();
    const committedBefore = committed;
    const logged = log.lines.length;
    const res = await send(...request);
    expect(res).toMatchObject({ status: 500, body: { detail: "Internal server error" } });
    expect(committed).toBe(committedBefore);
    const failure = log.lines.slice(logged).find((line) => line.msg === "unhandled error");
    expect(JSON.stringify(failure)).toContain(`this transaction wrote the audit rows ${actions}`);
    expect(await outboxRowsSince(outbox)).toBe(0);
    expect(await auditSince(audit)).toEqual([]);
    return audit;
  }

  it("leaves no key, no outbox row and no audit row of a creation", async () => {
    const owner = await createUser("Creation Owner");
    await expectRolledBack("never committed", "key.created", "POST", "/keys", {
      userId: owner.id,
      name: "never committed",
    });
    expect(await database().prisma.apiKey.count({ where: { userId: owner.id } })).toBe(0);
  });

  it("leaves the old key as it was, no successor and no audit row of a rotation", async () => {
    const owner = await createUser("Rotation Owner");
    const key = await createKey({ userId: owner.id, name: "kept as it was" });
    await expectRolledBack("kept as it was", "key.rotated, key.created", "POST", `/keys/${key.id}/rotate`, {
      gracePeriodSeconds: 60,
    });
    const keys = await database().prisma.apiKey.findMany({ where: { userId: owner.id } });
    expect(keys.map(({ id, expiresAt }) => ({ id, expiresAt }))).toEqual([{ id: key.id, expiresAt: null }]);
  });

  it("leaves the user, their keys, no tombstone and no audit row of a user's deletion", async () => {
    const owner = await createUser("Deletion Owner");
    const key = await createKey({ userId: owner.id, name: "survivor" });
    const audit = await expectRolledBack(
      "Deletion Owner",
      "user.deleted, key.deleted",
      "DELETE",
      `/users/${owner.id}`,
    );
    expect(await send("GET", `/users/${owner.id}`)).toMatchObject({
      status: 200,
      body: { name: "Deletion Owner" },
    });
    expect(await send("GET", `/keys/${key.id}`)).toMatchObject({ status: 200, body: { name: "survivor" } });

    // Once the database lets it commit, the same deletion goes through with its rows.
    await database().prisma.$executeRawUnsafe("delete from commit_refusals");
    expect((await send("DELETE", `/users/${owner.id}`)).status).toBe(204);
    expect((await auditSince(audit)).map((row) => row.action)).toEqual(["user.deleted", "key.deleted"]);
  });
});

describe("key secrecy in the audit log", () => {
  it("holds no plaintext key and no key hash in any audit row", async () => {
    expect(issuedKeys.length).toBeGreaterThan(10);
    const rows = await database().prisma.$queryRaw<{ row: string }[]>`
      select row_to_json(a)::text as row from audit_events a order by id`;
    const dump = rows.map((r) => r.row).join("\n");
    // The rows do name the keys by their display prefix...
    expect(dump).toContain((issuedKeys[0] as string).slice(0, 11));
    // ...and hold none of the keys, whole or past their prefix, nor their hashes.
    for (const key of issuedKeys) {
      expect(dump).not.toContain(key);
      expect(dump).not.toContain(key.slice(11));
      expect(dump).not.toContain(hashApiKey(KEY_HASH_SECRET, key));
    }
  });
});
