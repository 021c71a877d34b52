import type { PrismaClient } from "@apimon/db";
import type { AlertSignal, NotificationJob } from "@apimon/events";
import { createTestDatabase, invalidRequest, type TestDatabase } from "@apimon/testkit";
import { buildApp, call, outboxJobs, processorOn, schedulerOn } from "./support";

// Channels that hear about some alert types, endpoints and users (the owners of the alerts' keys)
// only, on Postgres with a clock the test moves: set through the API, and kept to by openings,
// rises, reminders, resolutions, grouped messages and the escalation policy alike. Jobs are read
// from the outbox.

let db: TestDatabase;
let prisma: PrismaClient;
let now: Date;
const clock = () => now;
let app: ReturnType<typeof buildApp>;
let jobsSince: () => Promise<NotificationJob[]>;
const ids: Record<string, number> = {};

type Told = [number | null, string, string, ...number[]];

/**
 * The jobs queued since the last call, as [alert id, reason, channel name, the ids of the other
 * alerts of a grouped message], of the alerts `of` only when given.
 */
async function told(of?: readonly number[]): Promise<Told[]> {
  const names = new Map(Object.entries(ids).map(([name, id]) => [id, name]));
  return (await jobsSince())
    .filter((job) => of === undefined || of.includes(job.alert.id as number))
    .map(
      (job): Told => [
        job.alert.id,
        job.reason,
        names.get(job.channel.id) ?? "?",
        ...(job.others ?? []).map((other) => other.id as number),
      ],
    )
    .sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0) || a[2].localeCompare(b[2]));
}

/**
 * A signal about `type` on `endpoint` (none: about the key as a whole) and key 1 (of no user), or
 * another key; `apiKeyId: null` is about a caller without a key, known by address.
 */
function signal(
  type: AlertSignal["type"],
  endpoint: string | undefined,
  severity: AlertSignal["severity"],
  { apiKeyId = 1, state = "firing" }: { apiKeyId?: number | null; state?: AlertSignal["state"] } = {},
) {
  const caller = apiKeyId === null ? { clientIp: "203.0.113.9" } : { apiKeyId };
  return {
    fingerprint: `${type}:${apiKeyId === null ? "ip=203.0.113.9" : `key=${apiKeyId}`}${endpoint === undefined ? "" : `:endpoint=${endpoint}`}`,
    type,
    severity,
    state,
    scope: endpoint === undefined ? caller : { ...caller, endpoint },
    observedValue: 3,
    threshold: 2,
    message: `${type} on ${endpoint ?? "the key"}`,
    observedAt: now.toISOString(),
  } satisfies AlertSignal;
}

async function open(...args: Parameters<typeof signal>): Promise<number> {
  return (await processorOn(prisma, clock).apply(signal(...args))).alert?.id as number;
}

async function channel(body: Record<string, unknown>) {
  const res = await call(app, "POST", "/api/v1/alerts/channels", { type: "email", ...body });
  expect(res.status).toBe(201);
  ids[body.name as string] = res.body.id;
  return res.body;
}

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = db.prisma;
  jobsSince = outboxJobs(prisma);
  now = new Date("2026-12-07T12:00:00.000Z");
  app = buildApp(prisma, { clock });
  await channel({ name: "everything", target: "ops@example.com" });
  await channel({ name: "billing", target: "billing@example.com", endpoints: ["* /api/billing/*"] });
  await channel({ name: "errors", target: "sre@example.com", alertTypes: ["error_rate", "usage_spike"] });
  await channel({
    name: "billing-5xx",
    target: "billing-oncall@example.com",
    alertTypes: ["error_rate"],
    endpoints: ["GET /api/billing/*", "POST /api/billing/charges"],
    minSeverity: "critical",
  });
});

afterAll(async () => {
  await db?.drop();
});

