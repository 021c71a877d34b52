import { createPrismaClient, type PrismaClient } from "@apimon/db";
import { type AlertSignal, type NotificationJob, notificationJobSchema } from "@apimon/events";
import { createMetricsRegistry } from "@apimon/observability";
import { createTestDatabase, type TestDatabase, testLogger } from "@apimon/testkit";
import { createAlertLog } from "../src/alert-log";
import { createScheduler } from "../src/scheduler";
import { buildApp, call, capturingLogger, outboxJobs, processorOn, schedulerOn } from "./support";

// Reminders and the escalation policy on Postgres, with a clock the test moves. Jobs are read
// from the outbox (what the relay publishes; the Kafka leg is lifecycle.int.test.ts's).

let db: TestDatabase;
let prisma: PrismaClient;
let now: Date;
const clock = () => now;
const advance = (seconds: number) => {
  now = new Date(now.getTime() + seconds * 1000);
};
let app: ReturnType<typeof buildApp>;
let channels: { mail: number; pager: number; escalation: number };
const { logger, lines } = capturingLogger();

let jobsSince: () => Promise<NotificationJob[]>;
/** Jobs queued since the last call, as [reason, alert id, channel id]. */
async function newJobs(): Promise<[string, number | null, number][]> {
  return (await jobsSince()).map((job) => [job.reason, job.alert.id, job.channel.id]);
}

let fingerprints = 0;
/** Fires a new alert, alone in its group (an endpoint of its own). */
async function fire(severity: AlertSignal["severity"]): Promise<number> {
  fingerprints += 1;
  const outcome = await processorOn(prisma, clock).apply({
    fingerprint: `error_rate:key=${fingerprints}`,
    type: "error_rate",
    severity,
    state: "firing",
    scope: { apiKeyId: fingerprints, endpoint: `/things/${fingerprints}` },
    observedValue: 0.2,
    threshold: severity === "critical" ? 0.1 : 0.05,
    message: "Error rate 20 %",
    observedAt: now.toISOString(),
  });
  return outcome.alert?.id as number;
}

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = db.prisma;
  jobsSince = outboxJobs(prisma);
  app = buildApp(prisma, { clock });
  const mail = await prisma.notificationChannel.create({
    data: { name: "mail", type: "email", target: "ops@example.com" },
  });
  const pager = await prisma.notificationChannel.create({
    data: { name: "pager", type: "webhook", target: "https://pager.example.com/h", minSeverity: "critical" },
  });
  const escalation = await prisma.notificationChannel.create({
    data: { name: "cto", type: "email", target: "cto@example.com", minSeverity: "critical" },
  });
  channels = { mail: mail.id, pager: pager.id, escalation: escalation.id };
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(async () => {
  now = new Date("2026-11-27T12:00:00.000Z");
  await prisma.alert.deleteMany();
  await prisma.alertSettings.deleteMany();
  await newJobs();
});

