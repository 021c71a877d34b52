import { redactUrl } from "@apimon/config";
import { createPrismaClient, databaseReadiness } from "@apimon/db";
import { createHealthApp, runService } from "@apimon/http";
import { createBatchingProducer, createKafka } from "@apimon/kafka";
import { loadConfig } from "./config";
import { createHttpClient } from "./delivery/http-client";
import { createTargetPolicy } from "./domain/target-policy";
import { createNotifier } from "./notifier";
import { createEmailSender, createSmtpTransport } from "./senders/email-sender";
import { createSlackSender } from "./senders/slack-sender";
import { createWebhookSender } from "./senders/webhook-sender";

runService("notifier", loadConfig, ({ config, logger, registry, isShuttingDown }) => {
  const { database, channelTypes, maxAttempts } = config;
  const { httpTimeoutMs: timeoutMs, consolePublicUrl: publicUrl } = config;
  const prisma = createPrismaClient({ connectionString: database.url, schema: database.schema });
  const kafka = createKafka({ ...config.kafka, logger });
  // Dead letters only; acknowledged before the job's failed row is written.
  const producer = createBatchingProducer({ kafka, logger, registry, topicPrefix: config.kafka.topicPrefix });
  const http = createHttpClient({ policy: createTargetPolicy(config.targets), timeoutMs });
  const mail = createSmtpTransport(config.smtpUrl, timeoutMs);
  const notifier = createNotifier({
    kafka,
    prisma,
    producer,
    logger,
    registry,
    senders: {
      email: createEmailSender({ transport: mail, from: config.emailFrom, publicUrl }),
      slack: createSlackSender({ http, publicUrl }),
      webhook: createWebhookSender({ http }),
    },
    settings: { ...config, topicPrefix: config.kafka.topicPrefix },
  });
  const checks = { database: databaseReadiness(prisma, logger), ...notifier.checks() };
  return {
    app: createHealthApp({ logger, registry, checks, isShuttingDown }),
    stop: [
      // Interrupts backoff waits and requests in flight; their slices stay uncommitted and are
      // redelivered, and the attempts already logged are not repeated.
      { name: "stop consumers", run: () => notifier.stop() },
      { name: "disconnect producer", run: () => producer.disconnect() },
      { name: "close SMTP and HTTP connections", run: () => Promise.all([mail.close(), http.close()]) },
      { name: "disconnect database", run: () => prisma.$disconnect() },
    ],
    start: () => producer.connect().then(() => notifier.start()),
    started: {
      message: "notifier listening",
      fields: {
        channelTypes,
        groups: notifier.groupIds(),
        smtp: redactUrl(config.smtpUrl),
        database: redactUrl(database.url),
        allowPrivateTargets: config.targets.allowPrivate,
        maxAttempts,
      },
    },
  };
});
