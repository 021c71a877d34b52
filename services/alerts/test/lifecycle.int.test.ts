import { isRetriableDbError, type PrismaClient } from "@apimon/db";
import { type AlertSignal, type NotificationJob, topics } from "@apimon/events";
import {
  type BatchingProducer,
  type ConsumerRunner,
  createBatchingProducer,
  createConsumerRunner,
  isMarkedRetriable,
  type KafkaClient,
  subscription,
} from "@apimon/kafka";
import { createOutboxRelay, type OutboxRelay } from "@apimon/outbox";
import {
  createTestDatabase,
  makeAlertSignal,
  type TestDatabase,
  testLogger,
  uniqueName,
  uniqueTopicPrefix,
  waitFor,
} from "@apimon/testkit";
import { createAlertLog } from "../src/alert-log";
import { createAlertSignalHandler } from "../src/handlers/alert-signals";
import { createSignalProcessor } from "../src/signals";
import { CONSOLE_URL, capturingLogger, collectJobs, createTopics, processorOn, UUID } from "./support";

// The signal path end to end on real Kafka and Postgres: alerts.signals.v1 → the consumer →
// alerts (dedup, escalation, resolution, reopening) → outbox → relay → notifications.v1.

let db: TestDatabase;
let prisma: PrismaClient;
let kafka: KafkaClient;
let cleanupTopics: () => Promise<void>;
let producer: BatchingProducer;
let relay: OutboxRelay;
let consumer: ConsumerRunner;
let jobsRunner: ConsumerRunner;
let jobs: NotificationJob[];
const { logger, lines } = capturingLogger();
const prefix = uniqueTopicPrefix("alerts-life");
let channels: { warning: number; critical: number; disabled: number };

const T0 = Date.parse("2026-11-27T12:00:00.000Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function signal(fingerprint: string, seconds: number, overrides: Partial<AlertSignal> = {}): AlertSignal {
  return makeAlertSignal({
    fingerprint,
    message: "Response time 1.4 s above 1 s on /users/:id",
    observedAt: at(seconds),
    ...overrides,
  });
}

async function publish(...signals: AlertSignal[]): Promise<void> {
  await Promise.all(signals.map((s) => producer.publish(topics.alertSignals, s)));
}

/** The fingerprint's open alert; undefined (not null) while there is none, for waitFor. */
const openAlert = async (fingerprint: string) =>
  (await prisma.alert.findFirst({ where: { fingerprint, status: { not: "resolved" } } })) ?? undefined;

/** The jobs about one alert, as [reason, channel id] pairs in arrival order. */
const jobsOf = (alertId: number) =>
  jobs.filter((j) => j.alert.id === alertId).map((j) => [j.reason, j.channel.id] as [string, number]);

/**
 * The reasons of one alert's jobs per channel, in arrival order: what the topic keeps in order (an
 * alert's messages to one channel share a key; its channels do not).
 */
const reasonsByChannel = (alertId: number) => {
  const byChannel: Record<number, string[]> = {};
  for (const [reason, channel] of jobsOf(alertId))
    byChannel[channel] = [...(byChannel[channel] ?? []), reason];
  return byChannel;
};

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = db.prisma;
  ({ kafka, cleanup: cleanupTopics } = await createTopics(prefix));
  const quiet = testLogger();
  producer = createBatchingProducer({ kafka, logger: quiet, topicPrefix: prefix });
  relay = createOutboxRelay({ prisma, producer, logger: quiet, pollMs: 50, topicPrefix: prefix });
  const processor = createSignalProcessor({
    prisma,
    alertLog: createAlertLog(logger),
    logger,
    consoleUrl: CONSOLE_URL,
  });
  const groupId = uniqueName("alerts-life");
  consumer = createConsumerRunner({
    kafka,
    groupId,
    logger: quiet,
    topicPrefix: prefix,
    maxWaitTimeMs: 100,
    subscriptions: [
      subscription(
        topics.alertSignals,
        createAlertSignalHandler({ processor, groupId, onJobsQueued: () => relay.nudge() }),
      ),
    ],
    isRetriable: (error) => isMarkedRetriable(error) || isRetriableDbError(error),
  });
  // One after the other: jobs go out in channel id order.
  const warning = await prisma.notificationChannel.create({
    data: { name: "ops mail", type: "email", target: "ops@example.com" },
  });
  const critical = await prisma.notificationChannel.create({
    data: {
      name: "pager",
      type: "webhook",
      target: "https://pager.example.com/hook",
      minSeverity: "critical",
    },
  });
  const disabled = await prisma.notificationChannel.create({
    data: { name: "old", type: "slack", target: "https://hooks.slack.com/x", enabled: false },
  });
  channels = { warning: warning.id, critical: critical.id, disabled: disabled.id };
  await relay.start();
  await consumer.start();
  ({ jobs, runner: jobsRunner } = await collectJobs(kafka, prefix));
});

