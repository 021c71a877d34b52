import { Writable } from "node:stream";
import { encodeCursor, startServer } from "@apimon/http";
import { hashApiKey } from "@apimon/key-registry";
import { createLogger, createMetricsRegistry, type ReadinessCheck } from "@apimon/observability";
import { createTestDatabase, invalidRequest, type TestDatabase } from "@apimon/testkit";
import { createApp } from "../src/app";

const ADMIN_TOKEN = "keys-test-admin-token-0123456789";
const KEY_HASH_SECRET = "keys-test-hash-secret-0123456789abcdef";
const GRACE_SECONDS = 86_400;
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
const DEFAULT_LIMITS = { minute: 100, hour: 1000, day: 10000 };
const KEY_CHANGES = "keys.changes.v1";

let db: TestDatabase;
/** The service's clock; tests move it to make keys expire. */
let now = new Date();
/** Every line the service logged, to prove that no plaintext key reaches a log. */
const logLines: string[] = [];
/** Every plaintext key the API handed out, to prove that none is stored. */
const issuedKeys: string[] = [];

/** Times the API said a change and its outbox rows had committed. */
let changesQueued = 0;

function buildApp(checks: Record<string, ReadinessCheck> = {}, isShuttingDown = () => false) {
  const logger = createLogger({
    service: "keys",
    level: "info",
    destination: new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  });
  return createApp({
    logger,
    registry: createMetricsRegistry("keys", { defaultMetrics: false }),
    prisma: db.prisma,
    config: {
      adminToken: ADMIN_TOKEN,
      keyHashSecret: KEY_HASH_SECRET,
      graceSeconds: GRACE_SECONDS,
      defaults: DEFAULT_LIMITS,
    },
    clock: () => now,
    checks,
    isShuttingDown,
    onKeyChangesQueued: () => changesQueued++,
  });
}

let app: ReturnType<typeof buildApp>;

interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
  body: any;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: unknown = text;
  if (text === "") body = undefined;
  else if (res.headers.get("content-type")?.startsWith("application/json")) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body };
}

/** An authenticated JSON request; `body` is serialised unless it is already a string. */
async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { ...auth, ...headers } };
  if (body !== undefined) {
    init.headers = { ...auth, "content-type": "application/json", ...headers };
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  return answer(await app.request(path, init));
}

let emailCounter = 0;
async function createUser(name = "Ada Lovelace") {
  emailCounter += 1;
  const res = await call("POST", "/api/v1/users", { email: `user${emailCounter}@example.com`, name });
  expect(res.status).toBe(201);
  return res.body as { id: number; email: string; name: string; createdAt: string };
}

async function createKey(body: Record<string, unknown>) {
  const res = await call("POST", "/api/v1/keys", body);
  expect(res.status).toBe(201);
  issuedKeys.push(res.body.key);
  return res.body as { key: string; id: number; prefix: string } & Record<string, unknown>;
}

async function outboxMark(): Promise<bigint> {
  const last = await db.prisma.outbox.findFirst({ orderBy: { id: "desc" } });
  return last?.id ?? 0n;
}

