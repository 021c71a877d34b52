import { captureLogger } from "@apimon/testkit";
import type { Hono } from "hono";
import { Counter } from "prom-client";
import { createHealthRoutes, type HealthOptions, healthChecks } from "./health";
import { createMetricsRegistry } from "./metrics";

describe("logging", () => {
  it("writes JSON lines with the service name and a level label", () => {
    const { logger, lines } = captureLogger();
    logger.info({ requestId: "r1" }, "hello");
    expect(lines[0]).toMatchObject({ level: "info", service: "test", requestId: "r1", msg: "hello" });
    expect(typeof lines[0]?.time).toBe("string");
  });

  it("redacts API keys, admin tokens and secrets wherever they appear", () => {
    const { logger, lines } = captureLogger();
    logger.info(
      {
        req: {
          headers: { "x-api-key": "ak_live_secret", authorization: "Bearer admin-token", host: "edge" },
        },
        channel: { secret: "whsec", target: "https://example.test" },
        apiKey: "ak_other",
        config: {
          ADMIN_TOKEN: "t0k3n",
          DATABASE_URL: "postgresql://u:pw@db/x",
          KAFKA_SASL_PASSWORD: "scram-pw",
          KEY_CHANGES_SIGNING_SECRET: "hmac-secret",
          kafka: { security: { ssl: { key: "PRIVATE KEY" }, sasl: { password: "nested-pw" } } },
        },
        kafka: { sasl: { mechanism: "scram-sha-512", username: "edge", password: "sasl-pw" } },
      },
      "request",
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of [
      "ak_live_secret",
      "admin-token",
      "whsec",
      "ak_other",
      "t0k3n",
      "pw@db",
      "scram-pw",
      "hmac-secret",
      "sasl-pw",
      "PRIVATE KEY",
      "nested-pw",
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({
      req: { headers: { "x-api-key": "[redacted]", authorization: "[redacted]", host: "edge" } },
      channel: { secret: "[redacted]", target: "https://example.test" },
    });
  });
});

/** Health routes on a registry of their own, without the default process metrics. */
const healthApp = (options: Omit<HealthOptions, "registry"> = {}) =>
  createHealthRoutes({ registry: createMetricsRegistry("t", { defaultMetrics: false }), ...options });

async function readiness(app: Hono) {
  const res = await app.request("/readyz");
  return { status: res.status, body: await res.json() };
}

describe("health routes", () => {
  it("answers /healthz while alive", async () => {
    const res = await healthApp().request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("reports ready only when every check passes, with each check's detail", async () => {
    let redisUp = false;
    const app = healthApp({
      checks: {
        kafka: () => ({ ok: true }),
        redis: () => ({ ok: redisUp, detail: redisUp ? undefined : "connection refused" }),
      },
    });
    expect(await readiness(app)).toEqual({
      status: 503,
      body: {
        status: "not_ready",
        checks: { kafka: { ok: true }, redis: { ok: false, detail: "connection refused" } },
      },
    });
    redisUp = true;
    expect(await readiness(app)).toEqual({
      status: 200,
      body: { status: "ready", checks: { kafka: { ok: true }, redis: { ok: true } } },
    });
  });

  it("counts a throwing or hanging check as not ready", async () => {
    const app = healthApp({
      checkTimeoutMs: 50,
      checks: {
        throws: () => {
          throw new Error("boom");
        },
        hangs: () => new Promise(() => {}),
      },
    });
    expect(await readiness(app)).toEqual({
      status: 503,
      body: {
        status: "not_ready",
        checks: {
          throws: { ok: false, detail: "boom" },
          hangs: { ok: false, detail: "timed out after 50 ms" },
        },
      },
    });
  });

  it("asks parts that report their own health", async () => {
    let consumerUp = true;
    const app = healthApp({
      checks: healthChecks({ consumer: { isHealthy: () => consumerUp }, relay: { isHealthy: () => true } }),
    });
    expect((await readiness(app)).body).toEqual({
      status: "ready",
      checks: { consumer: { ok: true }, relay: { ok: true } },
    });
    consumerUp = false;
    expect(await readiness(app)).toEqual({
      status: 503,
      body: { status: "not_ready", checks: { consumer: { ok: false }, relay: { ok: true } } },
    });
  });

  it("fails readiness once shutdown starts", async () => {
    const app = healthApp({ isShuttingDown: () => true });
    expect(await readiness(app)).toEqual({ status: 503, body: { status: "shutting_down", checks: {} } });
  });

  it("serves Prometheus text with the service label", async () => {
    const registry = createMetricsRegistry("demo");
    new Counter({ name: "demo_things_total", help: "things", registers: [registry] }).inc(3);
    const res = await createHealthRoutes({ registry }).request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toContain('demo_things_total{service="demo"} 3');
    expect(text).toContain("process_cpu_seconds_total");
  });
});
