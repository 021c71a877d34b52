import { Hono } from "hono";
import type { Registry } from "prom-client";

export interface CheckResult {
  ok: boolean;
  detail?: unknown;
}

/** A named readiness check; it should answer quickly and never throw (a throw counts as not ok). */
export type ReadinessCheck = () => CheckResult | Promise<CheckResult>;

/** Readiness checks of parts that say themselves whether they are healthy (consumers, loops). */
export function healthChecks(
  parts: Record<string, { isHealthy(): boolean }>,
): Record<string, ReadinessCheck> {
  return Object.fromEntries(
    Object.entries(parts).map(([name, part]) => [name, (): CheckResult => ({ ok: part.isHealthy() })]),
  );
}

export interface HealthOptions {
  registry: Registry;
  checks?: Record<string, ReadinessCheck>;
  /** Set once shutdown starts, so load balancers stop sending traffic before the server closes. */
  isShuttingDown?: () => boolean;
  checkTimeoutMs?: number;
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(check),
      new Promise<CheckResult>((resolve) => {
        timer = setTimeout(
          () => resolve({ ok: false, detail: `timed out after ${timeoutMs} ms` }),
          timeoutMs,
        );
      }),
    ]);
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/healthz` (the process is alive), `/readyz` (every check passes and no shutdown is under way)
 * and `/metrics` (Prometheus text) for any service; mount it with `app.route("/", ...)`.
 */
export function createHealthRoutes({
  registry,
  checks = {},
  isShuttingDown = () => false,
  checkTimeoutMs = 2000,
}: HealthOptions): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const names = Object.keys(checks);
    const results = await Promise.all(
      names.map((name) => runCheck(checks[name] as ReadinessCheck, checkTimeoutMs)),
    );
    const detail = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const shuttingDown = isShuttingDown();
    const ready = !shuttingDown && results.every((r) => r.ok);
    return c.json(
      { status: ready ? "ready" : shuttingDown ? "shutting_down" : "not_ready", checks: detail },
      ready ? 200 : 503,
    );
  });
  app.get("/metrics", async (c) => {
    c.header("Content-Type", registry.contentType);
    return c.body(await registry.metrics());
  });
  return app;
}