async function outboxSince(mark: bigint) {
  const rows = await db.prisma.outbox.findMany({ where: { id: { gt: mark } }, orderBy: { id: "asc" } });
  return rows.map(({ topic, messageKey, payload, publishedAt }) => ({
    topic,
    messageKey,
    payload,
    publishedAt,
  }));
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = buildApp();
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(() => {
  now = new Date();
});

describe("users", () => {
  it("creates a user and answers it with 201", async () => {
    const res = await call("POST", "/api/v1/users", { email: "Grace@Example.com", name: "Grace Hopper" });
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      id: expect.any(Number),
      email: "grace@example.com",
      name: "Grace Hopper",
      createdAt: ISO,
    });

    const again = await call("GET", `/api/v1/users/${res.body.id}`);
    expect(again).toMatchObject({ status: 200, body: res.body });
  });

  it("refuses a second user with the same email, whatever its case, with 409", async () => {
    await call("POST", "/api/v1/users", { email: "alan@example.com", name: "Alan Turing" });
    for (const email of ["alan@example.com", "ALAN@example.com"]) {
      const res = await call("POST", "/api/v1/users", { email, name: "Another Alan" });
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ detail: "A user with this email already exists" });
    }
  });

  it("answers 404 for an unknown user and 400 for an id that cannot be one", async () => {
    expect(await call("GET", "/api/v1/users/999999")).toMatchObject({
      status: 404,
      body: { detail: "User not found" },
    });
    expect(await call("GET", "/api/v1/users/abc")).toMatchObject(
      invalidRequest("path", [{ field: "id", message: "must be an integer from 1 to 2147483647" }]),
    );
  });

  it("answers 400 listing every bad field of a body", async () => {
    const res = await call("POST", "/api/v1/users", { email: "not-an-email", name: "", role: "admin" });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      detail: "Invalid body",
      errors: [
        { field: "email", message: "must be a valid email address" },
        { field: "name", message: "must not be empty" },
        { field: "role", message: "is not a known field" },
      ],
    });
    // Addresses no mail server takes: a local part past 64 characters, or past 254 in all.
    expect(
      await call("POST", "/api/v1/users", { email: `${"l".repeat(65)}@example.com`, name: "Long" }),
    ).toMatchObject(
      invalidRequest("body", [{ field: "email", message: "must have at most 64 characters before the @" }]),
    );
    expect(
      await call("POST", "/api/v1/users", { email: `l@${"d".repeat(250)}.com`, name: "Long" }),
    ).toMatchObject(invalidRequest("body", [{ field: "email", message: "must be at most 254 characters" }]));
  });

  it("finds users by a part of their name or email, in any case, page by page", async () => {
    const found = [];
    for (const name of ["Searchable One", "Searchable Two", "Someone Else"])
      found.push(await createUser(name));
    const page = await call("GET", "/api/v1/users?search=SEARCHABLE&limit=1");
    expect(page.body.items.map((u: { id: number }) => u.id)).toEqual([found[0]?.id]);
    const next = await call("GET", `/api/v1/users?search=searchable&limit=1&cursor=${page.body.nextCursor}`);
    expect(next.body.items.map((u: { id: number }) => u.id)).toEqual([found[1]?.id]);
    const byEmail = await call("GET", `/api/v1/users?search=${encodeURIComponent(found[2]?.email ?? "")}`);
    expect(byEmail.body.items.map((u: { id: number }) => u.id)).toEqual([found[2]?.id]);
  });

  it("lists users in pages linked by an opaque cursor", async () => {
    for (let i = 0; i < 3; i++) await createUser(`Pager ${i}`);
    const all = await call("GET", "/api/v1/users?limit=100");
    expect(all.status).toBe(200);
    expect(all.body.nextCursor).toBeNull();
    const ids = all.body.items.map((u: { id: number }) => u.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));

    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? "limit=2" : `limit=2&cursor=${cursor}`;
      const page = await call("GET", `/api/v1/users?${query}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((u: { id: number }) => u.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(ids);
    expect(all.body.items[0]).toEqual({
      id: ids[0],
      email: expect.any(String),
      name: expect.any(String),
      createdAt: ISO,
    });
  });
});

describe("changing and deleting users", () => {
  it("updates a user's email and name, lower-casing the email as creation does", async () => {
    const user = await createUser("Before");
    const res = await call("PATCH", `/api/v1/users/${user.id}`, {
      email: "After@Example.com",
      name: " After ",
    });
    expect(res).toMatchObject({
      status: 200,
      body: { id: user.id, email: "after@example.com", name: "After", createdAt: user.createdAt },
    });
    expect((await call("GET", `/api/v1/users/${user.id}`)).body).toEqual(res.body);
    expect(await call("PATCH", `/api/v1/users/${user.id}`, { name: "Only the name" })).toMatchObject({
      status: 200,
      body: { email: "after@example.com", name: "Only the name" },
    });
  });

  it("refuses another user's email with 409, an empty change with 400, and an unknown user with 404", async () => {
    const first = await createUser("First");
    const second = await createUser("Second");
    expect(await call("PATCH", `/api/v1/users/${second.id}`, { email: first.email.toUpperCase() })).toEqual(
      expect.objectContaining({ status: 409, body: { detail: "A user with this email already exists" } }),
    );
    expect(await call("PATCH", `/api/v1/users/${second.id}`, {})).toMatchObject(
      invalidRequest("body", [{ field: "(body)", message: "must change at least one of email, name" }]),
    );
    expect(await call("PATCH", `/api/v1/users/${second.id}`, { email: "x", role: "admin" })).toMatchObject(
      invalidRequest("body", [
        { field: "email", message: "must be a valid email address" },
        { field: "role", message: "is not a known field" },
      ]),
    );
    expect(await call("PATCH", "/api/v1/users/999999", { name: "Nobody" })).toMatchObject({
      status: 404,
      body: { detail: "User not found" },
    });
    expect((await call("GET", `/api/v1/users/${second.id}`)).body).toEqual(second);
  });

  it("deletes a user with every key of theirs, a tombstone for each, and leaves other users' keys", async () => {
    const owner = await createUser("Leaving");
    const other = await createUser("Staying");
    const theirs = [
      await createKey({ userId: owner.id, name: "one" }),
      await createKey({ userId: owner.id, name: "two" }),
    ];
    const rotated = await call("POST", `/api/v1/keys/${theirs[0]?.id}/rotate`, {});
    issuedKeys.push(rotated.body.key);
    const kept = await createKey({ userId: other.id, name: "kept" });
    const before = changesQueued;
    const mark = await outboxMark();

    const res = await call("DELETE", `/api/v1/users/${owner.id}`);
    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();
    expect(changesQueued).toBe(before + 1);

    const tombstones = await outboxSince(mark);
    expect(tombstones).toEqual(
      [theirs[0]?.key, theirs[1]?.key, rotated.body.key].map((key) => ({
        topic: KEY_CHANGES,
        messageKey: hashApiKey(KEY_HASH_SECRET, key),
        payload: null,
        publishedAt: null,
      })),
    );
    expect(await call("GET", `/api/v1/users/${owner.id}`)).toMatchObject({ status: 404 });
    for (const id of [theirs[0]?.id, theirs[1]?.id, rotated.body.id])
      expect(await call("GET", `/api/v1/keys/${id}`)).toMatchObject({ status: 404 });
    expect(await call("GET", `/api/v1/keys/${kept.id}`)).toMatchObject({
      status: 200,
      body: { name: "kept" },
    });
    expect(await call("DELETE", `/api/v1/users/${owner.id}`)).toMatchObject({
      status: 404,
      body: { detail: "User not found" },
    });
    expect(changesQueued).toBe(before + 1);
    // Its email is free again.
    expect((await call("POST", "/api/v1/users", { email: owner.email, name: "Back" })).status).toBe(201);
  });

  it("leaves no key without a tombstone when keys are created and rotated while their user is deleted", async () => {
    for (let round = 0; round < 20; round++) {
      const owner = await createUser(`Racing ${round}`);
      const rotating = await createKey({ userId: owner.id, name: "rotating" });
      const mark = await outboxMark();
      // The rotation starts first: it often holds its key when the deletion asks for it, the
      // interleaving in which two transactions that take user and key in opposite orders deadlock.
      const [rotated, deleted, ...others] = await Promise.all([
        call("POST", `/api/v1/keys/${rotating.id}/rotate`, {}),
        call("DELETE", `/api/v1/users/${owner.id}`),
        call("POST", "/api/v1/keys", { userId: owner.id, name: "late" }),
        call("POST", "/api/v1/keys", { userId: owner.id, name: "later" }),
      ]);
      expect(deleted?.status).toBe(204);
      for (const other of [rotated, ...others]) {
        if (other.status === 201) issuedKeys.push(other.body.key);
        // Made before the deletion took the user (and deleted with them), or after (no user).
        expect([201, 404, 409]).toContain(other.status);
      }
      expect(await db.prisma.apiKey.count({ where: { userId: owner.id } })).toBe(0);
      // Every key whose state went out has a tombstone after it.
      const rows = await outboxSince(mark);
      const last = new Map(rows.map((row) => [row.messageKey, row.payload]));
      expect([...last.values()].every((payload) => payload === null)).toBe(true);
      expect(last.has(hashApiKey(KEY_HASH_SECRET, rotating.key))).toBe(true);
    }
  });
});

describe("API keys", () => {
  let user: Awaited<ReturnType<typeof createUser>>;

  beforeAll(async () => {
    user = await createUser("Key Owner");
  });

  it("creates a key and shows its plaintext once, storing only its hash and prefix", async () => {
    const res = await call("POST", "/api/v1/keys", { userId: user.id, name: "ci" });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const key: string = res.body.key;
    issuedKeys.push(key);
    expect(key).toMatch(/^ak_[A-Za-z0-9_-]{32}$/);
    // What both the creation answer and a later read show of the key.
    const shownAlways = {
      userId: user.id,
      name: "ci",
      description: null,
      prefix: key.slice(0, 11),
      isActive: true,
      state: "active",
      rateLimits: DEFAULT_LIMITS,
      expiresAt: null,
    };
    expect(res.body).toEqual({ key, id: expect.any(Number), ...shownAlways, createdAt: ISO });

    const row = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(row.keyHash).toBe(hashApiKey(KEY_HASH_SECRET, key));
    expect(row.keyPrefix).toBe(key.slice(0, 11));

    const read = await call("GET", `/api/v1/keys/${res.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual({
      id: res.body.id,
      ...shownAlways,
      createdAt: res.body.createdAt,
      usageCount: 0,
      lastUsed: null,
      rotatedFromId: null,
      updatedAt: ISO,
    });
    const list = await call("GET", `/api/v1/keys?userId=${user.id}`);
    for (const shown of [read, list]) {
      expect(JSON.stringify(shown.body)).not.toContain(key);
      expect(JSON.stringify(shown.body)).not.toContain(row.keyHash);
    }
  });

  it("answers a key's effective limits, description and expiry in UTC", async () => {
    const created = await createKey({
      userId: user.id,
      name: "partner",
      description: "Partner integration\nsecond line",
      rateLimits: { minute: 5, day: 500 },
      expiresAt: "2099-01-01T02:00:00+02:00",
    });
    expect(created).toMatchObject({
      description: "Partner integration\nsecond line",
      rateLimits: { minute: 5, hour: 1000, day: 500 },
      expiresAt: "2099-01-01T00:00:00.000Z",
    });
  });

  it("refuses an expiry in the past", async () => {
    const res = await call("POST", "/api/v1/keys", {
      userId: user.id,
      name: "late",
      expiresAt: new Date(now.getTime() - 1000).toISOString(),
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      detail: "Invalid body",
      errors: [{ field: "expiresAt", message: "must be in the future" }],
    });
  });

  it("answers 404 for a key of an unknown user and stores nothing", async () => {
    const before = await db.prisma.apiKey.count();
    const res = await call("POST", "/api/v1/keys", { userId: 999_999, name: "orphan" });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ detail: "User not found" });
    expect(await db.prisma.apiKey.count()).toBe(before);
  });

  it("shows the usage that key-stats records", async () => {
    const { id } = await createKey({ userId: user.id, name: "used" });
    const lastUsed = new Date("2026-11-28T10:15:30.123Z");
    await db.prisma.apiKey.update({ where: { id }, data: { usageCount: 1234n, lastUsed } });
    const res = await call("GET", `/api/v1/keys/${id}`);
    expect(res.body).toMatchObject({ id, usageCount: 1234, lastUsed: "2026-11-28T10:15:30.123Z" });
  });

  it("lists keys filtered by user and by whether the edge accepts them", async () => {
    const owner = await createUser("Filter Owner");
    const live = await createKey({ userId: owner.id, name: "live" });
    const off = await createKey({ userId: owner.id, name: "off" });
    const expiring = await createKey({
      userId: owner.id,
      name: "expiring",
      expiresAt: new Date(now.getTime() + 60_000).toISOString(),
    });
    expect((await call("PATCH", `/api/v1/keys/${off.id}`, { isActive: false })).status).toBe(200);

    const names = async (query: string) => {
      const res = await call("GET", `/api/v1/keys?${query}`);
      expect(res.status).toBe(200);
      return res.body.items.map((k: { name: string }) => k.name);
    };
    const states = async () => {
      const res = await call("GET", `/api/v1/keys?userId=${owner.id}`);
      return res.body.items.map((k: { name: string; state: string }) => `${k.name} ${k.state}`);
    };
    expect(await names(`userId=${owner.id}`)).toEqual(["live", "off", "expiring"]);
    expect(await names(`userId=${owner.id}&active=true`)).toEqual(["live", "expiring"]);
    expect(await names(`userId=${owner.id}&active=false`)).toEqual(["off"]);
    expect(await states()).toEqual(["live active", "off deactivated", "expiring active"]);

    now = new Date(now.getTime() + 120_000); // the expiring key has expired
    expect(await names(`userId=${owner.id}&active=true`)).toEqual(["live"]);
    expect(await names(`userId=${owner.id}&active=false`)).toEqual(["off", "expiring"]);
    expect(await states()).toEqual(["live active", "off deactivated", "expiring expired"]);
    expect((await call("GET", `/api/v1/keys/${expiring.id}`)).body.state).toBe("expired");

    const first = await call("GET", `/api/v1/keys?userId=${owner.id}&limit=2`);
    expect(first.body.items.map((k: { id: number }) => k.id)).toEqual([live.id, off.id]);
    expect(first.body.nextCursor).toBe(encodeCursor(off.id));
    const second = await call(
      "GET",
      `/api/v1/keys?userId=${owner.id}&limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(second.body).toEqual({ items: [expect.objectContaining({ id: expiring.id })], nextCursor: null });
  });

  it("lists only the keys asked for by id, leaving out ids it does not have", async () => {
    const owner = await createUser("Ids Owner");
    const a = await createKey({ userId: owner.id, name: "ids-a" });
    const b = await createKey({ userId: owner.id, name: "ids-b" });
    await createKey({ userId: owner.id, name: "ids-c" });
    const res = await call("GET", `/api/v1/keys?ids=${b.id},${a.id},${b.id},2147483647`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((k: { name: string }) => k.name)).toEqual(["ids-a", "ids-b"]);
    expect(res.body.nextCursor).toBeNull();
    const refused = await call("GET", `/api/v1/keys?ids=${a.id},x`);
    expect(refused).toEqual(
      expect.objectContaining(
        invalidRequest("query", [
          {
            field: "ids",
            message: "must be a comma-separated list of 1 to 100 ids, each from 1 to 2147483647",
          },
        ]),
      ),
    );
    const many = Array.from({ length: 101 }, (_, i) => i + 1).join(",");
    expect((await call("GET", `/api/v1/keys?ids=${many}`)).status).toBe(400);
  });

  it("lists only the users asked for by id, leaving out ids it does not have", async () => {
    const a = await createUser("Ids User A");
    const b = await createUser("Ids User B");
    await createUser("Ids User C");
    const res = await call("GET", `/api/v1/users?ids=${b.id},${a.id},${b.id},2147483647`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((u: { name: string }) => u.name)).toEqual(["Ids User A", "Ids User B"]);
    expect(res.body.nextCursor).toBeNull();
    expect((await call("GET", `/api/v1/users?ids=${a.id},x`)).body.errors).toEqual([
      { field: "ids", message: "must be a comma-separated list of 1 to 100 ids, each from 1 to 2147483647" },
    ]);
  });

  it("finds keys by a part of their name, in any case, or by the start of their prefix", async () => {
    const owner = await createUser("Searcher");
    const billing = await createKey({ userId: owner.id, name: "Billing 50% off" });
    const mobile = await createKey({ userId: owner.id, name: "mobile app" });
    const ids = async (query: string) => {
      const res = await call("GET", `/api/v1/keys?userId=${owner.id}&${query}`);
      expect(res.status).toBe(200);
      return res.body.items.map((k: { id: number }) => k.id);
    };
    expect(await ids("search=BILLING")).toEqual([billing.id]);
    expect(await ids("search=%20app%20")).toEqual([mobile.id]);
    expect(await ids(`search=${encodeURIComponent(billing.prefix)}`)).toEqual([billing.id]);
    expect(await ids(`search=${encodeURIComponent(mobile.prefix.slice(0, 7))}`)).toContain(mobile.id);
    // Only the start of a prefix, and LIKE's wildcards are plain characters.
    expect(await ids(`search=${encodeURIComponent(billing.prefix.slice(3))}`)).toEqual([]);
    expect(await ids("search=50%25")).toEqual([billing.id]);
    expect(await ids("search=_")).toEqual([]);
    expect(await ids("search=%25")).toEqual([billing.id]);
    // A backslash too: unescaped, it would make the % after it literal and match "50% off".
    expect(await ids("search=%5C")).toEqual([]);
    expect(await ids("search=nothing-like-it")).toEqual([]);
    expect(await call("GET", "/api/v1/keys?search=%20")).toMatchObject(
      invalidRequest("query", [{ field: "search", message: "must not be empty" }]),
    );
  });

  it("refuses a list query it cannot read, naming the parameter", async () => {
    expect(await call("GET", "/api/v1/keys?cursor=bogus&limit=500&active=yes&user=1")).toEqual(
      expect.objectContaining(
        invalidRequest("query", [
          { field: "cursor", message: "Invalid cursor" },
          { field: "limit", message: "must be an integer from 1 to 100" },
          { field: "active", message: "must be true or false" },
          { field: "user", message: "is not a known field" },
        ]),
      ),
    );
  });

  it("updates name, description, activity and limits; null puts a limit back on its default", async () => {
    const { id } = await createKey({ userId: user.id, name: "patch-me", description: "old" });
    const patched = await call("PATCH", `/api/v1/keys/${id}`, {
      name: "patched",
      description: null,
      isActive: false,
      rateLimits: { minute: 7, hour: 70 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      id,
      name: "patched",
      description: null,
      isActive: false,
      rateLimits: { minute: 7, hour: 70, day: 10000 },
    });
    const reset = await call("PATCH", `/api/v1/keys/${id}`, { rateLimits: { minute: null } });
    expect(reset.body).toMatchObject({ name: "patched", rateLimits: { minute: 100, hour: 70, day: 10000 } });
    expect(await call("GET", `/api/v1/keys/${id}`)).toMatchObject({ body: reset.body });
  });

  it("sets, moves and clears a key's expiry, which the edge learns from the outbox; never one in the past", async () => {
    now = new Date("2030-06-01T12:00:00.000Z");
    const key = await createKey({ userId: user.id, name: "temporary" });
    const mark = await outboxMark();
    const set = await call("PATCH", `/api/v1/keys/${key.id}`, { expiresAt: "2030-06-30T23:59:59+02:00" });
    expect(set).toMatchObject({
      status: 200,
      body: { expiresAt: "2030-06-30T21:59:59.000Z", state: "active" },
    });
    expect(await outboxSince(mark)).toEqual([
      expect.objectContaining({
        payload: expect.objectContaining({ id: key.id, expiresAt: "2030-06-30T21:59:59.000Z" }),
      }),
    ]);
    now = new Date("2030-07-01T00:00:00.000Z");
    expect((await call("GET", `/api/v1/keys/${key.id}`)).body).toMatchObject({ state: "expired" });

    // An expired key comes back with a later expiry, or none.
    expect(
      await call("PATCH", `/api/v1/keys/${key.id}`, { expiresAt: "2030-08-01T00:00:00Z" }),
    ).toMatchObject({
      status: 200,
      body: { state: "active", expiresAt: "2030-08-01T00:00:00.000Z" },
    });
    expect(await call("PATCH", `/api/v1/keys/${key.id}`, { expiresAt: null })).toMatchObject({
      status: 200,
      body: { state: "active", expiresAt: null },
    });

    const before = await outboxMark();
    for (const expiresAt of ["2030-07-01T00:00:00Z", "2020-01-01T00:00:00Z"]) {
      expect(await call("PATCH", `/api/v1/keys/${key.id}`, { expiresAt })).toMatchObject(
        invalidRequest("body", [{ field: "expiresAt", message: "must be in the future" }]),
      );
    }
    expect(await call("PATCH", `/api/v1/keys/${key.id}`, { expiresAt: "next week" })).toMatchObject(
      invalidRequest("body", [{ field: "expiresAt", message: "must be an ISO-8601 date-time" }]),
    );
    expect(await outboxSince(before)).toEqual([]);
    expect((await call("GET", `/api/v1/keys/${key.id}`)).body).toMatchObject({ expiresAt: null });
  });

  it("refuses an empty update and answers 404 for an unknown key", async () => {
    const { id } = await createKey({ userId: user.id, name: "unchanged" });
    expect(await call("PATCH", `/api/v1/keys/${id}`, {})).toMatchObject(
      invalidRequest("body", [
        {
          field: "(body)",
          message: "must change at least one of name, description, isActive, expiresAt, rateLimits",
        },
      ]),
    );
    expect(await call("PATCH", "/api/v1/keys/999999", { name: "x" })).toMatchObject({
      status: 404,
      body: { detail: "API key not found" },
    });
    expect(await call("GET", "/api/v1/keys/999999")).toMatchObject({
      status: 404,
      body: { detail: "API key not found" },
    });
  });

  it("rotates a key: a successor with the same policy, the old one working for the grace period", async () => {
    const old = await createKey({
      userId: user.id,
      name: "rotate-me",
      description: "svc",
      rateLimits: { hour: 42 },
    });
    now = new Date("2030-06-01T12:00:00.000Z");
    const res = await call("POST", `/api/v1/keys/${old.id}/rotate`, { gracePeriodSeconds: 3600 });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    issuedKeys.push(res.body.key);
    expect(res.body).toEqual({
      key: expect.stringMatching(/^ak_/),
      id: expect.any(Number),
      userId: user.id,
      name: "rotate-me",
      description: "svc",
      prefix: res.body.key.slice(0, 11),
      isActive: true,
      state: "active",
      rateLimits: { minute: 100, hour: 42, day: 10000 },
      expiresAt: null,
      createdAt: ISO,
      rotatedFromId: old.id,
    });
    expect(res.body.key).not.toBe(old.key);

    const oldNow = await call("GET", `/api/v1/keys/${old.id}`);
    expect(oldNow.body).toMatchObject({
      isActive: true,
      state: "active",
      expiresAt: "2030-06-01T13:00:00.000Z",
    });
    const successor = await call("GET", `/api/v1/keys/${res.body.id}`);
    expect(successor.body).toMatchObject({ rotatedFromId: old.id, expiresAt: null });
    const stored = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(stored.keyHash).toBe(hashApiKey(KEY_HASH_SECRET, res.body.key));

    // Still inside its grace period, the old key cannot be rotated a second time.
    expect(await call("POST", `/api/v1/keys/${old.id}/rotate`, {})).toMatchObject({
      status: 409,
      body: { detail: "API key was already rotated" },
    });
  });

  it("lets only one of several concurrent rotations of a key succeed", async () => {
    const { id } = await createKey({ userId: user.id, name: "contended" });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => call("POST", `/api/v1/keys/${id}/rotate`, { gracePeriodSeconds: 60 })),
    );
    const won = results.filter((r) => r.status === 201);
    expect(won).toHaveLength(1);
    issuedKeys.push(won[0]?.body.key);
    expect(results.filter((r) => r.status === 409).map((r) => r.body)).toEqual(
      Array.from({ length: 4 }, () => ({ detail: "API key was already rotated" })),
    );
    expect(await db.prisma.apiKey.count({ where: { rotatedFromId: id } })).toBe(1);
  });

  it("gives the configured grace period when the rotation names none, and never extends an expiry", async () => {
    const plain = await createKey({ userId: user.id, name: "default-grace" });
    now = new Date("2030-06-01T12:00:00.000Z");
    const rotated = await call("POST", `/api/v1/keys/${plain.id}/rotate`);
    expect(rotated.status).toBe(201);
    issuedKeys.push(rotated.body.key);
    expect((await call("GET", `/api/v1/keys/${plain.id}`)).body.expiresAt).toBe("2030-06-02T12:00:00.000Z");

    const soon = await createKey({ userId: user.id, name: "soon", expiresAt: "2030-06-01T12:30:00.000Z" });
    const again = await call("POST", `/api/v1/keys/${soon.id}/rotate`, { gracePeriodSeconds: 86_400 });
    issuedKeys.push(again.body.key);
    expect(again.body.expiresAt).toBe("2030-06-01T12:30:00.000Z");
    expect((await call("GET", `/api/v1/keys/${soon.id}`)).body.expiresAt).toBe("2030-06-01T12:30:00.000Z");
  });

  it("refuses to rotate an inactive or expired key with 409, and an unknown one with 404", async () => {
    const inactive = await createKey({ userId: user.id, name: "inactive" });
    await call("PATCH", `/api/v1/keys/${inactive.id}`, { isActive: false });
    const expired = await createKey({
      userId: user.id,
      name: "expired",
      expiresAt: new Date(now.getTime() + 1000).toISOString(),
    });
    now = new Date(now.getTime() + 5000);
    for (const id of [inactive.id, expired.id]) {
      expect(await call("POST", `/api/v1/keys/${id}/rotate`, {})).toMatchObject({
        status: 409,
        body: { detail: "API key is inactive or expired and cannot be rotated" },
      });
    }
    expect(await call("POST", "/api/v1/keys/999999/rotate", {})).toMatchObject({
      status: 404,
      body: { detail: "API key not found" },
    });
  });

  it("deletes a key: 204, then 404", async () => {
    const { id } = await createKey({ userId: user.id, name: "doomed" });
    const res = await call("DELETE", `/api/v1/keys/${id}`);
    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();
    expect(await call("GET", `/api/v1/keys/${id}`)).toMatchObject({
      status: 404,
      body: { detail: "API key not found" },
    });
    expect(await call("DELETE", `/api/v1/keys/${id}`)).toMatchObject({
      status: 404,
      body: { detail: "API key not found" },
    });
  });
});

describe("outbox", () => {
  let userId: number;

  beforeAll(async () => {
    userId = (await createUser("Outbox Owner")).id;
  });

  it("writes a created key's state in the same transaction", async () => {
    const mark = await outboxMark();
    const key = await createKey({ userId, name: "announced", rateLimits: { minute: 9 } });
    const row = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    expect(await outboxSince(mark)).toEqual([
      {
        topic: KEY_CHANGES,
        messageKey: row.keyHash,
        publishedAt: null,
        payload: {
          id: key.id,
          userId,
          keyHash: row.keyHash,
          keyPrefix: key.prefix,
          active: true,
          expiresAt: null,
          rateLimits: { minute: 9, hour: null, day: null },
          updatedAt: row.updatedAt.toISOString(),
        },
      },
    ]);
  });

  it("writes nothing when the change fails", async () => {
    const mark = await outboxMark();
    expect((await call("POST", "/api/v1/keys", { userId: 999_999, name: "nobody" })).status).toBe(404);
    expect((await call("PATCH", "/api/v1/keys/999999", { isActive: false })).status).toBe(404);
    expect(await outboxSince(mark)).toEqual([]);
  });

  it("writes an update's new state", async () => {
    const key = await createKey({ userId, name: "toggled" });
    const mark = await outboxMark();
    await call("PATCH", `/api/v1/keys/${key.id}`, { isActive: false });
    expect(await outboxSince(mark)).toEqual([
      expect.objectContaining({ payload: expect.objectContaining({ id: key.id, active: false }) }),
    ]);
  });

  it("writes both keys of a rotation: the successor and the old key's shortened life", async () => {
    const old = await createKey({ userId, name: "rotated" });
    now = new Date("2030-06-01T12:00:00.000Z");
    const mark = await outboxMark();
    const res = await call("POST", `/api/v1/keys/${old.id}/rotate`, { gracePeriodSeconds: 60 });
    issuedKeys.push(res.body.key);
    const rows = await outboxSince(mark);
    expect(rows).toEqual([
      expect.objectContaining({
        messageKey: hashApiKey(KEY_HASH_SECRET, res.body.key),
        payload: expect.objectContaining({ id: res.body.id, active: true, expiresAt: null }),
      }),
      expect.objectContaining({
        messageKey: hashApiKey(KEY_HASH_SECRET, old.key),
        payload: expect.objectContaining({ id: old.id, active: true, expiresAt: "2030-06-01T12:01:00.000Z" }),
      }),
    ]);
  });

  it("says so after each committed change, so that the relay publishes it at once, and not after a refused one", async () => {
    const before = changesQueued;
    const key = await createKey({ userId, name: "told" });
    expect(changesQueued).toBe(before + 1);
    await call("PATCH", `/api/v1/keys/${key.id}`, { name: "told again" });
    expect(changesQueued).toBe(before + 2);
    const rotated = await call("POST", `/api/v1/keys/${key.id}/rotate`, {});
    expect(rotated.status).toBe(201);
    issuedKeys.push(rotated.body.key);
    expect(changesQueued).toBe(before + 3);
    expect((await call("DELETE", `/api/v1/keys/${key.id}`)).status).toBe(204);
    expect(changesQueued).toBe(before + 4);
    expect((await call("PATCH", "/api/v1/keys/999999", { isActive: false })).status).toBe(404);
    expect((await call("DELETE", `/api/v1/keys/${key.id}`)).status).toBe(404);
    expect(changesQueued).toBe(before + 4);
  });

  it("writes a tombstone (null payload) under the hash of a deleted key", async () => {
    const key = await createKey({ userId, name: "tombstoned" });
    const mark = await outboxMark();
    expect((await call("DELETE", `/api/v1/keys/${key.id}`)).status).toBe(204);
    expect(await outboxSince(mark)).toEqual([
      {
        topic: KEY_CHANGES,
        messageKey: hashApiKey(KEY_HASH_SECRET, key.key),
        payload: null,
        publishedAt: null,
      },
    ]);
  });
});

describe("admin authentication", () => {
  const endpoints: [string, string][] = [
    ["POST", "/api/v1/users"],
    ["GET", "/api/v1/users"],
    ["GET", "/api/v1/users/1"],
    ["POST", "/api/v1/keys"],
    ["GET", "/api/v1/keys"],
    ["GET", "/api/v1/keys/1"],
    ["PATCH", "/api/v1/keys/1"],
    ["POST", "/api/v1/keys/1/rotate"],
    ["DELETE", "/api/v1/keys/1"],
    ["GET", "/api/v1/nowhere"],
  ];
  const credentials: [string, Record<string, string>][] = [
    ["no token", {}],
    ["a wrong token", { authorization: "Bearer wrong-token-of-some-length" }],
    ["a token that only starts right", { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` }],
    ["the token under another scheme", { authorization: `Basic ${ADMIN_TOKEN}` }],
  ];

  it.each(
    endpoints.flatMap(([method, path]) =>
      credentials.map(([what, headers]) => [method, path, what, headers] as const),
    ),
  )("%s %s answers 401 with %s", async (method, path, _what, headers) => {
    const res = await answer(
      await app.request(path, {
        method,
        headers: { "content-type": "application/json", ...headers },
        body: method === "GET" || method === "DELETE" ? undefined : JSON.stringify({ name: "x" }),
      }),
    );
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
    expect(res.body).toEqual({ detail: "Not authenticated" });
  });

  it("serves health, readiness, metrics and the OpenAPI document without a token", async () => {
    expect(await answer(await app.request("/healthz"))).toMatchObject({
      status: 200,
      body: { status: "ok" },
    });
    expect(await answer(await app.request("/readyz"))).toMatchObject({
      status: 200,
      body: { status: "ready", checks: { database: { ok: true } } },
    });
    const metrics = await answer(await app.request("/metrics"));
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain("http_requests_total");
    const doc = await answer(await app.request("/openapi.json"));
    expect(doc.status).toBe(200);
    expect(doc.body).toMatchObject({ openapi: "3.1.0", info: { title: "apimon keys service" } });
  });

  it("is not ready while an extra check fails or shutdown is under way", async () => {
    const failing = buildApp({ outboxRelay: () => ({ ok: false, detail: "kafka unreachable" }) });
    expect(await answer(await failing.request("/readyz"))).toMatchObject({
      status: 503,
      body: {
        status: "not_ready",
        checks: { database: { ok: true }, outboxRelay: { ok: false, detail: "kafka unreachable" } },
      },
    });
    const stopping = buildApp({}, () => true);
    expect(await answer(await stopping.request("/readyz"))).toMatchObject({
      status: 503,
      body: { status: "shutting_down" },
    });
  });
});

