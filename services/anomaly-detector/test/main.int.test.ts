import { type AlertSignal, dlqTopic, topics } from "@apimon/events";
import {
  createBatchingProducer,
  createConsumerRunner,
  createKafka,
  deleteConsumerGroups,
  ensureTopics,
  subscription,
} from "@apimon/kafka";
import {
  createTestDatabase,
  freePort,
  makeUsageEvent,
  spawnTsx,
  type TestDatabase,
  testInfra,
  uniqueName,
  uniqueTopicPrefix,
  waitFor,
} from "@apimon/testkit";
import { logger } from "./harness";

const entry = "services/anomaly-detector/src/main.ts";

describe("anomaly detector process", () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it("starts from its composition root, serves health and metrics, signals, and shuts down in order", async () => {
    const kafka = createKafka({ brokers: testInfra.kafkaBrokers, clientId: "detector-main", logger });
    const prefix = uniqueTopicPrefix("detector-main");
    const { created } = await ensureTopics(kafka, {
      prefix,
      specs: [
        topics.usageEvents,
        topics.authFailures,
        topics.alertSignals,
        dlqTopic(topics.usageEvents),
        dlqTopic(topics.authFailures),
      ],
    });
    const groupId = uniqueName("detector-main");
    const readerGroup = uniqueName("detector-main-reader");
    const port = await freePort();
    const detector = spawnTsx(entry, {
      ...process.env,
      DETECTOR_PORT: String(port),
      DETECTOR_HOST: "127.0.0.1",
      DETECTOR_GROUP_ID: groupId,
      DETECTOR_SETTINGS_POLL_MS: "200",
      DETECTOR_TICK_MS: "200",
      DATABASE_URL: db.url,
      KAFKA_TOPIC_PREFIX: prefix,
      LOG_LEVEL: "info",
    });
    const base = `http://127.0.0.1:${port}`;
    const producer = createBatchingProducer({ kafka, logger, topicPrefix: prefix });
    const signals: AlertSignal[] = [];
    const reader = createConsumerRunner({
      kafka,
      groupId: readerGroup,
      logger,
      topicPrefix: prefix,
      maxWaitTimeMs: 100,
      subscriptions: [
        subscription(topics.alertSignals, async (ms) => void signals.push(...ms.map((m) => m.value))),
      ],
    });
    try {
      await reader.start();
      expect(
        await (
          await waitFor(() => fetch(`${base}/healthz`).catch(() => undefined), {
            timeoutMs: 30_000,
            what: "liveness",
          })
        ).json(),
      ).toEqual({ status: "ok" });
      const ready = await waitFor(
        async () => {
          const res = await fetch(`${base}/readyz`);
          return res.ok && ((await res.json()) as unknown);
        },
        { timeoutMs: 30_000, what: "readiness" },
      );
      expect(ready).toEqual({ status: "ready", checks: { consumer: { ok: true }, settings: { ok: true } } });

      await producer.publish(topics.usageEvents, makeUsageEvent({ apiKeyId: 301, responseTimeMs: 2500 }));
      await waitFor(() => signals.length > 0, { timeoutMs: 30_000, what: "a signal" });
      expect(signals[0]).toMatchObject({
        fingerprint: "response_time:key=301:endpoint=GET /users/:id",
        severity: "critical",
        state: "firing",
      });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(
        /detector_signals_total\{type="response_time",severity="critical",state="firing"[^}]*\} 1/,
      );
      expect(metrics).toContain("kafka_consumer_messages_total");
      expect(metrics).toContain('detector_conditions{state="firing"');

      expect(await detector.stop("SIGTERM")).toBe(0);
      const out = detector.output();
      const order = ["shutting down", "consumer stopped", "shutdown complete"].map((line) =>
        out.indexOf(line),
      );
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
    } finally {
      await detector.stop();
      await reader.stop();
      await producer.disconnect();
      await deleteConsumerGroups(kafka, [groupId, readerGroup]).catch(() => {});
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: created }).catch(() => {});
      await admin.disconnect();
    }
  });
});