afterAll(async () => {
  await consumer?.stop();
  await jobsRunner?.stop();
  await relay?.stop();
  await producer?.disconnect();
  await cleanupTopics?.();
  await db?.drop();
});

describe("alert lifecycle through Kafka", () => {
  it("dedups a repeated signal, escalates in place, resolves, and opens a new alert after resolution", async () => {
    const fp = "response_time:key=7:endpoint=/users/:id";

    // A slow call: one alert, notified on the warning channel only.
    await publish(signal(fp, 0));
    const first = await waitFor(() => openAlert(fp), { what: "the alert to open" });
    await waitFor(() => jobsOf(first.id).length === 1, { what: "the firing job" });

    // A second slow call: the same alert counts it; no new notification.
    await publish(signal(fp, 10, { observedValue: 1.7 }));
    await waitFor(async () => (await openAlert(fp))?.occurrences === 2, { what: "the repeat to count" });
    expect(await prisma.alert.count({ where: { fingerprint: fp } })).toBe(1);

    // A slower one: the same alert escalates to critical and notifies both channels again.
    await publish(
      signal(fp, 20, { severity: "critical", observedValue: 2.6, threshold: 2, message: "2.6 s" }),
    );
    await waitFor(() => jobsOf(first.id).length === 3, { what: "the escalation jobs" });
    expect(await openAlert(fp)).toMatchObject({
      id: first.id,
      severity: "critical",
      status: "firing",
      occurrences: 3,
      observedValue: 2.6,
      threshold: 2,
      message: "2.6 s",
      firstSeenAt: new Date(at(0)),
      lastSeenAt: new Date(at(20)),
    });

    // Resolution: the alert resolves and every channel that heard of it hears that.
    await publish(signal(fp, 30, { state: "resolved", observedValue: 0.2 }));
    await waitFor(() => jobsOf(first.id).length === 5, { what: "the resolution jobs" });
    expect(await prisma.alert.findUnique({ where: { id: first.id } })).toMatchObject({
      status: "resolved",
      resolvedAt: new Date(at(30)),
    });
    expect(reasonsByChannel(first.id)).toEqual({
      [channels.warning]: ["firing", "escalated", "resolved"],
      [channels.critical]: ["escalated", "resolved"],
    });

    // The whole job, as the notifier gets it.
    expect(
      jobs.find(
        (j) => j.alert.id === first.id && j.reason === "escalated" && j.channel.id === channels.critical,
      ),
    ).toEqual({
      deliveryId: UUID,
      reason: "escalated",
      channel: { id: channels.critical, type: "webhook" },
      target: "https://pager.example.com/hook",
      attempt: 1,
      alertUrl: `${CONSOLE_URL}/alerts/${first.id}`,
      alert: {
        id: first.id,
        fingerprint: fp,
        type: "response_time",
        severity: "critical",
        status: "firing",
        message: "2.6 s",
        apiKeyId: 7,
        endpoint: "/users/:id",
        clientIp: null,
        observedValue: 2.6,
        threshold: 2,
        occurrences: 3,
        firstSeenAt: at(0),
        lastSeenAt: at(20),
      },
    });
    expect(new Set(jobs.map((j) => j.deliveryId)).size).toBe(jobs.length);

    // Fires again after the resolution: a new alert.
    await publish(signal(fp, 40));
    const second = await waitFor(() => openAlert(fp), { what: "a new alert" });
    expect(second.id).not.toBe(first.id);
    expect(second).toMatchObject({ severity: "warning", occurrences: 1, status: "firing" });

    // The timeline of the first alert.
    const timeline = await prisma.alertEvent.findMany({
      where: { alertId: first.id },
      orderBy: { id: "asc" },
    });
    expect(timeline.map((e) => [e.kind, e.severity, e.channelIds])).toEqual([
      ["opened", "warning", [channels.warning]],
      ["escalated", "critical", [channels.warning, channels.critical]],
      ["resolved", "critical", [channels.warning, channels.critical]],
    ]);

    // The spec's log levels: WARNING for the warning, CRITICAL for the escalation.
    const alertLines = lines.filter((l) => l.alertId === first.id && l.severity);
    expect(alertLines.map((l) => [l.level, l.severity, l.msg])).toEqual([
      ["warn", "WARNING", "alert firing: Response time 1.4 s above 1 s on /users/:id"],
      ["critical", "CRITICAL", "alert escalated from warning to critical: 2.6 s"],
      ["info", "CRITICAL", "alert resolved: 2.6 s"],
    ]);
  });

  it("keeps an acknowledged alert acknowledged on firing signals, and resolves it on a resolved one", async () => {
    const fp = "error_rate:key=8";
    await publish(signal(fp, 0, { type: "error_rate", scope: { apiKeyId: 8 } }));
    const alert = await waitFor(() => openAlert(fp), { what: "the alert" });
    await prisma.alert.update({
      where: { id: alert.id },
      data: { status: "acknowledged", acknowledgedAt: new Date() },
    });

    await publish(signal(fp, 5, { type: "error_rate", scope: { apiKeyId: 8 } }));
    await waitFor(async () => (await openAlert(fp))?.occurrences === 2, { what: "the count" });
    expect((await openAlert(fp))?.status).toBe("acknowledged");

    await publish(signal(fp, 9, { type: "error_rate", scope: { apiKeyId: 8 }, state: "resolved" }));
    await waitFor(
      async () => (await prisma.alert.findUnique({ where: { id: alert.id } }))?.status === "resolved",
      {
        what: "the resolution",
      },
    );
  });
});

