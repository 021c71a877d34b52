import { createAlertsClient, createKeysClient } from "@apimon/client";
import { runService } from "@apimon/http";
import type { ReadinessCheck } from "@apimon/observability";
import { createApp } from "./app";
import { loadConfig } from "./config";
import { createOperatorScope } from "./operator-scope";
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

runService("console", loadConfig, ({ config, logger, registry, isShuttingDown }) => {
  const operator = createOperatorScope();
  // Each call carries the token of whoever signed in to the page it is made for; the console's
  // own token only outside any request.
  const api = { adminToken: () => operator.token() ?? config.adminToken, headers: operator.headers };
  return {
    app: createApp({
      logger,
      registry,
      alerts: createAlertsClient({ baseUrl: config.alertsUrl, ...api }),
      keys: createKeysClient({ baseUrl: config.keysUrl, ...api }),
      operator,
      sessions: createSessionManager({
        secret: sessionSecret(config.sessionSecret, config.adminToken),
        ttlSeconds: config.sessionTtlSeconds,
      }),
      chartJs: loadChartJs(),
      config,
      checks: {
        alerts: upstreamReady("alerts", config.alertsUrl),
        keys: upstreamReady("keys", config.keysUrl),
      },
      isShuttingDown,
    }),
    started: {
      message: "console listening",
      fields: { alertsUrl: config.alertsUrl, keysUrl: config.keysUrl, publicUrl: config.publicUrl },
    },
  };
});
