import { createPrismaClient, type PrismaClient } from "@apimon/db";
import type { AlertSignal, NotificationJob } from "@apimon/events";
import { createTestDatabase, type TestDatabase } from "@apimon/testkit";
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
async function fire(severity: AlertSignal["severity"]): Promise<number> {
  fingerprints += 1;
  const outcome = await processorOn(prisma, clock).apply({
    fingerprint: `error_rate:key=${fingerprints}`,
    type: "error_rate",
    severity,
    state: "firing",
    scope: { apiKeyId: fingerprints },
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
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0 });
    advance(1);
    expect(await scheduler.runOnce()).toEqual({ reminders: 1, escalations: 0 });
    expect(await newJobs()).toEqual([["reminder", id, channels.mail]]);
    // Nothing more until the next interval.
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0 });
    advance(600);
    expect(await scheduler.runOnce()).toEqual({ reminders: 1, escalations: 0 });
    expect(await newJobs()).toEqual([["reminder", id, channels.mail]]);

    const ack = await call(app, "POST", `/api/v1/alerts/${id}/acknowledge`, { by: "ada" });
    expect(ack.status).toBe(200);
    advance(6000);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0 });
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
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0 });
    advance(1);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 1 });
    expect(await newJobs()).toEqual([["escalated", critical, channels.escalation]]);
    advance(900);
    expect(await scheduler.runOnce()).toEqual({ reminders: 0, escalations: 0 });

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
      scope: { apiKeyId: fingerprints },
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
