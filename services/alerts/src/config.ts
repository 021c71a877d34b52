import {
  adminEnv,
  DEFAULT_PORTS,
  databaseConfig,
  databaseEnv,
  envTypes,
  kafkaConfig,
  kafkaEnv,
  loggingConfig,
  loggingEnv,
  parseEnv,
} from "@apimon/config";
import { z } from "zod";

/** The alerts service's settings. The admin token is in here: never log this object. */
export function loadConfig(env = process.env) {
  const raw = parseEnv(
    {
      ...loggingEnv,
      ...databaseEnv,
      ...kafkaEnv,
      ...adminEnv,
      ALERTS_PORT: envTypes.port(DEFAULT_PORTS.alerts),
      ALERTS_HOST: z.string().default("0.0.0.0"),
      /** Consumer group of alerts.signals.v1; every replica of the service shares it. */
      ALERTS_GROUP_ID: z.string().min(1).default("alerts"),
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
    port: raw.ALERTS_PORT,
    host: raw.ALERTS_HOST,
    adminToken: raw.ADMIN_TOKEN,
    groupId: raw.ALERTS_GROUP_ID,
    // Without a trailing slash, so that paths append cleanly.
    consoleUrl: raw.CONSOLE_PUBLIC_URL.replace(/\/+$/, ""),
    schedulerMs: raw.ALERTS_SCHEDULER_MS,
    testTimeoutMs: raw.ALERTS_TEST_TIMEOUT_MS,
    outboxPollMs: raw.OUTBOX_POLL_MS,
    database: databaseConfig(raw),
    kafka: kafkaConfig(raw),
    ...loggingConfig(raw),
  };
}

export type Config = ReturnType<typeof loadConfig>;