describe("alert messages", () => {
  it("name the API key by its name and display prefix, not only its id, and so do its jobs", async () => {
    const user = await prisma.user.create({ data: { email: "named-key@example.com", name: "Named" } });
    const key = await prisma.apiKey.create({
      data: { userId: user.id, name: "billing export", keyHash: "named-key-hash", keyPrefix: "ak_Named123" },
    });
    const outcome = await processorOn(prisma, () => new Date()).apply(
      // An endpoint no other test's alert has: the first of its group is notified at once.
      signal("response_time:named-key", 1, {
        scope: { apiKeyId: key.id, endpoint: "/exports/:id" },
        message: `key ${key.id}, GET /exports/:id: response time 1.3 s above 1 s`,
      }),
    );
    expect(outcome.alert?.message).toBe(
      `key "billing export" (ak_Named123…, #${key.id}), GET /exports/:id: response time 1.3 s above 1 s`,
    );
    // Its notification jobs carry the name, for the notifier's subject lines.
    const job = await waitFor(() => jobs.find((j) => j.alert.id === outcome.alert?.id), {
      what: "the alert's notification job",
    });
    expect(job.alert).toMatchObject({ apiKeyId: key.id, apiKeyName: "billing export" });
  });
});

describe("idempotent and race-safe signal handling", () => {
  let second: PrismaClient;

  beforeAll(() => {
    second = createTestDatabaseClient();
  });
  afterAll(async () => {
    await second?.$disconnect();
  });

  /** A second client on the same database: another replica of the service. */
  function createTestDatabaseClient(): PrismaClient {
    const { createPrismaClient } = require("@apimon/db") as typeof import("@apimon/db");
    return createPrismaClient({ connectionString: db.url });
  }

  it("applies each message once when two replicas handle one partition at once (a rebalance)", async () => {
    // Both replicas get the partition's messages in order, interleaved with each other, and
    // one of them twice (a redelivery after a crash before the commit).
    const fp = "usage_spike:key=9";
    const a = processorOn(prisma, () => new Date());
    const b = processorOn(second, () => new Date());
    const spike = (s: number, overrides: Partial<AlertSignal> = {}) =>
      signal(fp, s, { type: "usage_spike", scope: { apiKeyId: 9 }, ...overrides });
    const partition = [
      spike(0),
      spike(1),
      spike(2, { severity: "critical", threshold: 3 }),
      spike(3, { severity: "critical", threshold: 3 }),
      spike(4, { state: "resolved" }),
    ];
    const position = (offset: number) => ({
      groupId: "alerts",
      topic: "race",
      partition: 0,
      offset: String(offset),
    });
    const run = async (p: ReturnType<typeof processorOn>) => {
      for (const [offset, s] of partition.entries()) await p.apply(s, position(offset));
    };
    await Promise.all([run(a), run(b), run(a)]);

    const alerts = await prisma.alert.findMany({ where: { fingerprint: fp } });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      status: "resolved",
      severity: "critical",
      occurrences: 4,
      lastSeenAt: new Date(at(3)),
      resolvedAt: new Date(at(4)),
    });
    const id = alerts[0]?.id as number;
    const timeline = await prisma.alertEvent.findMany({ where: { alertId: id }, orderBy: { id: "asc" } });
    expect(timeline.map((e) => e.kind)).toEqual(["opened", "escalated", "resolved"]);
    // firing (warning channel), escalated and resolved (both): once each, not once per replica.
    const queued = await prisma.outbox.findMany({
      where: { topic: topics.notifications.name, messageKey: { startsWith: `${id}:` } },
      orderBy: { id: "asc" },
    });
    expect(queued.map((row) => (row.payload as NotificationJob).reason)).toEqual([
      "firing",
      "escalated",
      "escalated",
      "resolved",
      "resolved",
    ]);
    expect(
      await prisma.consumerOffset.findUnique({
        where: { groupId_topic_partition: { groupId: "alerts", topic: "race", partition: 0 } },
      }),
    ).toMatchObject({ nextOffset: 5n });
    // A redelivered message changes nothing, even one that would reopen the alert.
    expect((await a.apply(spike(9), position(1))).decision).toEqual({
      kind: "ignore",
      reason: "redelivered",
    });
    expect(await prisma.alert.count({ where: { fingerprint: fp } })).toBe(1);
  });

  it("opens one alert per fingerprint when two replicas open it at the same moment (INSERT … ON CONFLICT)", async () => {
    const a = processorOn(prisma, () => new Date());
    const b = processorOn(second, () => new Date());
    const fps = Array.from({ length: 10 }, (_, i) => `rate_limit_approaching:key=${100 + i}:window=minute`);
    const first = (fp: string) => signal(fp, 0, { type: "rate_limit_approaching", scope: { apiKeyId: 1 } });
    await Promise.all(fps.flatMap((fp) => [a.apply(first(fp)), b.apply(first(fp))]));
    const alerts = await prisma.alert.findMany({ where: { fingerprint: { in: fps } } });
    expect(alerts).toHaveLength(fps.length);
    expect(alerts.every((alert) => alert.occurrences === 1)).toBe(true);
    expect(
      await prisma.alertEvent.count({ where: { alertId: { in: alerts.map((x) => x.id) }, kind: "opened" } }),
    ).toBe(fps.length);
  });

  it("takes copies of signals the detector published twice as one", async () => {
    const fp = "unauthorized_access:ip=10.0.0.1";
    const p = processorOn(prisma, () => new Date());
    const brute = (s: number, overrides: Partial<AlertSignal> = {}) =>
      signal(fp, s, {
        type: "unauthorized_access",
        severity: "critical",
        scope: { clientIp: "10.0.0.1" },
        ...overrides,
      });
    // A retried send can put a copy right after the original, or a whole batch again.
    const resolved = brute(9, { state: "resolved" });
    const messages = [brute(0), brute(0), brute(5), resolved, brute(5), resolved];
    const outboxBefore = await prisma.outbox.count();
    const decisions: string[] = [];
    for (const [offset, s] of messages.entries()) {
      const { decision } = await p.apply(s, {
        groupId: "alerts",
        topic: "copies",
        partition: 0,
        offset: String(offset),
      });
      decisions.push(decision.kind === "ignore" ? decision.reason : decision.kind);
    }
    expect(decisions).toEqual(["open", "duplicate", "update", "resolve", "stale", "nothing_open"]);
    const alerts = await prisma.alert.findMany({ where: { fingerprint: fp } });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ status: "resolved", occurrences: 2, severity: "critical" });
    // firing and resolved, on the two channels that route critical alerts.
    expect((await prisma.outbox.count()) - outboxBefore).toBe(4);
  });
});