describe("malformed input never causes a 500", () => {
  let keyId: number;
  let ownerId: number;
  const huge = "x".repeat(100_000);
  const large = "y".repeat(60_000);

  beforeAll(async () => {
    const owner = await createUser("Fuzz Owner");
    ownerId = owner.id;
    keyId = (await createKey({ userId: owner.id, name: "fuzz target" })).id;
  });

  type Init = { body?: string | Uint8Array; headers?: Record<string, string> };
  const asJson = (body: string): Init => ({ body, headers: { "content-type": "application/json" } });
  const bodies: [string, Init][] = [
    ["malformed JSON", asJson('{"name": ')],
    ["an empty JSON body", asJson("")],
    ["JSON null", asJson("null")],
    ["a JSON array", asJson("[1, 2, 3]")],
    ["a JSON string", asJson('"hello"')],
    ["a JSON number", asJson("42")],
    ["deeply nested arrays", asJson(`${"[".repeat(5000)}${"]".repeat(5000)}`)],
    [
      "wrong types everywhere",
      asJson(
        JSON.stringify({
          userId: "1",
          email: ["a@example.com"],
          name: { first: "a" },
          description: 7,
          rateLimits: "lots",
          expiresAt: 17,
          isActive: "yes",
          gracePeriodSeconds: "10",
        }),
      ),
    ],
    [
      "nulls everywhere",
      asJson(
        JSON.stringify({ userId: null, email: null, name: null, isActive: null, gracePeriodSeconds: null }),
      ),
    ],
    ["unknown fields only", asJson(JSON.stringify({ admin: true, __proto__x: 1 }))],
    ["a __proto__ key", asJson('{"__proto__": {"isActive": true}, "constructor": {"prototype": {}}}')],
    [
      "numbers beyond every column",
      asJson('{"userId": 1e999, "rateLimits": {"minute": 1e99}, "gracePeriodSeconds": 99999999999}'),
    ],
    [
      "negative numbers",
      asJson(JSON.stringify({ userId: -1, rateLimits: { day: -5 }, gracePeriodSeconds: -1 })),
    ],
    [
      "NUL and control characters",
      asJson(JSON.stringify({ email: "a\u0000@example.com", name: "\u0000\u0007", description: "\u0000" })),
    ],
    [
      "100 KB strings (over the body limit)",
      asJson(JSON.stringify({ email: huge, name: huge, description: huge })),
    ],
    ["60 KB strings (under the body limit)", asJson(JSON.stringify({ name: large }))],
    ["a rate limit of the wrong shape", asJson(JSON.stringify({ rateLimits: [100, 1000, 10000] }))],
    [
      "an impossible date",
      asJson(JSON.stringify({ userId: 1, name: "k", expiresAt: "2030-02-30T00:00:00Z" })),
    ],
    ["no content type", { body: new TextEncoder().encode(JSON.stringify({ name: "x" })) }],
    [
      "a text content type",
      { body: JSON.stringify({ name: "x" }), headers: { "content-type": "text/plain" } },
    ],
    [
      "a form body",
      { body: "name=x&email=y", headers: { "content-type": "application/x-www-form-urlencoded" } },
    ],
    [
      "a multipart body",
      { body: "--b\r\n\r\nx\r\n--b--", headers: { "content-type": "multipart/form-data; boundary=b" } },
    ],
    [
      "invalid UTF-8",
      {
        body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
        headers: { "content-type": "application/json" },
      },
    ],
  ];
  const withBodies = (): [string, string][] => [
    ["POST", "/api/v1/users"],
    ["POST", "/api/v1/keys"],
    ["PATCH", `/api/v1/keys/${keyId}`],
    ["POST", `/api/v1/keys/${keyId}/rotate`],
    ["PATCH", `/api/v1/users/${ownerId}`],
  ];
  const badIds: [string, string][] = [
    ...["abc", "-1", "0", "1e99", "99999999999", "1.5", "%00", "%20"].map((id): [string, string] => [id, id]),
    ["5000 letters", "x".repeat(5000)],
  ];
  const badQueries: [string, string][] = [
    ...[
      "limit=abc",
      "limit=1e99",
      "limit=0",
      "limit=-5",
      "cursor=%00",
      "userId=abc",
      "userId=99999999999",
      "active=maybe",
      "ids=",
      "ids=1,,2",
      "search=",
      `search=${"s".repeat(201)}`,
      "search=a%00b",
      `ids=${"1,".repeat(2000)}1`,
      "unknown=1",
      "limit=1&limit=2&limit[]=3",
    ].map((query): [string, string] => [query, query]),
    ["a 5000-character cursor", `cursor=${"A".repeat(5000)}`],
  ];

  async function expectClientError(method: string, path: string, init: Init) {
    const res = await answer(
      await app.request(path, { method, body: init.body, headers: { ...auth, ...init.headers } }),
    );
    if (res.status < 400 || res.status > 499)
      throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body).toEqual(expect.objectContaining({ detail: expect.any(String) }));
  }

  it.each(bodies)("answers 4xx with a detail for %s, on every endpoint with a body", async (name, init) => {
    for (const [method, path] of withBodies()) {
      // A rotation's body may be left out, and no bytes is no body, whatever the content type.
      if (name === "an empty JSON body" && path.endsWith("/rotate")) continue;
      await expectClientError(method, path, init);
    }
  });

  it.each(badIds)(
    "answers 4xx with a detail for the id %s, on every endpoint with an id",
    async (_case, id) => {
      const body = asJson('{"name":"x"}');
      await expectClientError("GET", `/api/v1/keys/${id}`, {});
      await expectClientError("PATCH", `/api/v1/keys/${id}`, body);
      await expectClientError("DELETE", `/api/v1/keys/${id}`, {});
      await expectClientError("POST", `/api/v1/keys/${id}/rotate`, body);
      await expectClientError("GET", `/api/v1/users/${id}`, {});
      await expectClientError("PATCH", `/api/v1/users/${id}`, body);
      await expectClientError("DELETE", `/api/v1/users/${id}`, {});
    },
  );

  it.each(badQueries)("answers 4xx with a detail for the query %s, on both lists", async (_case, query) => {
    await expectClientError("GET", `/api/v1/keys?${query}`, {});
    await expectClientError("GET", `/api/v1/users?${query}`, {});
  });

  it("refuses an oversize body with 413 before reading it", async () => {
    const res = await call("POST", "/api/v1/users", { email: "big@example.com", name: huge });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ detail: "Request body larger than 65536 bytes" });
  });

  it("leaves the fuzzed key and its owner as they were", async () => {
    expect((await call("GET", `/api/v1/users/${ownerId}`)).body).toMatchObject({ name: "Fuzz Owner" });
    expect((await call("GET", `/api/v1/keys/${keyId}`)).body).toMatchObject({
      name: "fuzz target",
      isActive: true,
      rotatedFromId: null,
      expiresAt: null,
    });
  });
});