describe("reminders", () => {
  it("remind every repeat interval while an alert fires unacknowledged, and stop on acknowledgement", async () => {
    const res = await call(app, "PUT", "/api/v1/alerts/settings", { repeatIntervalSeconds: 600 });
    expect(res.status).toBe(200);
    const id = await fire("warning");
    expect(await newJobs()).toEqual([["firing", id, channels.mail]]);
    const scheduler = schedulerOn(prisma, clock, logger);

    advance(599);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 0 });
    advance(1);
    expect(await scheduler.runOnce()).toEqual({ reminders: 1, escalations: 0, resolutions: 0, rises: 0 });
    expect(await newJobs()).toEqual([["reminder", id, channels.mail]]);
    // Nothing more until the next interval.
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 0 });
    advance(600);
    expect(await scheduler.runOnce()).toEqual({ reminders: 1, escalations: 0, resolutions: 0, rises: 0 });
    expect(await newJobs()).toEqual([["reminder", id, channels.mail]]);

    const ack = await call(app, "POST", `/api/v1/alerts/${id}/acknowledge`, { by: "ada" });
    expect(ack.status).toBe(200);
    advance(6000);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 0 });
    expect(await newJobs()).toEqual([]);

    const timeline = await prisma.alertEvent.findMany({ where: { alertId: id }, orderBy: { id: "asc" } });
    expect(timeline.map((e) => [e.kind, e.channelIds, e.actor])).toEqual([
      ["opened", [channels.mail], null],
      ["reminded", [channels.mail], null],
      ["reminded", [channels.mail], null],
      ["acknowledged", [], "ada"],
    ]);
  });

  it("are sent once when two replicas run their scheduler at the same moment", async () => {
    const ids = [await fire("critical"), await fire("warning"), await fire("critical")];
    await newJobs();
    advance(3600); // the default repeat interval
    const other = createPrismaClient({ connectionString: db.url });
    try {
      const runs = await Promise.all([
        schedulerOn(prisma, clock, logger).runOnce(),
        schedulerOn(other, clock, logger).runOnce(),
      ]);
      expect(runs[0].reminders + runs[1].reminders).toBe(3);
    } finally {
      await other.$disconnect();
    }
    const jobs = await newJobs();
    expect(jobs.filter((j) => j[0] === "reminder").sort()).toEqual(
      [
        ["reminder", ids[0], channels.mail],
        ["reminder", ids[0], channels.pager],
        ["reminder", ids[0], channels.escalation],
        ["reminder", ids[1], channels.mail],
        ["reminder", ids[2], channels.mail],
        ["reminder", ids[2], channels.pager],
        ["reminder", ids[2], channels.escalation],
      ].sort(),
    );
  });
});

describe("the escalation policy", () => {
  it("sends a critical alert still unacknowledged after afterSeconds to its escalation channels, once", async () => {
    const put = await call(app, "PUT", "/api/v1/alerts/settings", {
      repeatIntervalSeconds: 86_400,
      escalation: { enabled: true, afterSeconds: 900, channelIds: [channels.escalation] },
    });
    expect(put.status).toBe(200);
    const critical = await fire("critical");
    const warning = await fire("warning");
    const acknowledged = await fire("critical");
    await call(app, "POST", `/api/v1/alerts/${acknowledged}/acknowledge`);
    await newJobs();
    const scheduler = schedulerOn(prisma, clock, logger);

    advance(899);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 0 });
    advance(1);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 1, resolutions: 0, rises: 0 });
    expect(await newJobs()).toEqual([["escalated", critical, channels.escalation]]);
    advance(900);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 0 });

    const alert = await prisma.alert.findUniqueOrThrow({ where: { id: critical } });
    expect(alert.escalatedAt).toEqual(new Date("2026-11-27T12:15:00.000Z"));
    expect((await prisma.alert.findUniqueOrThrow({ where: { id: warning } })).escalatedAt).toBeNull();
    expect(
      await prisma.alertEvent.findMany({
        where: { alertId: critical, kind: "escalation_policy" },
        select: { channelIds: true, occurredAt: true },
      }),
    ).toEqual([{ channelIds: [channels.escalation], occurredAt: new Date("2026-11-27T12:15:00.000Z") }]);
    expect(lines.filter((l) => l.alertId === critical && l.channelIds)).toEqual([
      expect.objectContaining({
        level: "critical",
        severity: "CRITICAL",
        msg: "alert unacknowledged; escalated to 1 channel(s)",
      }),
    ]);
  });

  it("counts from the moment an escalated warning became critical", async () => {
    await call(app, "PUT", "/api/v1/alerts/settings", {
      escalation: { enabled: true, afterSeconds: 600, channelIds: [channels.escalation] },
    });
    const id = await fire("warning");
    advance(3000);
    await processorOn(prisma, clock).apply({
      fingerprint: `error_rate:key=${fingerprints}`,
      type: "error_rate",
      severity: "critical",
      state: "firing",
      scope: { apiKeyId: fingerprints, endpoint: `/things/${fingerprints}` },
      observedValue: 0.3,
      threshold: 0.1,
      message: "Error rate 30 %",
      observedAt: now.toISOString(),
    });
    await newJobs();
    const scheduler = schedulerOn(prisma, clock, logger);
    advance(599);
    expect((await scheduler.runOnce()).escalations).toBe(0);
    advance(1);
    expect((await scheduler.runOnce()).escalations).toBe(1);
    expect((await newJobs()).filter((j) => j[0] === "escalated")).toEqual([
      ["escalated", id, channels.escalation],
    ]);
  });

  it("does nothing while disabled (the default)", async () => {
    await fire("critical");
    advance(86_400 * 2);
    expect((await schedulerOn(prisma, clock, logger).runOnce()).escalations).toBe(0);
  });
});