describe("channels for some alert types and endpoints", () => {
  it("are created, answered and changed with their types and endpoints, and refuse bad ones", async () => {
    const listed = await call(app, "GET", "/api/v1/alerts/channels");
    expect(listed.body.items.find((c: { name: string }) => c.name === "billing-5xx")).toMatchObject({
      alertTypes: ["error_rate"],
      endpoints: ["GET /api/billing/*", "POST /api/billing/charges"],
    });
    expect(listed.body.items.find((c: { name: string }) => c.name === "everything")).toMatchObject({
      alertTypes: [],
      endpoints: [],
    });
    const refused = await call(app, "POST", "/api/v1/alerts/channels", {
      type: "email",
      target: "x@example.com",
      alertTypes: ["error_rate", "slowness"],
      endpoints: ["GET /a", ""],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      "alertTypes.1",
      "endpoints.1",
    ]);
    const twice = await call(app, "POST", "/api/v1/alerts/channels", {
      type: "email",
      target: "x@example.com",
      alertTypes: ["error_rate", "error_rate"],
      endpoints: ["GET /a", "GET /a"],
    });
    expect(twice.body.errors).toEqual([
      { field: "alertTypes", message: "must not name a type twice" },
      { field: "endpoints", message: "must not name an endpoint twice" },
    ]);
    const tooMany = Array.from({ length: 21 }, (_, i) => `GET /p${i}`);
    const many = await call(app, "POST", "/api/v1/alerts/channels", {
      type: "email",
      target: "x@example.com",
      endpoints: tooMany,
    });
    expect(many.body.errors).toEqual([{ field: "endpoints", message: "may hold at most 20 endpoints" }]);
    // A change of endpoints alone; an empty list takes every alert again.
    const scratch = await channel({ name: "scratch", target: "x@example.com", endpoints: ["GET /x"] });
    const changed = await call(app, "PATCH", `/api/v1/alerts/channels/${scratch.id}`, { endpoints: [] });
    expect(changed.body).toMatchObject({ endpoints: [], alertTypes: [] });
    await call(app, "DELETE", `/api/v1/alerts/channels/${scratch.id}`);
    delete ids.scratch;
  });

  it("hear of openings and rises of their types and endpoints only, at their severity", async () => {
    await jobsSince();
    const invoices = await open("error_rate", "GET /api/billing/invoices", "warning");
    const slowBilling = await open("response_time", "GET /api/billing/invoices", "warning");
    const orders = await open("error_rate", "GET /api/orders", "critical");
    const spike = await open("usage_spike", undefined, "warning");
    const charges = await open("error_rate", "POST /api/billing/charges", "critical");
    expect(await told()).toEqual([
      [invoices, "firing", "billing"],
      [invoices, "firing", "errors"],
      [invoices, "firing", "everything"],
      [slowBilling, "firing", "billing"],
      [slowBilling, "firing", "everything"],
      [orders, "firing", "errors"],
      [orders, "firing", "everything"],
      // No endpoint: not for the channels that name endpoints.
      [spike, "firing", "errors"],
      [spike, "firing", "everything"],
      [charges, "firing", "billing"],
      [charges, "firing", "billing-5xx"],
      [charges, "firing", "errors"],
      [charges, "firing", "everything"],
    ]);
    // The invoices' error rate turns critical: now billing-5xx hears of it too.
    await processorOn(prisma, clock).apply(signal("error_rate", "GET /api/billing/invoices", "critical"));
    expect(await told()).toEqual([
      [invoices, "escalated", "billing"],
      [invoices, "escalated", "billing-5xx"],
      [invoices, "escalated", "errors"],
      [invoices, "escalated", "everything"],
    ]);
  });

  it("hear of the scheduler's reminders and the escalation policy's pages the same way", async () => {
    const settings = await call(app, "PUT", "/api/v1/alerts/settings", {
      repeatIntervalSeconds: 600,
      escalation: { enabled: true, afterSeconds: 300, channelIds: [ids.billing, ids["billing-5xx"]] },
    });
    expect(settings.status).toBe(200);
    await jobsSince();
    now = new Date(now.getTime() + 601_000);
    await schedulerOn(prisma, clock).runOnce();
    const jobs = await told();
    const alerts = await prisma.alert.findMany({ orderBy: { id: "asc" } });
    const idOf = (type: string, endpoint: string | null) =>
      alerts.find((a) => a.type === type && a.endpoint === endpoint)?.id as number;
    const orders = idOf("error_rate", "GET /api/orders");
    const charges = idOf("error_rate", "POST /api/billing/charges");
    const invoices = idOf("error_rate", "GET /api/billing/invoices");
    // Reminders go where the openings went.
    expect(jobs.filter(([id, reason]) => id === orders && reason === "reminder")).toEqual([
      [orders, "reminder", "errors"],
      [orders, "reminder", "everything"],
    ]);
    // The policy pages its channels that are for the alert; the orders' alert, for neither of
    // them, is not taken by the policy at all.
    expect(jobs.filter(([, reason]) => reason === "escalated")).toEqual([
      [invoices, "escalated", "billing"],
      [invoices, "escalated", "billing-5xx"],
      [charges, "escalated", "billing"],
      [charges, "escalated", "billing-5xx"],
    ]);
    expect(
      (
        await prisma.alertEvent.findMany({
          where: { kind: "escalation_policy" },
          orderBy: { alertId: "asc" },
        })
      ).map((e) => e.alertId),
    ).toEqual([invoices, charges]);
    expect((await prisma.alert.findUniqueOrThrow({ where: { id: orders } })).escalatedAt).toBeNull();
  });
});

