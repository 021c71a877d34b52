import type { PrismaClient } from "@apimon/db";
import type { AlertSignal, NotificationJob } from "@apimon/events";
import { createMetricsRegistry } from "@apimon/observability";
import { createTestDatabase, type TestDatabase, testLogger } from "@apimon/testkit";
import type { Scheduler } from "../src/scheduler";
import { ADMIN_TOKEN, buildApp, call, ISO, outboxJobs, processorOn, schedulerOn } from "./support";

// Silences on Postgres, with a clock the test moves: the API, and what they hold back of the
// signal processor's and the scheduler's notifications. Jobs are read from the outbox.

let db: TestDatabase;
let prisma: PrismaClient;
let now: Date;
const clock = () => now;
const advance = (seconds: number) => {
  now = new Date(now.getTime() + seconds * 1000);
};
const inSeconds = (seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();
let app: ReturnType<typeof buildApp>;
let scheduler: Scheduler;
let mail: number;

let jobsSince: () => Promise<NotificationJob[]>;
/** Jobs queued since the last call, as [reason, alert id, severity]. */
async function newJobs(): Promise<[string, number | null, string][]> {
  return (await jobsSince()).map((job) => [job.reason, job.alert.id, job.alert.severity]);
}

function signal(
  apiKeyId: number,
  severity: AlertSignal["severity"],
  state: AlertSignal["state"] = "firing",
): AlertSignal {
  return {
    fingerprint: `error_rate:key=${apiKeyId}:endpoint=GET /orders`,
    type: "error_rate",
    severity,
    state,
    scope: { apiKeyId, endpoint: "GET /orders" },
    observedValue: 0.2,
    threshold: severity === "critical" ? 0.1 : 0.05,
    message: "Error rate 20 %",
    observedAt: now.toISOString(),
  };
}

async function apply(s: AlertSignal): Promise<number> {
  const outcome = await processorOn(prisma, clock).apply(s);
  return outcome.alert?.id as number;
}

async function silence(body: Record<string, unknown>): Promise<number> {
  const res = await call(app, "POST", "/api/v1/alerts/silences", { comment: "deploy", ...body });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function timeline(alertId: number) {
  const events = await prisma.alertEvent.findMany({ where: { alertId }, orderBy: { id: "asc" } });
  return events.map((e) => [e.kind, e.channelIds.length, e.silenceId]);
}

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = db.prisma;
  jobsSince = outboxJobs(prisma);
  app = buildApp(prisma, { clock });
  scheduler = schedulerOn(prisma, clock);
  mail = (
    await prisma.notificationChannel.create({
      data: { name: "mail", type: "email", target: "ops@example.com" },
    })
  ).id;
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(async () => {
  now = new Date("2026-12-06T12:00:00.000Z");
  await prisma.alert.deleteMany();
  await prisma.silence.deleteMany();
  await prisma.alertSettings.deleteMany();
  await newJobs();
});

describe("the silences API", () => {
  it("creates a silence that starts now by default, and answers it by id", async () => {
    const res = await call(app, "POST", "/api/v1/alerts/silences", {
      type: "error_rate",
      apiKeyId: 7,
      endpoint: "GET /orders",
      endsAt: inSeconds(7200),
      comment: "orders deploy",
      createdBy: "ada",
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(Number),
      type: "error_rate",
      apiKeyId: 7,
      endpoint: "GET /orders",
      clientIp: null,
      comment: "orders deploy",
      createdBy: "ada",
      startsAt: now.toISOString(),
      endsAt: inSeconds(7200),
      state: "active",
      openAlertsMatched: 0,
      createdAt: ISO,
      updatedAt: ISO,
    });
    const got = await call(app, "GET", `/api/v1/alerts/silences/${res.body.id}`);
    expect(got.body).toEqual(res.body);
    expect((await call(app, "GET", "/api/v1/alerts/silences/999999")).status).toBe(404);
  });

  it("refuses an end in the past, before the start or too far off, naming the field", async () => {
    const refused = async (body: Record<string, unknown>) => {
      const res = await call(app, "POST", "/api/v1/alerts/silences", { comment: "x", ...body });
      expect(res.status).toBe(400);
      return res.body.errors;
    };
    expect(await refused({ endsAt: inSeconds(-1) })).toEqual([
      { field: "endsAt", message: "must be in the future" },
    ]);
    expect(await refused({ startsAt: inSeconds(600), endsAt: inSeconds(300) })).toEqual([
      { field: "endsAt", message: "must be after startsAt" },
    ]);
    expect(await refused({ endsAt: inSeconds(31 * 86_400) })).toEqual([
      { field: "endsAt", message: "a silence may last at most 30 days" },
    ]);
    expect(
      (await refused({ endsAt: inSeconds(60), comment: "" })).map((e: { field: string }) => e.field),
    ).toEqual(["comment"]);
    // A matcher no alert can carry would silence nothing, without a word.
    for (const clientIp of ["hello world", "999.1.1.1", "10.0.0.1/24"])
      expect(await refused({ endsAt: inSeconds(60), clientIp })).toEqual([
        {
          field: "clientIp",
          message: "must be an IP address, as failed-authentication alerts name the client",
        },
      ]);
    expect(await prisma.silence.count()).toBe(0);
  });

  it("wants the admin token", async () => {
    const res = await call(app, "GET", "/api/v1/alerts/silences", undefined, {
      authorization: `Bearer ${ADMIN_TOKEN}x`,
    });
    expect(res.status).toBe(401);
  });

  it("lists the silences not yet over by default, and each state on its own, newest first", async () => {
    const expired = await silence({ endsAt: inSeconds(60) });
    const active = await silence({ endsAt: inSeconds(3600) });
    const pending = await silence({ startsAt: inSeconds(600), endsAt: inSeconds(3600) });
    advance(120);
    const ids = async (query: string) =>
      (await call(app, "GET", `/api/v1/alerts/silences${query}`)).body.items.map((s: { id: number }) => s.id);
    expect(await ids("")).toEqual([pending, active]);
    expect(await ids("?state=active")).toEqual([active]);
    expect(await ids("?state=pending")).toEqual([pending]);
    expect(await ids("?state=expired")).toEqual([expired]);
    const page = await call(app, "GET", "/api/v1/alerts/silences?limit=1");
    expect(page.body.items.map((s: { id: number }) => s.id)).toEqual([pending]);
    const next = await call(app, "GET", `/api/v1/alerts/silences?limit=1&cursor=${page.body.nextCursor}`);
    expect(next.body.items.map((s: { id: number }) => s.id)).toEqual([active]);
    expect((await call(app, "GET", "/api/v1/alerts/silences?state=over")).status).toBe(400);
  });

  it("ends a silence now; a pending one never starts; one already over is answered unchanged", async () => {
    const active = await silence({ endsAt: inSeconds(3600) });
    const pending = await silence({ startsAt: inSeconds(600), endsAt: inSeconds(3600) });
    advance(30);
    const ended = await call(app, "DELETE", `/api/v1/alerts/silences/${active}`);
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ state: "expired", endsAt: now.toISOString() });
    const never = await call(app, "DELETE", `/api/v1/alerts/silences/${pending}`);
    expect(never.body).toMatchObject({
      state: "expired",
      startsAt: now.toISOString(),
      endsAt: now.toISOString(),
    });
    advance(30);
    const again = await call(app, "DELETE", `/api/v1/alerts/silences/${active}`);
    expect(again.status).toBe(200);
    expect(again.body.endsAt).toBe(ended.body.endsAt);
    expect((await call(app, "DELETE", "/api/v1/alerts/silences/999999")).status).toBe(404);
  });
});

