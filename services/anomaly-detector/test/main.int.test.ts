import { topics } from "@apimon/events";
import { createBatchingProducer } from "@apimon/kafka";
import {
  makeUsageEvent,
  readTopic,
  startService,
  testDatabaseForFile,
  waitFor,
  waitReady,
} from "@apimon/testkit";
import { createDetectorTopics, logger } from "./harness";

const entry = "services/anomaly-detector/src/main.ts";

describe("anomaly detector process", () => {
  const databaseOfFile = testDatabaseForFile();

  it("starts from its composition root, serves health and metrics, signals, and shuts down in order", async () => {
    const db = databaseOfFile();
    const run = await createDetectorTopics("detector-main");
    const { kafka, prefix } = run;
    const detector = await startService(entry, {
      envPrefix: "DETECTOR",
      databaseUrl: db.url,
      topicPrefix: prefix,
      env: {
        DETECTOR_GROUP_ID: run.group("detector-main"),
        DETECTOR_SETTINGS_POLL_MS: "200",
        DETECTOR_TICK_MS: "200",
      },
    });
    const base = detector.url;
    const producer = createBatchingProducer({ kafka, logger, topicPrefix: prefix });
    const reader = await readTopic(run, topics.alertSignals, { label: "detector-main-reader", logger });
    const signals = reader.values;
    try {
      expect(
        await (
          await waitFor(() => fetch(`${base}/healthz`).catch(() => undefined), {
            timeoutMs: 30_000,
            what: "liveness",
          })
        ).json(),
      ).toEqual({ status: "ok" });
      const ready = await waitReady(base, { timeoutMs: 30_000 });
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
      expect(metrics).toMatch(/^detector_endpoints\{[^}]*\} 1$/m);
      expect(metrics).toMatch(/^detector_endpoints_evicted_total\{[^}]*\} 0$/m);

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
      await run.cleanup();
    }
  });
});