describe("channels for some users", () => {
  let alice: number;
  let bob: number;
  let carol: number;
  /** Alice's key, its successor by rotation, Bob's key, and a key of Alice's deleted later. */
  const keys = { alice: 0, rotated: 0, bob: 0, doomed: 0 };
  const UNKNOWN_KEY = 424_242;

  async function user(name: string): Promise<number> {
    return (await prisma.user.create({ data: { email: `${name}@customers.example.com`, name } })).id;
  }

  async function key(name: string, userId: number, rotatedFromId: number | null = null): Promise<number> {
    const data = {
      userId,
      name,
      keyHash: `${name}-hash`,
      keyPrefix: `ak_${name}`.slice(0, 11),
      rotatedFromId,
    };
    return (await prisma.apiKey.create({ data })).id;
  }

  beforeAll(async () => {
    [alice, bob, carol] = [await user("alice"), await user("bob"), await user("carol")];
    keys.alice = await key("alice-live", alice);
    keys.bob = await key("bob-live", bob);
    keys.doomed = await key("alice-old", alice);
    // A rotation: a new key of the same user in place of the old one, which stops working.
    keys.rotated = await key("alice-next", alice, keys.alice);
    await prisma.apiKey.update({ where: { id: keys.alice }, data: { isActive: false } });
    // Only the customers' channels and the one for everything are on from here.
    for (const name of ["billing", "errors", "billing-5xx"]) {
      expect(
        (await call(app, "PATCH", `/api/v1/alerts/channels/${ids[name]}`, { enabled: false })).status,
      ).toBe(200);
    }
    now = new Date(now.getTime() + 3_600_000);
  });

  it("are created and changed with users that exist, and refuse others naming each by its place", async () => {
    const create = (body: Record<string, unknown>) =>
      call(app, "POST", "/api/v1/alerts/channels", { type: "email", target: "x@example.com", ...body });
    expect(await create({ userIds: [alice, 999_999, bob, 999_998] })).toMatchObject(
      invalidRequest("body", [
        { field: "userIds.1", message: "no user with id 999999" },
        { field: "userIds.3", message: "no user with id 999998" },
      ]),
    );
    // Checked together with the target: one answer lists every problem.
    expect(await create({ target: "nobody", userIds: [999_999] })).toMatchObject(
      invalidRequest("body", [
        { field: "target", message: "not an email address: nobody" },
        { field: "userIds.0", message: "no user with id 999999" },
      ]),
    );
    expect(await create({ userIds: [alice, alice] })).toMatchObject(
      invalidRequest("body", [{ field: "userIds", message: "must not name a user twice" }]),
    );
    expect(await create({ userIds: Array.from({ length: 51 }, (_, i) => i + 1) })).toMatchObject(
      invalidRequest("body", [{ field: "userIds", message: "may hold at most 50 users" }]),
    );
    expect(await create({ userIds: [alice, 1.5, 0] })).toMatchObject(
      invalidRequest("body", [
        { field: "userIds.1", message: "must be a user id" },
        { field: "userIds.2", message: "must be a user id" },
      ]),
    );
    expect((await create({ userIds: [`${alice}`] })).body.errors).toEqual([
      { field: "userIds.0", message: expect.any(String) },
    ]);
    expect(await prisma.notificationChannel.count({ where: { name: { startsWith: "email x@" } } })).toBe(0);

    // A user deleted since stays allowed on the channels that hold it, and matches nothing.
    const carols = await channel({ name: "carol", target: "carol@example.com", userIds: [carol] });
    expect(carols).toMatchObject({ userIds: [carol], alertTypes: [], endpoints: [] });
    const other = await channel({ name: "scratch", target: "x@example.com" });
    await prisma.user.delete({ where: { id: carol } });
    const kept = await call(app, "PATCH", `/api/v1/alerts/channels/${carols.id}`, {
      userIds: [alice, carol],
    });
    expect(kept).toMatchObject({ status: 200, body: { userIds: [alice, carol] } });
    expect(
      await call(app, "PATCH", `/api/v1/alerts/channels/${carols.id}`, {
        name: "carol's",
        minSeverity: "critical",
      }),
    ).toMatchObject({ status: 200, body: { name: "carol's", userIds: [alice, carol] } });
    expect(
      await call(app, "PATCH", `/api/v1/alerts/channels/${other.id}`, { userIds: [bob, carol] }),
    ).toMatchObject(invalidRequest("body", [{ field: "userIds.1", message: `no user with id ${carol}` }]));
    // An empty list is for every alert again.
    expect(await call(app, "PATCH", `/api/v1/alerts/channels/${other.id}`, { userIds: [] })).toMatchObject({
      status: 200,
      body: { userIds: [] },
    });
    for (const id of [carols.id, other.id]) await call(app, "DELETE", `/api/v1/alerts/channels/${id}`);
    delete ids.carol;
    delete ids.scratch;

    await channel({ name: "alice", target: "alice-team@example.com", userIds: [alice] });
    await channel({
      name: "alice-bob-errors",
      target: "accounts@example.com",
      userIds: [alice, bob],
      alertTypes: ["error_rate"],
    });
    const listed = await call(app, "GET", "/api/v1/alerts/channels");
    expect(listed.body.items.map((c: { name: string; userIds: number[] }) => [c.name, c.userIds])).toEqual([
      ["everything", []],
      ["billing", []],
      ["errors", []],
      ["billing-5xx", []],
      ["alice", [alice]],
      ["alice-bob-errors", [alice, bob]],
    ]);
  });

  it("hear of the alerts on their users' keys only, whatever the news, and so does the escalation policy", async () => {
    const settings = await call(app, "PUT", "/api/v1/alerts/settings", {
      repeatIntervalSeconds: 600,
      groupIntervalSeconds: 300,
      escalation: { enabled: true, afterSeconds: 300, channelIds: [ids.alice, ids["alice-bob-errors"]] },
    });
    expect(settings.status).toBe(200);
    await jobsSince();
    const on = (apiKeyId: number | null) => ({ apiKeyId });
    const onAlice = await open("error_rate", "GET /api/a", "critical", on(keys.rotated));
    const onBob = await open("error_rate", "GET /api/b", "critical", on(keys.bob));
    const slowBob = await open("response_time", "GET /api/b", "critical", on(keys.bob));
    const doomed = await open("error_rate", "GET /api/doomed", "critical", on(keys.doomed));
    const unknown = await open("error_rate", "GET /api/unknown", "critical", on(UNKNOWN_KEY));
    const noKey = await open("unauthorized_access", undefined, "critical", on(null));
    // Of Alice's group (type and endpoint), notified a moment ago: held back for it.
    const bobWithAlice = await open("error_rate", "GET /api/a", "critical", on(keys.bob));
    const mine = [onAlice, onBob, slowBob, doomed, unknown, noKey, bobWithAlice];
    expect(await told(mine)).toEqual([
      // Alice's rotated key is still Alice's.
      [onAlice, "firing", "alice"],
      [onAlice, "firing", "alice-bob-errors"],
      [onAlice, "firing", "everything"],
      [onBob, "firing", "alice-bob-errors"],
      [onBob, "firing", "everything"],
      // Bob's, but not an error rate.
      [slowBob, "firing", "everything"],
      [doomed, "firing", "alice"],
      [doomed, "firing", "alice-bob-errors"],
      [doomed, "firing", "everything"],
      // A key nobody owns, and no key at all: only for the channel without users.
      [unknown, "firing", "everything"],
      [noKey, "firing", "everything"],
    ]);

    // A rise in severity goes where the opening went.
    const risingBob = await open("error_rate", "GET /api/c", "warning", on(keys.bob));
    await open("error_rate", "GET /api/c", "critical", on(keys.bob));
    expect(await told([risingBob])).toEqual([
      [risingBob, "firing", "alice-bob-errors"],
      [risingBob, "escalated", "alice-bob-errors"],
      [risingBob, "firing", "everything"],
      [risingBob, "escalated", "everything"],
    ]);

    // Deleted, the key has no owner any more: what follows of its alert goes to everyone's channel only.
    await prisma.apiKey.delete({ where: { id: keys.doomed } });
    now = new Date(now.getTime() + 601_000);
    await schedulerOn(prisma, clock).runOnce();
    expect(await told(mine)).toEqual([
      // The escalation policy takes Alice's group together: Bob's alert only where Bob is heard of.
      [onAlice, "reminder", "alice"],
      [onAlice, "escalated", "alice"],
      [onAlice, "reminder", "alice-bob-errors"],
      [onAlice, "escalated", "alice-bob-errors", bobWithAlice],
      [onAlice, "reminder", "everything"],
      [onBob, "reminder", "alice-bob-errors"],
      [onBob, "escalated", "alice-bob-errors"],
      [onBob, "reminder", "everything"],
      [slowBob, "reminder", "everything"],
      [doomed, "reminder", "everything"],
      [unknown, "reminder", "everything"],
      [noKey, "reminder", "everything"],
      // Held for its group until now, Bob's alert of Alice's group goes where Bob is heard of.
      [bobWithAlice, "firing", "alice-bob-errors"],
      [bobWithAlice, "firing", "everything"],
    ]);
    // The alerts none of the policy's channels is for stay unescalated.
    const escalated = await prisma.alert.findMany({
      where: { id: { in: mine }, escalatedAt: { not: null } },
      orderBy: { id: "asc" },
    });
    expect(escalated.map((a) => a.id)).toEqual([onAlice, onBob, bobWithAlice]);
    expect(
      (
        await prisma.alertEvent.findMany({
          where: { alertId: { in: mine }, kind: "escalation_policy" },
          orderBy: { alertId: "asc" },
        })
      ).map((e) => [e.alertId, e.channelIds]),
    ).toEqual([
      [onAlice, [ids.alice, ids["alice-bob-errors"]]],
      [onBob, [ids["alice-bob-errors"]]],
      [bobWithAlice, [ids["alice-bob-errors"]]],
    ]);

    // Resolutions: Alice's at once; Bob's of her group held for it, then told where Bob is heard of.
    now = new Date(now.getTime() + 60_000);
    const resolve = (...args: Parameters<typeof signal>) =>
      processorOn(prisma, clock).apply(signal(args[0], args[1], args[2], { ...args[3], state: "resolved" }));
    await resolve("error_rate", "GET /api/a", "critical", on(keys.rotated));
    await resolve("error_rate", "GET /api/a", "critical", on(keys.bob));
    await resolve("error_rate", "GET /api/doomed", "critical", on(keys.doomed));
    await resolve("unauthorized_access", undefined, "critical", on(null));
    expect(await told(mine)).toEqual([
      [onAlice, "resolved", "alice"],
      [onAlice, "resolved", "alice-bob-errors"],
      [onAlice, "resolved", "everything"],
      [doomed, "resolved", "everything"],
      [noKey, "resolved", "everything"],
    ]);
    now = new Date(now.getTime() + 301_000);
    await schedulerOn(prisma, clock).runOnce();
    expect(await told(mine)).toEqual([
      [bobWithAlice, "resolved", "alice-bob-errors"],
      [bobWithAlice, "resolved", "everything"],
    ]);
  });
});
