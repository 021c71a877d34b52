import { type AlertSignal, topics } from "@apimon/events";
import { type BatchingProducer, createBatchingProducer, type KafkaClient } from "@apimon/kafka";
import {
  createTestDatabase,
  expectConfigRefused,
  logLines,
  startService,
  type TestDatabase,
  testLogger,
  uniqueName,
  uniqueTopicPrefix,
  waitFor,
  waitReady,
} from "@apimon/testkit";
import { createTopics } from "./support";

const entry = "services/alerts/src/main.ts";
const ADMIN_TOKEN = "alerts-process-admin-token-0123456789";

describe("alerts service process", () => {
  let db: TestDatabase;
  let kafka: KafkaClient;
  let cleanupTopics: () => Promise<void>;
  let producer: BatchingProducer;
  const prefix = uniqueTopicPrefix("alerts-main");

  beforeAll(async () => {
    db = await createTestDatabase();
    ({ kafka, cleanup: cleanupTopics } = await createTopics(prefix));
    producer = createBatchingProducer({ kafka, logger: testLogger(), topicPrefix: prefix });
  });

  afterAll(async () => {
    await producer?.disconnect();
    await cleanupTopics?.();
    await db?.drop();
  });

  it("starts from its composition root, turns signals into alerts and jobs, and shuts down in order", async () => {
    const alerts = await startService(entry, {
      envPrefix: "ALERTS",
      databaseUrl: db.url,
      topicPrefix: prefix,
      env: {
        ALERTS_GROUP_ID: uniqueName("alerts-main"),
        CONSOLE_PUBLIC_URL: "http://127.0.0.1:8087",
        ALERTS_SCHEDULER_MS: "200",
        ADMIN_TOKEN,
        OUTBOX_POLL_MS: "50",
      },
    });
    const base = alerts.url;
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };

    try {
      const ready = await waitReady(base, { timeoutMs: 45_000 });
      expect(ready).toEqual({
        status: "ready",
        checks: {
          database: { ok: true },
          consumer: { ok: true },
          outboxRelay: { ok: true },
          scheduler: { ok: true },
        },
      });

      const channel = await fetch(`${base}/api/v1/alerts/channels`, {
        method: "POST",
        headers,
        body: JSON.stringify({ type: "email", target: "ops@example.com" }),
      });
      expect(channel.status).toBe(201);

      const signal: AlertSignal = {
        fingerprint: "unauthorized_access:ip=10.1.2.3",
        type: "unauthorized_access",
        severity: "critical",
        state: "firing",
        scope: { clientIp: "10.1.2.3" },
        observedValue: 9,
        threshold: 5,
        message: "9 failed authentications from 10.1.2.3 in the last hour",
        observedAt: new Date().toISOString(),
      };
      await producer.publish(topics.alertSignals, signal);
      const listed = await waitFor(
        async () => {
          const res = await fetch(`${base}/api/v1/alerts`, { headers });
          const body = (await res.json()) as { items: { fingerprint: string; severity: string }[] };
          return body.items.length > 0 && body;
        },
        { timeoutMs: 20_000, what: "the alert in the API" },
      );
      expect(listed.items).toEqual([
        expect.objectContaining({ fingerprint: signal.fingerprint, severity: "critical", status: "firing" }),
      ]);
      // The relay marks a job only after Kafka acknowledged it.
      await waitFor(
        async () =>
          (await db.prisma.outbox.count({
            where: { topic: topics.notifications.name, publishedAt: { not: null } },
          })) === 1,
        { timeoutMs: 15_000, what: "the notification job to be published" },
      );
    } finally {
      alerts.child.kill("SIGTERM");
    }
    expect(await alerts.exited).toBe(0);

    const output = alerts.output();
    const lines = logLines(alerts);
    const milestones = [
      "alerts service listening",
      "shutting down",
      "consumer stopped",
      "scheduler stopped",
      "outbox relay stopped",
      "shutdown complete",
    ];
    expect(lines.map((l) => l.msg).filter((m) => milestones.includes(m))).toEqual(milestones);
    expect(lines.find((l) => l.msg.startsWith("alert firing"))).toMatchObject({
      level: "critical",
      severity: "CRITICAL",
      msg: "alert firing: 9 failed authentications from 10.1.2.3 in the last hour",
    });
    expect(output).not.toContain(ADMIN_TOKEN);
  });

  it("refuses to start without its admin token, naming every bad variable", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ALERTS_PORT: "eighty", ALERTS_TEST_TIMEOUT_MS: "-1" };
    delete env.ADMIN_TOKEN;
    await expectConfigRefused(entry, env, {
      service: "alerts",
      variables: ["ADMIN_TOKEN", "ALERTS_PORT", "ALERTS_TEST_TIMEOUT_MS"],
    });
  });
});