describe("over a real HTTP server", () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let base: string;

  beforeAll(async () => {
    server = await startServer(app, { port: 0, hostname: "127.0.0.1" });
    base = `http://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await server.close();
  });

  it("creates a user and a key, and rotates it with no body at all", async () => {
    const headers = { ...auth, "content-type": "application/json" };
    const user = await answer(
      await fetch(`${base}/api/v1/users`, {
        method: "POST",
        headers,
        body: JSON.stringify({ email: "wire@example.com", name: "Wire" }),
      }),
    );
    expect(user.status).toBe(201);
    const key = await answer(
      await fetch(`${base}/api/v1/keys`, {
        method: "POST",
        headers,
        body: JSON.stringify({ userId: user.body.id, name: "wire" }),
      }),
    );
    expect(key.status).toBe(201);
    issuedKeys.push(key.body.key);
    // fetch sends Content-Length: 0 and no content type.
    const rotated = await answer(
      await fetch(`${base}/api/v1/keys/${key.body.id}/rotate`, { method: "POST", headers: auth }),
    );
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ rotatedFromId: key.body.id, name: "wire" });
    issuedKeys.push(rotated.body.key);
  });

  it("answers 413 for a body whose Content-Length is too large, and 400 for malformed JSON", async () => {
    const big = await answer(
      await fetch(`${base}/api/v1/users`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: new Uint8Array(200_000).fill(0x20),
      }),
    );
    expect(big).toMatchObject({ status: 413, body: { detail: "Request body larger than 65536 bytes" } });
    const bad = await answer(
      await fetch(`${base}/api/v1/keys`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: "{oops",
      }),
    );
    expect(bad).toMatchObject({ status: 400, body: { detail: "Malformed JSON body" } });
  });
});

describe("key secrecy", () => {
  it("stores no plaintext key in any column of any table", async () => {
    expect(issuedKeys.length).toBeGreaterThan(10);
    const tables = await db.prisma.$queryRaw<{ name: string }[]>`
      select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind in ('r', 'p') order by 1`;
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["api_keys", "outbox", "users"]));
    let dump = "";
    for (const { name } of tables) {
      const rows = await db.prisma.$queryRawUnsafe<{ row: string }[]>(
        `select row_to_json(t)::text as row from "${name.replaceAll('"', '""')}" t`,
      );
      dump += rows.map((r) => r.row).join("\n");
    }
    // The dump does hold the keys' hashes and prefixes, so it saw the rows...
    const first = issuedKeys[0] as string;
    expect(dump).toContain(hashApiKey(KEY_HASH_SECRET, first));
    expect(dump).toContain(first.slice(0, 11));
    // ...and none of the keys themselves, whole or past their display prefix.
    for (const key of issuedKeys) {
      expect(dump).not.toContain(key);
      expect(dump).not.toContain(key.slice(11));
    }
  });

  it("logs no plaintext key and no admin token", () => {
    const log = logLines.join("");
    expect(log).toContain("api key created");
    expect(log).toContain("api key rotated");
    for (const key of issuedKeys) expect(log).not.toContain(key);
    expect(log).not.toContain(ADMIN_TOKEN);
  });
});