describe("changing a silence", () => {
  it("extends or shortens a silence not yet over, and changes its comment, not its matchers", async () => {
    const id = await silence({ apiKeyId: 3, endsAt: inSeconds(3600) });
    advance(600);
    const longer = await call(app, "PATCH", `/api/v1/alerts/silences/${id}`, { endsAt: inSeconds(7200) });
    expect(longer.status).toBe(200);
    expect(longer.body).toMatchObject({ id, apiKeyId: 3, endsAt: inSeconds(7200), state: "active" });
    const reworded = await call(app, "PATCH", `/api/v1/alerts/silences/${id}`, {
      endsAt: inSeconds(60),
      comment: "deploy nearly done",
    });
    expect(reworded.body).toMatchObject({ endsAt: inSeconds(60), comment: "deploy nearly done" });
    const refused = async (body: unknown, status = 400) => {
      const res = await call(app, "PATCH", `/api/v1/alerts/silences/${id}`, body);
      expect(res.status).toBe(status);
      return res.body;
    };
    expect((await refused({ endsAt: inSeconds(-1) })).errors).toEqual([
      { field: "endsAt", message: "must be in the future" },
    ]);
    expect((await refused({ endsAt: inSeconds(31 * 86_400) })).errors).toEqual([
      { field: "endsAt", message: "a silence may last at most 30 days" },
    ]);
    const noChange = { field: "(body)", message: "must change at least one of endsAt, comment" };
    expect((await refused({ apiKeyId: 4 })).errors).toEqual([
      { field: "apiKeyId", message: "is not a known field" },
      noChange,
    ]);
    expect((await refused({})).errors).toEqual([noChange]);
    expect((await call(app, "PATCH", "/api/v1/alerts/silences/999999", { comment: "x" })).status).toBe(404);

    advance(60);
    expect(await refused({ endsAt: inSeconds(600) }, 409)).toEqual({
      detail: "Silence is over: create a new one",
    });
  });

  it("holds an alert back for as long as it was extended", async () => {
    const id = await silence({ apiKeyId: 1, endsAt: inSeconds(60) });
    const alertId = await apply(signal(1, "warning"));
    await call(app, "PATCH", `/api/v1/alerts/silences/${id}`, { endsAt: inSeconds(3600) });
    advance(600);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 0 });
    await call(app, "PATCH", `/api/v1/alerts/silences/${id}`, { endsAt: inSeconds(1) });
    advance(1);
    expect(await scheduler.runOnce()).toEqual({ reminders: 1, escalations: 0, resolutions: 0, rises: 0 });
    expect(await newJobs()).toEqual([["firing", alertId, "warning"]]);
  });
});

