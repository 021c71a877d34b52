import { adminEnv, DEFAULT_PORTS, envTypes, parseServiceEnv } from "@apimon/config";

/** The alerts service's settings. The admin token is in here: never log this object. */
export function loadConfig(env = process.env) {
  const { settings, raw } = parseServiceEnv(
    // Every replica shares the consumer group of alerts.signals.v1.
    {
      prefix: "ALERTS",
      port: DEFAULT_PORTS.alerts,
      groupId: "alerts",
      database: true,
      kafka: true,
      shared: adminEnv,
    },
    {
      /** Where people reach the operator console: links in notifications and /console point there. */
      CONSOLE_PUBLIC_URL: envTypes.url(`http://localhost:${DEFAULT_PORTS.console}`),
      /** How often reminders and the escalation policy are looked at. */
      ALERTS_SCHEDULER_MS: envTypes.positiveInt(5000),
      /** How long `POST /channels/:id/test` waits for the notifier's delivery record. */
      ALERTS_TEST_TIMEOUT_MS: envTypes.positiveInt(10_000),
      /** How often the outbox relay looks for unpublished notification jobs (it is also woken on commit). */
      OUTBOX_POLL_MS: envTypes.positiveInt(100),
    },
    env,
  );
  return {
    ...settings,
    adminToken: raw.ADMIN_TOKEN,
    trustedProxyHops: raw.ADMIN_TRUSTED_PROXY_HOPS,
    // Without a trailing slash, so that paths append cleanly.
    consoleUrl: raw.CONSOLE_PUBLIC_URL.replace(/\/+$/, ""),
    schedulerMs: raw.ALERTS_SCHEDULER_MS,
    testTimeoutMs: raw.ALERTS_TEST_TIMEOUT_MS,
    outboxPollMs: raw.OUTBOX_POLL_MS,
  };
}

export type Config = ReturnType<typeof loadConfig>;
