// Shared by the alerts integration tests: building the service's parts on a test database,
// reading log lines and notification jobs back, and calling the API.
import { Writable } from "node:stream";
import type { PrismaClient } from "@apimon/db";
import { type NotificationJob, type TopicSpec, topics } from "@apimon/events";
import { type ConsumerRunner, createConsumerRunner, type KafkaClient, subscription } from "@apimon/kafka";
import { createLogger, createMetricsRegistry, type Logger, type Registry } from "@apimon/observability";
import { createTestTopics, type TestTopics, testLogger, uniqueName } from "@apimon/testkit";
import { createAlertLog } from "../src/alert-log";
import { type AppDeps, createApp } from "../src/app";
import { createScheduler } from "../src/scheduler";
import { createSignalProcessor } from "../src/signals";

export const ADMIN_TOKEN = "alerts-test-admin-token-0123456789";
export const CONSOLE_URL = "http://console.test:8087";
export const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
export const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
export const UUID = expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

/** A logger whose JSON lines are kept for assertions. */
export function capturingLogger(level = "info"): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ service: "alerts", level, destination }), lines };
}

/** The notification jobs written to the outbox since the last call (what the relay publishes). */
export function outboxJobs(prisma: PrismaClient): () => Promise<NotificationJob[]> {
  let mark = 0n;
  return async () => {
    const rows = await prisma.outbox.findMany({ where: { id: { gt: mark } }, orderBy: { id: "asc" } });
    mark = rows.at(-1)?.id ?? mark;
    return rows.map((r) => r.payload as NotificationJob);
  };
}

/** A signal processor on `prisma` (a second client makes a second "replica"). */
export function processorOn(
  prisma: PrismaClient,
  clock: () => Date,
  logger: Logger = testLogger("alerts"),
  registry?: Registry,
) {
  return createSignalProcessor({
    prisma,
    alertLog: createAlertLog(logger),
    logger,
    consoleUrl: CONSOLE_URL,
    clock,
    registry,
  });
}

/** A scheduler on `prisma` whose passes the test runs (`runOnce`) with its own clock. */
export function schedulerOn(prisma: PrismaClient, clock: () => Date, logger: Logger = testLogger("alerts")) {
  return createScheduler({
    prisma,
    logger: testLogger(),
    alertLog: createAlertLog(logger),
    consoleUrl: CONSOLE_URL,
    intervalMs: 60_000,
    clock,
  });
}

/** The app on a test database, with a quiet logger unless one is given. */
export function buildApp(prisma: PrismaClient, overrides: Partial<AppDeps> = {}) {
  const logger = overrides.logger ?? testLogger("alerts");
  return createApp({
    logger,
    registry: createMetricsRegistry("alerts", { defaultMetrics: false }),
    prisma,
    alertLog: createAlertLog(logger),
    config: { adminToken: ADMIN_TOKEN, consoleUrl: CONSOLE_URL, testTimeoutMs: 10_000 },
    isShuttingDown: () => false,
    testPollMs: 25,
    ...overrides,
  });
}

export interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted whole
  body: any;
}

/** An authenticated request to an app (no port); `body` is JSON unless already a string. */
export async function call(
  app: { request: (path: string, init: RequestInit) => Response | Promise<Response> },
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = auth,
): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.headers = { ...headers, "content-type": "application/json" };
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const res = await app.request(path, init);
  const text = await res.text();
  let parsed: unknown = text === "" ? undefined : text;
  if (text !== "" && res.headers.get("content-type")?.startsWith("application/json"))
    parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Topics of one test file under its own prefix: signals, notifications and their DLQs. */
export function createTopics(prefix: string): Promise<TestTopics> {
  return createTestTopics(
    "alerts-test",
    [topics.alertSignals, topics.notifications] as TopicSpec<unknown>[],
    {
      prefix,
      logger: testLogger(),
      withDlq: true,
    },
  );
}

/** Reads notifications.v1 under `prefix` into `jobs`, as the notifier would (its own group). */
export async function collectJobs(
  kafka: KafkaClient,
  prefix: string,
  onJob?: (job: NotificationJob) => Promise<void>,
): Promise<{ jobs: NotificationJob[]; runner: ConsumerRunner }> {
  const jobs: NotificationJob[] = [];
  const runner = createConsumerRunner({
    kafka,
    groupId: uniqueName("alerts-test-jobs"),
    logger: testLogger(),
    topicPrefix: prefix,
    maxWaitTimeMs: 100,
    subscriptions: [
      subscription(topics.notifications, async (messages) => {
        for (const m of messages) {
          await onJob?.(m.value);
          jobs.push(m.value);
        }
      }),
    ],
  });
  await runner.start();
  return { jobs, runner };
}