describe("grouping", () => {
  let registry = createMetricsRegistry("alerts", { defaultMetrics: false });
  beforeEach(() => {
    registry = createMetricsRegistry("alerts", { defaultMetrics: false });
  });
  const heldCount = async (outcome: string) =>
    (await registry.getSingleMetricAsString("alerts_signals_held_total"))
      .split("\n")
      .find((line) => line.includes(`outcome="${outcome}"`))
      ?.split(" ")
      .at(-1);

  /** Opens an alert of `key` on `endpoint` (a slow endpoint, one alert per key). */
  async function slow(key: number, severity: AlertSignal["severity"], endpoint = "GET /users/:id") {
    const outcome = await processorOn(prisma, clock, logger, registry).apply({
      fingerprint: `response_time:key=${key}:endpoint=${endpoint}`,
      type: "response_time",
      severity,
      state: "firing",
      scope: { apiKeyId: key, endpoint },
      observedValue: severity === "critical" ? 6 : 2.5,
      threshold: severity === "critical" ? 5 : 2,
      message: `Response time on ${endpoint}`,
      observedAt: now.toISOString(),
    });
    return { id: outcome.alert?.id as number, heldUntil: outcome.heldUntil };
  }

  /** Jobs queued since the last call, as [reason, channel id, alert id, the others' ids]. */
  async function newMessages(): Promise<[string, number, number | null, number[]][]> {
    return (await jobsSince()).map((job) => {
      notificationJobSchema.parse(job);
      return [job.reason, job.channel.id, job.alert.id, (job.others ?? []).map((o) => o.id as number)];
    });
  }

  /** Resolves the alert of `key` on GET /users/:id. */
  const resolve = (key: number) =>
    processorOn(prisma, clock, logger, registry).apply({
      fingerprint: `response_time:key=${key}:endpoint=GET /users/:id`,
      type: "response_time",
      severity: "warning",
      state: "resolved",
      scope: { apiKeyId: key, endpoint: "GET /users/:id" },
      observedValue: 0.4,
      threshold: 2,
      message: "Response time back to normal",
      observedAt: now.toISOString(),
    });

  /** Three warnings of `keys` on GET /users/:id, all told of: the first at once, two held, then sent. */
  async function toldStorm(keys: [number, number, number]) {
    const [a, b, c] = [
      await slow(keys[0], "warning"),
      await slow(keys[1], "warning"),
      await slow(keys[2], "warning"),
    ];
    const scheduler = schedulerOn(prisma, clock, logger);
    advance(300);
    expect(await scheduler.runOnce()).toEqual({ reminders: 2, escalations: 0, resolutions: 0, rises: 0 });
    await newMessages();
    return { a, b, c, scheduler };
  }

  const kinds = async (id: number) =>
    (await prisma.alertEvent.findMany({ where: { alertId: id }, orderBy: { id: "asc" } })).map((e) => [
      e.kind,
      e.channelIds,
    ]);

  it("holds the alerts of one type and endpoint opened within the interval, then sends them in one message per channel", async () => {
    const t0 = now;
    const first = await slow(101, "critical");
    expect(first.heldUntil).toBeUndefined();
    expect(await newMessages()).toEqual([
      ["firing", channels.mail, first.id, []],
      ["firing", channels.pager, first.id, []],
      ["firing", channels.escalation, first.id, []],
    ]);

    advance(60);
    const second = await slow(102, "warning");
    advance(60);
    const third = await slow(103, "critical");
    // Another endpoint is another group: notified at once.
    const elsewhere = await slow(104, "warning", "GET /orders/:id");
    expect(second.heldUntil).toEqual(new Date(t0.getTime() + 300_000));
    expect(third.heldUntil).toEqual(new Date(t0.getTime() + 300_000));
    expect(await newMessages()).toEqual([["firing", channels.mail, elsewhere.id, []]]);
    const held = await call(app, "GET", `/api/v1/alerts/${second.id}`);
    expect(held.body).toMatchObject({ heldUntil: "2026-11-27T12:05:00.000Z", lastNotifiedAt: null });
    expect(held.body.timeline).toMatchObject([
      { kind: "opened", channelIds: [], silenceId: null, heldUntil: "2026-11-27T12:05:00.000Z" },
    ]);

    const scheduler = schedulerOn(prisma, clock, logger);
    advance(179); // 1 s before the hold is over
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 0 });
    expect(await newMessages()).toEqual([]);
    advance(1);
    expect(await scheduler.runOnce()).toEqual({ reminders: 2, escalations: 0, resolutions: 0, rises: 0 });
    // Each channel hears of the alerts of a severity it takes, in one message.
    expect(await newMessages()).toEqual([
      ["firing", channels.mail, second.id, [third.id]],
      ["firing", channels.pager, third.id, []],
      ["firing", channels.escalation, third.id, []],
    ]);
    expect(await kinds(second.id)).toEqual([
      ["opened", []],
      ["grouped", [channels.mail]],
    ]);
    expect(await kinds(third.id)).toEqual([
      ["opened", []],
      ["grouped", [channels.mail, channels.pager, channels.escalation]],
    ]);
    const released = await call(app, "GET", `/api/v1/alerts/${second.id}`);
    expect(released.body).toMatchObject({ heldUntil: null, lastNotifiedAt: "2026-11-27T12:05:00.000Z" });
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 0 });

    // The group was last notified now: the next alert waits for the next interval.
    advance(1);
    const fourth = await slow(105, "warning");
    expect(fourth.heldUntil).toEqual(new Date(t0.getTime() + 600_000));
    expect(await newMessages()).toEqual([]);
  });

  it("sends the reminders of one group falling due together as one message per channel", async () => {
    const { a, b, c, scheduler } = await toldStorm([201, 202, 203]);
    // a was notified at 12:00, b and c at 12:05: their reminders fall due an hour after each.
    advance(3300);
    expect(await scheduler.runOnce()).toEqual({ reminders: 1, escalations: 0, resolutions: 0, rises: 0 });
    expect(await newMessages()).toEqual([["reminder", channels.mail, a.id, []]]);
    advance(300);
    expect(await scheduler.runOnce()).toEqual({ reminders: 2, escalations: 0, resolutions: 0, rises: 0 });
    expect(await newMessages()).toEqual([["reminder", channels.mail, b.id, [c.id]]]);
    expect((await kinds(c.id)).map(([kind]) => kind)).toEqual(["opened", "grouped", "reminded"]);
  });

  it("notifies every alert on its own at once with a group interval of 0, held ones included", async () => {
    const first = await slow(301, "warning");
    const held = await slow(302, "warning");
    expect(held.heldUntil).toBeDefined();
    const put = await call(app, "PUT", "/api/v1/alerts/settings", { groupIntervalSeconds: 0 });
    expect(put.status).toBe(200);
    const third = await slow(303, "warning");
    expect(third.heldUntil).toBeUndefined();
    expect(await newMessages()).toEqual([
      ["firing", channels.mail, first.id, []],
      ["firing", channels.mail, third.id, []],
    ]);
    // The alert held before the change goes at the next pass, alone.
    expect(await schedulerOn(prisma, clock, logger).runOnce()).toEqual({
      reminders: 1,
      escalations: 0,
      resolutions: 0,
      rises: 0,
    });
    expect(await newMessages()).toEqual([["firing", channels.mail, held.id, []]]);
    advance(3600);
    expect(await schedulerOn(prisma, clock, logger).runOnce()).toEqual({
      reminders: 3,
      escalations: 0,
      resolutions: 0,
      rises: 0,
    });
    expect((await newMessages()).map(([reason, , id, others]) => [reason, id, others])).toEqual([
      ["reminder", first.id, []],
      ["reminder", held.id, []],
      ["reminder", third.id, []],
    ]);
  });

  it("tells the resolutions of one group resolving close together in one message per channel", async () => {
    const { a, b, c, scheduler } = await toldStorm([601, 602, 603]);

    // The first resolution of the group is told at once; the next ones wait for it.
    advance(60);
    await resolve(601);
    advance(10);
    expect((await resolve(602)).heldUntil).toEqual(new Date(now.getTime() + 290_000));
    advance(10);
    await resolve(603);
    expect(await newMessages()).toEqual([["resolved", channels.mail, a.id, []]]);
    // Counted: the two held at opening, the two held at resolution.
    expect([await heldCount("opened"), await heldCount("resolved")]).toEqual(["2", "2"]);
    const held = await call(app, "GET", `/api/v1/alerts/${b.id}`);
    expect(held.body).toMatchObject({ status: "resolved", heldUntil: "2026-11-27T12:11:00.000Z" });
    expect(held.body.timeline.at(-1)).toMatchObject({
      kind: "resolved",
      heldUntil: "2026-11-27T12:11:00.000Z",
    });
    // The first resolution went at once: nothing held.
    expect((await call(app, "GET", `/api/v1/alerts/${a.id}`)).body.timeline.at(-1)).toMatchObject({
      kind: "resolved",
      heldUntil: null,
    });

    advance(279);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 0 });
    advance(1);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 2, rises: 0 });
    expect(await newMessages()).toEqual([["resolved", channels.mail, b.id, [c.id]]]);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 0 });
    expect((await kinds(c.id)).map(([kind]) => kind)).toEqual(["opened", "grouped", "resolved", "grouped"]);
    expect((await call(app, "GET", `/api/v1/alerts/${c.id}`)).body.heldUntil).toBeNull();
  });

  it("tells the rises in severity of one group close together in one message per channel", async () => {
    const { a, b, c, scheduler } = await toldStorm([701, 702, 703]);

    // The first rise of the group is told at once, to every channel of its new severity.
    advance(60);
    expect((await slow(701, "critical")).heldUntil).toBeUndefined();
    expect(await newMessages()).toEqual([
      ["escalated", channels.mail, a.id, []],
      ["escalated", channels.pager, a.id, []],
      ["escalated", channels.escalation, a.id, []],
    ]);
    // The next ones wait for it; an acknowledged alert's rise too, since it is news.
    advance(10);
    expect((await slow(702, "critical")).heldUntil).toEqual(new Date(now.getTime() + 290_000));
    expect((await call(app, "POST", `/api/v1/alerts/${c.id}/acknowledge`)).status).toBe(200);
    advance(10);
    expect((await slow(703, "critical")).heldUntil).toEqual(new Date(now.getTime() + 280_000));
    // A second signal of a held alert keeps it held, counted once.
    expect((await slow(703, "critical")).heldUntil).toBeUndefined();
    expect(await newMessages()).toEqual([]);
    expect(await heldCount("escalated")).toBe("2");
    const held = await call(app, "GET", `/api/v1/alerts/${c.id}`);
    expect(held.body.timeline.at(-1)).toMatchObject({
      kind: "escalated",
      heldUntil: "2026-11-27T12:11:00.000Z",
    });
    expect(held.body).toMatchObject({
      status: "acknowledged",
      severity: "critical",
      heldUntil: "2026-11-27T12:11:00.000Z",
      lastNotifiedAt: "2026-11-27T12:05:00.000Z",
    });

    advance(279);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 0 });
    advance(1);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 2 });
    expect(await newMessages()).toEqual([
      ["escalated", channels.mail, b.id, [c.id]],
      ["escalated", channels.pager, b.id, [c.id]],
      ["escalated", channels.escalation, b.id, [c.id]],
    ]);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0, resolutions: 0, rises: 0 });
    expect(await kinds(b.id)).toEqual([
      ["opened", []],
      ["grouped", [channels.mail]],
      ["escalated", []],
      ["grouped", [channels.mail, channels.pager, channels.escalation]],
    ]);
    const told = await prisma.alert.findUniqueOrThrow({ where: { id: b.id } });
    expect(told).toMatchObject({
      heldUntil: null,
      lastNotifiedAt: new Date("2026-11-27T12:11:00.000Z"),
      riseNotifiedAt: new Date("2026-11-27T12:11:00.000Z"),
    });
    expect((await call(app, "GET", `/api/v1/alerts/${c.id}`)).body.heldUntil).toBeNull();
  });

  it("tells the resolution, not the rise, of an alert whose rise was held when it resolves", async () => {
    const { a, b } = await toldStorm([751, 752, 753]);
    await slow(751, "critical");
    advance(10);
    expect((await slow(752, "critical")).heldUntil).toBeDefined();
    await newMessages();
    advance(10);
    await processorOn(prisma, clock, logger, registry).apply({
      fingerprint: "response_time:key=752:endpoint=GET /users/:id",
      type: "response_time",
      severity: "critical",
      state: "resolved",
      scope: { apiKeyId: 752, endpoint: "GET /users/:id" },
      observedValue: 0.4,
      threshold: 5,
      message: "Response time back to normal",
      observedAt: now.toISOString(),
    });
    // The group's first resolution: told at once, to the channels of its severity.
    expect(await newMessages()).toEqual([
      ["resolved", channels.mail, b.id, []],
      ["resolved", channels.pager, b.id, []],
      ["resolved", channels.escalation, b.id, []],
    ]);
    advance(600);
    expect(await schedulerOn(prisma, clock, logger).runOnce()).toMatchObject({ rises: 0, resolutions: 0 });
    expect(await newMessages()).toEqual([]);
    expect((await prisma.alert.findUniqueOrThrow({ where: { id: a.id } })).riseNotifiedAt).not.toBeNull();
  });

  it("sends the escalation policy's alerts of one group together, and holds those due within the interval", async () => {
    const put = await call(app, "PUT", "/api/v1/alerts/settings", {
      escalation: { enabled: true, afterSeconds: 600, channelIds: [channels.escalation] },
    });
    expect(put.status).toBe(200);
    const a = await slow(801, "critical");
    advance(60);
    const b = await slow(802, "critical");
    advance(60);
    const c = await slow(803, "critical");
    const scheduler = schedulerOn(prisma, clock, logger);
    advance(180);
    expect(await scheduler.runOnce()).toMatchObject({ reminders: 2, escalations: 0 });
    await newMessages();

    // 12:10: a has been critical for 600 s.
    advance(300);
    expect(await scheduler.runOnce()).toMatchObject({ escalations: 1 });
    expect(await newMessages()).toEqual([["escalated", channels.escalation, a.id, []]]);
    // b falls due at 12:11 and c at 12:12, within the interval of a's: they wait for 12:15.
    advance(120);
    expect(await scheduler.runOnce()).toMatchObject({ escalations: 0 });
    advance(179);
    expect(await scheduler.runOnce()).toMatchObject({ escalations: 0 });
    expect(await newMessages()).toEqual([]);
    advance(1);
    expect(await scheduler.runOnce()).toMatchObject({ escalations: 2 });
    expect(await newMessages()).toEqual([["escalated", channels.escalation, b.id, [c.id]]]);
    expect(await kinds(c.id)).toEqual([
      ["opened", []],
      ["grouped", [channels.mail, channels.pager, channels.escalation]],
      ["escalation_policy", [channels.escalation]],
    ]);
    expect((await prisma.alert.findUniqueOrThrow({ where: { id: c.id } })).escalatedAt).toEqual(
      new Date("2026-11-27T12:15:00.000Z"),
    );
    advance(3600);
    expect(await scheduler.runOnce()).toMatchObject({ escalations: 0 });
  });

  it("escalates a group once when two replicas' schedulers take its alerts at the same moment", async () => {
    await call(app, "PUT", "/api/v1/alerts/settings", {
      repeatIntervalSeconds: 86_400,
      escalation: { enabled: true, afterSeconds: 600, channelIds: [channels.escalation] },
    });
    const other = createPrismaClient({ connectionString: db.url });
    // One alert per transaction: each replica locks a different alert of the group.
    const replica = (client: PrismaClient) =>
      createScheduler({
        prisma: client,
        logger: testLogger(),
        alertLog: createAlertLog(logger),
        consoleUrl: "http://console.test",
        intervalMs: 60_000,
        clock,
        batchSize: 1,
      });
    try {
      for (let round = 0; round < 5; round++) {
        await prisma.alert.deleteMany();
        const ids: number[] = [];
        for (const key of [900, 901, 902]) {
          ids.push((await slow(key + round * 3, "critical", `GET /race/${round}`)).id);
        }
        advance(300);
        await replica(prisma).runOnce(); // the two held openings
        await newMessages();
        advance(300);
        await Promise.all([replica(prisma).runOnce(), replica(other).runOnce()]);
        expect(await newMessages()).toHaveLength(1);
        // The others go an interval later, one batch at a time; each alert is escalated once.
        for (let pass = 0; pass < 3; pass++) {
          advance(300);
          await Promise.all([replica(prisma).runOnce(), replica(other).runOnce()]);
        }
        const events = await prisma.alertEvent.findMany({
          where: { alertId: { in: ids }, kind: "escalation_policy" },
          select: { alertId: true },
        });
        expect(events.map((e) => e.alertId).sort()).toEqual([...ids].sort());
        await newMessages();
      }
    } finally {
      await other.$disconnect();
    }
  });

  it("neither notifies an alert held for its group that is acknowledged or resolved meanwhile", async () => {
    await slow(401, "warning");
    const acknowledged = await slow(402, "warning");
    const resolved = await slow(403, "warning");
    await newMessages();
    expect((await call(app, "POST", `/api/v1/alerts/${acknowledged.id}/acknowledge`)).status).toBe(200);
    advance(1);
    await resolve(403);
    advance(299);
    expect(await schedulerOn(prisma, clock, logger).runOnce()).toEqual({
      reminders: 0,
      escalations: 0,
      resolutions: 0,
      rises: 0,
    });
    // Nobody heard of them, so nobody hears of their acknowledgement or resolution either.
    expect(await newMessages()).toEqual([]);
    const views = await Promise.all(
      [acknowledged.id, resolved.id].map((id) => call(app, "GET", `/api/v1/alerts/${id}`)),
    );
    expect(views.map((v) => v.body.heldUntil)).toEqual([null, null]);
  });

  it("holds the second of two alerts of one group opening at the same moment on two replicas", async () => {
    const other = createPrismaClient({ connectionString: db.url });
    try {
      const signal = (key: number): AlertSignal => ({
        fingerprint: `response_time:key=${key}:endpoint=GET /race`,
        type: "response_time",
        severity: "warning",
        state: "firing",
        scope: { apiKeyId: key, endpoint: "GET /race" },
        observedValue: 2.5,
        threshold: 2,
        message: "Response time on GET /race",
        observedAt: now.toISOString(),
      });
      for (let round = 0; round < 5; round++) {
        await prisma.alert.deleteMany();
        await newMessages();
        const outcomes = await Promise.all([
          processorOn(prisma, clock).apply(signal(500 + round * 2)),
          processorOn(other, clock).apply(signal(501 + round * 2)),
        ]);
        expect(outcomes.filter((o) => o.heldUntil === undefined)).toHaveLength(1);
        expect(await newMessages()).toHaveLength(1);
      }
    } finally {
      await other.$disconnect();
    }
  });
});