describe("a silenced alert", () => {
  it("is recorded and listed as silenced, with nothing sent of its opening, escalation or resolution", async () => {
    const id = await silence({ type: "error_rate", apiKeyId: 1, endsAt: inSeconds(3600) });
    const registry = createMetricsRegistry("alerts", { defaultMetrics: false });
    const processor = processorOn(prisma, clock, testLogger(), registry);
    const alertId = (await processor.apply(signal(1, "warning"))).alert?.id;
    expect(await registry.getSingleMetricAsString("alerts_signals_silenced_total")).toContain(
      'alerts_signals_silenced_total{service="alerts"} 1',
    );
    const other = await apply(signal(2, "warning"));
    expect(await newJobs()).toEqual([["firing", other, "warning"]]);

    const listed = await call(app, "GET", "/api/v1/alerts");
    expect(
      listed.body.items.map((a: { id: number; silencedBy: number | null }) => [a.id, a.silencedBy]),
    ).toEqual([
      [other, null],
      [alertId, id],
    ]);
    expect((await call(app, "GET", "/api/v1/alerts/counts")).body).toMatchObject({ total: 2, silenced: 1 });

    advance(10);
    await apply(signal(1, "critical"));
    advance(10);
    await apply(signal(1, "critical", "resolved"));
    expect(await newJobs()).toEqual([]);
    // A resolved alert is not active: not counted, silenced or not.
    expect((await call(app, "GET", "/api/v1/alerts/counts")).body).toMatchObject({ total: 1, silenced: 0 });
    const detail = await call(app, "GET", `/api/v1/alerts/${alertId}`);
    expect(detail.body).toMatchObject({
      status: "resolved",
      severity: "critical",
      silencedBy: null,
      lastNotifiedAt: null,
    });
    expect(
      detail.body.timeline.map((e: { kind: string; silenceId: number | null }) => [e.kind, e.silenceId]),
    ).toEqual([
      ["opened", id],
      ["escalated", id],
      ["resolved", id],
    ]);
  });

  it("is notified once its silence is over if it still fires, at its severity by then; then reminded as usual", async () => {
    await silence({ apiKeyId: 1, endsAt: inSeconds(600) });
    const alertId = await apply(signal(1, "warning"));
    advance(300);
    await apply(signal(1, "critical"));
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 0 });
    expect(await newJobs()).toEqual([]);

    advance(300); // the silence's end
    expect(await scheduler.runOnce()).toEqual({ reminders: 1, escalations: 0, resolutions: 0, rises: 0 });
    expect(await newJobs()).toEqual([["firing", alertId, "critical"]]);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 0 });
    advance(3600);
    expect(await scheduler.runOnce()).toEqual({ reminders: 1, escalations: 0, resolutions: 0, rises: 0 });
    expect(await newJobs()).toEqual([["reminder", alertId, "critical"]]);
    expect(await timeline(alertId)).toEqual([
      ["opened", 0, expect.any(Number)],
      ["escalated", 0, expect.any(Number)],
      ["released", 1, null],
      ["reminded", 1, null],
    ]);
  });

  it("that resolved before anyone was told is not announced as resolved", async () => {
    const id = await silence({ apiKeyId: 1, endsAt: inSeconds(60) });
    const alertId = await apply(signal(1, "warning"));
    advance(60);
    // Over, but the scheduler has not told of the alert yet.
    await apply(signal(1, "warning", "resolved"));
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 0 });
    expect(await newJobs()).toEqual([]);
    expect(await timeline(alertId)).toEqual([
      ["opened", 0, id],
      ["resolved", 0, null],
    ]);
  });

  it("acknowledged while silenced is never notified", async () => {
    await silence({ endsAt: inSeconds(60) });
    const alertId = await apply(signal(1, "warning"));
    expect((await call(app, "POST", `/api/v1/alerts/${alertId}/acknowledge`, { by: "ada" })).status).toBe(
      200,
    );
    advance(7200);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 0 });
    expect(await newJobs()).toEqual([]);
  });

  it("gets no reminder or escalation while silenced; ending the silence lets them go", async () => {
    const put = await call(app, "PUT", "/api/v1/alerts/settings", {
      repeatIntervalSeconds: 600,
      escalation: { enabled: true, afterSeconds: 900, channelIds: [mail] },
    });
    expect(put.status).toBe(200);
    const alertId = await apply(signal(1, "critical"));
    expect(await newJobs()).toEqual([["firing", alertId, "critical"]]);
    const id = await silence({ type: "error_rate", endpoint: "GET /orders", endsAt: inSeconds(86_400) });
    advance(1200);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 0 });
    expect(await newJobs()).toEqual([]);

    expect((await call(app, "DELETE", `/api/v1/alerts/silences/${id}`)).status).toBe(200);
    advance(1);
    expect(await scheduler.runOnce()).toEqual({ reminders: 1, escalations: 1, resolutions: 0, rises: 0 });
    expect(await newJobs()).toEqual([
      ["reminder", alertId, "critical"],
      ["escalated", alertId, "critical"],
    ]);
  });

  it("matches endpoints by pattern alike when an alert opens, in the lists, their filter and the scheduler's queries", async () => {
    const endpoints = [
      "GET /api/billing/invoices",
      "POST /api/billing/charges",
      "GET /api/orders",
      "GET /api/a_b",
      "GET /api/aXb",
      "GET /api/100%",
      "GET /api/1000",
      "GET /api/back\\slash",
    ];
    const onEndpoint = (endpoint: string): AlertSignal => ({
      ...signal(1, "warning"),
      fingerprint: `error_rate:key=1:endpoint=${endpoint}`,
      scope: { apiKeyId: 1, endpoint },
    });
    const ids = new Map<string, number>();
    for (const endpoint of endpoints) ids.set(endpoint, await apply(onEndpoint(endpoint)));
    await newJobs();
    // What each matcher holds back: the API's alert view (matched in the service) and the
    // active counts (matched in SQL, as the scheduler's passes are) must agree.
    const cases: [string, string[]][] = [
      ["GET /api/billing/*", ["GET /api/billing/invoices"]],
      ["* /api/billing/*", ["GET /api/billing/invoices", "POST /api/billing/charges"]],
      ["GET /api/a_b", ["GET /api/a_b"]],
      ["GET /api/100%", ["GET /api/100%"]],
      ["GET /api/10*", ["GET /api/100%", "GET /api/1000"]],
      ["GET /api/1*0", ["GET /api/1000"]],
      ["GET /api/back\\*", ["GET /api/back\\slash"]],
      ["GET *", endpoints.filter((e) => e.startsWith("GET "))],
      ["*", endpoints],
    ];
    for (const [matcher, held] of cases) {
      await prisma.silence.deleteMany();
      const id = await silence({ endpoint: matcher, endsAt: inSeconds(3600) });
      const silenced: string[] = [];
      for (const [endpoint, id] of ids) {
        if ((await call(app, "GET", `/api/v1/alerts/${id}`)).body.silencedBy !== null)
          silenced.push(endpoint);
      }
      expect({ matcher, silenced }).toEqual({ matcher, silenced: held });
      const counts = await call(app, "GET", "/api/v1/alerts/counts");
      expect({ matcher, count: counts.body.silenced }).toEqual({ matcher, count: held.length });
      const shown = (await call(app, "GET", `/api/v1/alerts/silences/${id}`)).body.openAlertsMatched;
      expect({ matcher, shown }).toEqual({ matcher, shown: held.length });
      // The alert lists' endpoint filter takes the same matchers, with the same meaning.
      for (const list of ["/api/v1/alerts", "/api/v1/alerts/history"]) {
        const listed = await call(app, "GET", `${list}?endpoint=${encodeURIComponent(matcher)}`);
        const endpoints = listed.body.items.map((a: { endpoint: string }) => a.endpoint).sort();
        expect({ matcher, list, endpoints }).toEqual({ matcher, list, endpoints: [...held].sort() });
      }
    }
    // A new alert on a matching endpoint is recorded and not notified; one elsewhere is.
    await prisma.silence.deleteMany();
    await silence({ endpoint: "* /api/payments/*", endsAt: inSeconds(3600) });
    const held = await apply(onEndpoint("DELETE /api/payments/:id"));
    const told = await apply(onEndpoint("DELETE /api/payouts/:id"));
    expect(await newJobs()).toEqual([["firing", told, "warning"]]);
    expect(await timeline(held)).toEqual([["opened", 0, expect.any(Number)]]);
  });

  it("says how many open alerts each silence not yet over matches now, pending or not, held back by it or not", async () => {
    const first = await apply(signal(1, "warning"));
    await apply(signal(2, "warning"));
    await apply(signal(3, "warning"));
    await call(app, "POST", `/api/v1/alerts/${first}/acknowledge`, {});
    await apply(signal(4, "warning"));
    await apply(signal(4, "warning", "resolved"));
    const everything = await silence({ endsAt: inSeconds(3600) });
    const pending = await silence({ apiKeyId: 2, startsAt: inSeconds(600), endsAt: inSeconds(3600) });
    const none = await silence({ endpoint: "POST *", endsAt: inSeconds(3600) });
    const ended = await silence({ endsAt: inSeconds(3600) });
    await call(app, "DELETE", `/api/v1/alerts/silences/${ended}`);
    const listed = async (state?: string) =>
      Object.fromEntries(
        (await call(app, "GET", `/api/v1/alerts/silences${state ? `?state=${state}` : ""}`)).body.items.map(
          (s: { id: number; openAlertsMatched: number | null }) => [s.id, s.openAlertsMatched],
        ),
      );
    // The firing and the acknowledged ones; not the resolved one.
    expect(await listed()).toEqual({ [everything]: 3, [pending]: 1, [none]: 0 });
    expect(await listed("expired")).toEqual({ [ended]: null });
    const created = await call(app, "POST", "/api/v1/alerts/silences", {
      apiKeyId: 3,
      comment: "one key",
      endsAt: inSeconds(60),
    });
    expect(created.body.openAlertsMatched).toBe(1);
  });

  it("is held only by a silence that has started and matches every matcher it sets", async () => {
    await silence({ startsAt: inSeconds(600), endsAt: inSeconds(3600) });
    await silence({ apiKeyId: 1, endpoint: "GET /other", endsAt: inSeconds(3600) });
    await silence({ clientIp: "10.0.0.1", endsAt: inSeconds(3600) });
    const alertId = await apply(signal(1, "warning"));
    expect(await newJobs()).toEqual([["firing", alertId, "warning"]]);
    const listed = await call(app, "GET", `/api/v1/alerts/${alertId}`);
    expect(listed.body.silencedBy).toBeNull();
  });
});
