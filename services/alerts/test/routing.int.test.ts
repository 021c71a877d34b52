import type { PrismaClient } from "@apimon/db";
import type { AlertSignal, NotificationJob } from "@apimon/events";
import { createTestDatabase, type TestDatabase } from "@apimon/testkit";
import { buildApp, call, outboxJobs, processorOn, schedulerOn } from "./support";

// Channels that hear about some alert types and endpoints only, on Postgres with a clock the test
// moves: set through the API, and kept to by openings, reminders and the escalation policy alike.
// Jobs are read from the outbox.

let db: TestDatabase;
let prisma: PrismaClient;
let now: Date;
const clock = () => now;
let app: ReturnType<typeof buildApp>;
let jobsSince: () => Promise<NotificationJob[]>;
const ids: Record<string, number> = {};

/** The jobs queued since the last call, as [alert id, reason, channel name]. */
async function told(): Promise<[number | null, string, string][]> {
  const names = new Map(Object.entries(ids).map(([name, id]) => [id, name]));
  return (await jobsSince())
    .map((job): [number | null, string, string] => [
      job.alert.id,
      job.reason,
      names.get(job.channel.id) ?? "?",
    ])
    .sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0) || a[2].localeCompare(b[2]));
}

function signal(type: AlertSignal["type"], endpoint: string | undefined, severity: AlertSignal["severity"]) {
  const scope = endpoint === undefined ? { apiKeyId: 1 } : { apiKeyId: 1, endpoint };
  return {
    fingerprint: `${type}:key=1${endpoint === undefined ? "" : `:endpoint=${endpoint}`}`,
    type,
    severity,
    state: "firing",
    scope,
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
