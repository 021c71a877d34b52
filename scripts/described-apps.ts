// The keys and alerts apps as their routes describe them: built with stand-in dependencies, for
// what reads only the descriptions (/openapi.json, /docs) and never runs a handler that would
// reach the database. Used by the API type generator and by the tests of the documents.
import { createLogger, Registry } from "@apimon/observability";
import { createAlertLog } from "../services/alerts/src/alert-log";
import { createApp as createAlertsApp } from "../services/alerts/src/app";
import { createApp as createKeysApp } from "../services/keys/src/app";

export function describedApps() {
  const logger = createLogger({ service: "described-apps", level: "silent" });
  return {
    keys: createKeysApp({
      logger,
      registry: new Registry(),
      prisma: {} as never,
      config: {
        adminToken: "-",
        keyHashSecret: "-",
        graceSeconds: 60,
        defaults: { minute: 1, hour: 1, day: 1 },
      },
      isShuttingDown: () => false,
    }),
    alerts: createAlertsApp({
      logger,
      registry: new Registry(),
      prisma: {} as never,
      alertLog: createAlertLog(logger),
      config: { adminToken: "-", consoleUrl: "http://127.0.0.1:1", testTimeoutMs: 1000 },
      isShuttingDown: () => false,
    }),
  };
}

/** One described app and the document it serves at /openapi.json. */
export async function describedDocument<D>(name: keyof ReturnType<typeof describedApps>) {
  const app = describedApps()[name];
  const res = await app.request("/openapi.json");
  if (res.status !== 200) throw new Error(`/openapi.json answered ${res.status}`);
  return { routes: app.routes, document: (await res.json()) as D };
}
