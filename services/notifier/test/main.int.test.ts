import { randomUUID } from "node:crypto";
import { topics } from "@apimon/events";
import { createBatchingProducer } from "@apimon/kafka";
import {
  createTestDatabase,
  createTestTopics,
  expectConfigRefused,
  logLines,
  type SmtpReceiver,
  startService,
  startSmtpReceiver,
  type TestDatabase,
  testLogger,
  uniqueName,
  waitFor,
  waitReady,
} from "@apimon/testkit";
import { makeJob } from "./fixtures";

const entry = "services/notifier/src/main.ts";
const SMTP_PASSWORD = "smtp-secret-password-0123";
const logger = testLogger("notifier-main");

describe("notifier process", () => {
  let db: TestDatabase;
  let smtp: SmtpReceiver;

  beforeAll(async () => {
    [db, smtp] = await Promise.all([
      createTestDatabase(),
      startSmtpReceiver({ user: "apimon", pass: SMTP_PASSWORD }),
    ]);
  });

  afterAll(async () => {
    await smtp?.close();
    await db?.drop();
  });

  it("starts from its composition root, delivers email over authenticated SMTP, and shuts down in order", async () => {
    const run = await createTestTopics("notifier-main", [topics.notifications], { logger, withDlq: true });
    const { kafka, prefix } = run;
    const channel = await db.prisma.notificationChannel.create({
      data: { name: "ops mail", type: "email", target: "ops@example.com" },
    });
    const groupPrefix = uniqueName("notifier-main");
    const notifier = await startService(entry, {
      envPrefix: "NOTIFIER",
      databaseUrl: db.url,
      topicPrefix: prefix,
      env: {
        NOTIFIER_GROUP_PREFIX: groupPrefix,
        SMTP_URL: `smtp://apimon:${SMTP_PASSWORD}@127.0.0.1:${smtp.port}`,
      },
    });
    const base = notifier.url;
    const producer = createBatchingProducer({ kafka, logger, topicPrefix: prefix });
    try {
      const ready = await waitReady(base, { timeoutMs: 45_000, intervalMs: 200 });
      expect(ready).toEqual({
        status: "ready",
        checks: {
          database: { ok: true },
          emailConsumer: { ok: true },
          slackConsumer: { ok: true },
          webhookConsumer: { ok: true },
        },
      });
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: "ok" });

      const job = makeJob({
        deliveryId: randomUUID(),
        reason: "test",
        channel: { id: channel.id, type: "email" },
        target: "ops@example.com",
        alert: { ...makeJob().alert, id: null },
      });
      await producer.publish(topics.notifications, job);
      const row = await waitFor(
        async () =>
          (await db.prisma.notificationDelivery.findUnique({ where: { deliveryId: job.deliveryId } })) ??
          undefined,
        { timeoutMs: 30_000, intervalMs: 100, what: "the delivery row" },
      );
      expect(row).toMatchObject({
        status: "succeeded",
        attempt: 1,
        alertId: null,
        channelId: channel.id,
        responseCode: 250,
      });
      expect(smtp.messages).toHaveLength(1);
      expect(smtp.messages[0]?.user).toBe("apimon");
      expect(smtp.messages[0]?.raw).toContain("Subject: [TEST] response_time on key 7 /users/:id");

      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(
        /notifier_deliveries_total\{channel_type="email",outcome="succeeded",service="notifier"\} 1/,
      );
      expect(metrics).toMatch(
        /notifier_attempt_duration_seconds_count\{service="notifier",channel_type="email",outcome="succeeded"\} 1/,
      );
      expect(metrics).toContain("kafka_consumer_messages_total");
    } finally {
      await producer.disconnect();
      notifier.child.kill("SIGTERM");
    }
    expect(await notifier.exited).toBe(0);
    run.adoptGroups(...["email", "slack", "webhook"].map((t) => `${groupPrefix}-${t}`));
    await run.cleanup();

    const output = notifier.output();
    const lines = logLines(notifier);
    const milestones = ["notifier listening", "shutting down", "consumer stopped", "shutdown complete"];
    // Every consumer of the three groups (NOTIFIER_CONSUMERS_PER_TYPE, 6 each) stops before the end.
    expect(lines.map((l) => l.msg).filter((m) => milestones.includes(m))).toEqual([
      "notifier listening",
      "shutting down",
      ...Array<string>(18).fill("consumer stopped"),
      "shutdown complete",
    ]);
    expect(lines.find((l) => l.msg === "notifier listening")?.smtp).toBe(
      `smtp://apimon:***@127.0.0.1:${smtp.port}`,
    );
    expect(output).not.toContain(SMTP_PASSWORD);
  });

  it("refuses to start with bad settings, naming every variable", async () => {
    await expectConfigRefused(
      entry,
      {
        ...process.env,
        NOTIFIER_PORT: "eighty",
        NOTIFIER_CHANNEL_TYPES: "email,fax",
        NOTIFIER_TARGET_ALLOWLIST: "10.0.0.0/99",
      },
      {
        service: "notifier",
        variables: ["NOTIFIER_PORT", "NOTIFIER_CHANNEL_TYPES", "NOTIFIER_TARGET_ALLOWLIST"],
      },
    );
  });
});
