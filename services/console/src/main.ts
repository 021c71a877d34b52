import { createAlertsClient, createKeysClient } from "@apimon/client";
import { ConfigError } from "@apimon/config";
import { createShutdown, startServer } from "@apimon/http";
import { createLogger, createMetricsRegistry, type ReadinessCheck } from "@apimon/observability";
import { createApp } from "./app";
import { loadConfig } from "./config";
import { createSessionManager, sessionSecret } from "./session";
import { loadChartJs } from "./views/assets";

/** Ready when the API answers its own readiness probe; the console is useless without it. */
function upstreamReady(name: string, baseUrl: string): ReadinessCheck {
  return async () => {
    try {
      const res = await fetch(new URL("/readyz", baseUrl), { signal: AbortSignal.timeout(1500) });
      return res.ok ? { ok: true } : { ok: false, detail: `${name} not ready (${res.status})` };
    } catch {
      return { ok: false, detail: `${name} unreachable` };
    }
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ service: "console", level: config.logLevel });
  const registry = createMetricsRegistry("console");
  const alerts = createAlertsClient({ baseUrl: config.alertsUrl, adminToken: config.adminToken });
  const keys = createKeysClient({ baseUrl: config.keysUrl, adminToken: config.adminToken });
  const sessions = createSessionManager({
    secret: sessionSecret(config.sessionSecret, config.adminToken),
    ttlSeconds: config.sessionTtlSeconds,
  });
  let shuttingDown = false;
  const app = createApp({
    logger,
    registry,
    alerts,
    keys,
    sessions,
    chartJs: loadChartJs(),
    config,
    checks: {
      alerts: upstreamReady("alerts", config.alertsUrl),
      keys: upstreamReady("keys", config.keysUrl),
    },
    isShuttingDown: () => shuttingDown,
  });
  const server = await startServer(app, { port: config.port, hostname: config.host });
  const shutdown = createShutdown({
    logger,
    timeoutMs: config.shutdownTimeoutMs,
    steps: [
      {
        name: "fail readiness",
        run: () => {
          shuttingDown = true;
        },
      },
      { name: "close server", run: () => server.close() },
    ],
  });
  shutdown.installSignalHandlers();
  logger.info(
    { port: server.port, alertsUrl: config.alertsUrl, keysUrl: config.keysUrl, publicUrl: config.publicUrl },
    "console listening",
  );
}

main().catch((error) => {
  // A ConfigError's message already lists every bad variable; a stack would only hide it.
  const detail =
    error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error);
  process.stderr.write(`console failed to start: ${detail}\n`);
  process.exit(1);
});
