import { ConfigError, redactUrl } from "@apimon/config";
import { createPrismaClient } from "@apimon/db";
import { createShutdown, startServer } from "@apimon/http";
import { createBatchingProducer, createKafka } from "@apimon/kafka";
import { createLogger, createMetricsRegistry } from "@apimon/observability";
import { createTransport } from "nodemailer";
import { createApp } from "./app";
import { loadConfig } from "./config";
import { createHttpClient } from "./delivery/http-client";
import { createTargetPolicy } from "./domain/target-policy";
import { createNotifier } from "./notifier";
import { createEmailSender } from "./senders/email-sender";
import { createSlackSender } from "./senders/slack-sender";
import { createWebhookSender } from "./senders/webhook-sender";

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ service: "notifier", level: config.logLevel });
  const registry = createMetricsRegistry("notifier");
  const prisma = createPrismaClient({
    connectionString: config.database.url,
    schema: config.database.schema,
  });
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: config.kafka.clientId, logger });
  // Dead letters only; acknowledged before the job's failed row is written.
  const producer = createBatchingProducer({ kafka, logger, registry, topicPrefix: config.kafka.topicPrefix });
  const http = createHttpClient({
    policy: createTargetPolicy(config.targets),
    timeoutMs: config.httpTimeoutMs,
  });
  const mail = createTransport({
    url: config.smtpUrl,
    pool: true,
    maxConnections: 4,
    connectionTimeout: config.httpTimeoutMs,
    greetingTimeout: config.httpTimeoutMs,
    socketTimeout: config.httpTimeoutMs,
  });
  const notifier = createNotifier({
    kafka,
    prisma,
    producer,
    logger,
    registry,
    senders: {
      email: createEmailSender({
        transport: mail,
        from: config.emailFrom,
        publicUrl: config.consolePublicUrl,
      }),
      slack: createSlackSender({ http, publicUrl: config.consolePublicUrl }),
      webhook: createWebhookSender({ http }),
    },
    settings: {
      channelTypes: config.channelTypes,
      groupPrefix: config.groupPrefix,
      topicPrefix: config.kafka.topicPrefix,
      maxAttempts: config.maxAttempts,
      backoff: config.backoff,
      concurrency: config.concurrency,
      partitionsConcurrency: config.partitionsConcurrency,
      channelCacheMs: config.channelCacheMs,
    },
  });

  let shuttingDown = false;
  const app = createApp({
    logger,
    registry,
    prisma,
    checks: notifier.checks(),
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
      // Interrupts backoff waits and requests in flight; their slices stay uncommitted and are
      // redelivered, and the attempts already logged are not repeated.
      { name: "stop consumers", run: () => notifier.stop() },
      { name: "disconnect producer", run: () => producer.disconnect() },
      {
        name: "close SMTP and HTTP connections",
        run: async () => {
          mail.close();
          await http.close();
        },
      },
      { name: "disconnect database", run: () => prisma.$disconnect() },
    ],
  });
  shutdown.installSignalHandlers();
  await producer.connect();
  await notifier.start();
  logger.info(
    {
      port: server.port,
      channelTypes: config.channelTypes,
      groups: notifier.groupIds(),
      smtp: redactUrl(config.smtpUrl),
      database: redactUrl(config.database.url),
      allowPrivateTargets: config.targets.allowPrivate,
      maxAttempts: config.maxAttempts,
    },
    "notifier listening",
  );
}

main().catch((error) => {
  // A ConfigError's message already lists every bad variable; a stack would only hide it.
  const detail =
    error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error);
  process.stderr.write(`notifier failed to start: ${detail}\n`);
  process.exit(1);
});
