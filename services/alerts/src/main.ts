import { ConfigError, redactUrl } from "@apimon/config";
import { createPrismaClient, shouldRetryDbError } from "@apimon/db";
import { topics } from "@apimon/events";
import { createShutdown, startServer } from "@apimon/http";
import {
  createBatchingProducer,
  createConsumerRunner,
  createKafka,
  createOutboxRelay,
  subscription,
} from "@apimon/kafka";
import { createLogger, createMetricsRegistry } from "@apimon/observability";
import { createAlertLog } from "./alert-log";
import { createApp } from "./app";
import { loadConfig } from "./config";
import { createAlertSignalHandler } from "./handlers/alert-signals";
import { createScheduler } from "./scheduler";
import { createSignalProcessor } from "./signals";

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ service: "alerts", level: config.logLevel });
  const registry = createMetricsRegistry("alerts");
  const alertLog = createAlertLog(logger);
  const prisma = createPrismaClient({
    connectionString: config.database.url,
    schema: config.database.schema,
  });
  const kafka = createKafka({
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    security: config.kafka.security,
    logger,
  });
  const producer = createBatchingProducer({
    kafka,
    logger,
    registry,
    topicPrefix: config.kafka.topicPrefix,
  });
  // Notification jobs are written to the outbox in the transaction that decides them, and
  // this relay publishes them: a job is neither lost when Kafka is down at commit time nor
  // sent for a change that rolled back.
  const relay = createOutboxRelay({
    prisma,
    producer,
    logger,
    registry,
    pollMs: config.outboxPollMs,
    topicPrefix: config.kafka.topicPrefix,
    topics: [topics.notifications],
  });
  const onJobsQueued = () => relay.nudge();
  const processor = createSignalProcessor({
    prisma,
    alertLog,
    logger,
    consoleUrl: config.consoleUrl,
    registry,
  });
  const consumer = createConsumerRunner({
    kafka,
    groupId: config.groupId,
    logger,
    registry,
    topicPrefix: config.kafka.topicPrefix,
    subscriptions: [
      subscription(
        topics.alertSignals,
        createAlertSignalHandler({ processor, groupId: config.groupId, onJobsQueued }),
      ),
    ],
    isRetriable: shouldRetryDbError,
  });
  const scheduler = createScheduler({
    prisma,
    logger,
    alertLog,
    consoleUrl: config.consoleUrl,
    intervalMs: config.schedulerMs,
    registry,
    onJobsQueued,
  });

  let shuttingDown = false;
  const app = createApp({
    logger,
    registry,
    prisma,
    alertLog,
    config,
    onJobsQueued,
    checks: {
      consumer: () => ({ ok: consumer.isHealthy() }),
      outboxRelay: () => ({ ok: relay.isHealthy() }),
      scheduler: () => ({ ok: scheduler.isHealthy() }),
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
      // The batch in flight finishes and commits; what follows waits for the next start.
      { name: "stop consumer", run: () => consumer.stop() },
      { name: "stop scheduler", run: () => scheduler.stop() },
      // After everything that writes jobs; unpublished rows wait for the next start.
      { name: "stop outbox relay", run: () => relay.stop() },
      { name: "disconnect producer", run: () => producer.disconnect() },
      { name: "disconnect database", run: () => prisma.$disconnect() },
    ],
  });
  shutdown.installSignalHandlers();
  await relay.start();
  scheduler.start();
  await consumer.start();
  logger.info(
    { port: server.port, database: redactUrl(config.database.url), groupId: config.groupId },
    "alerts service listening",
  );
}

main().catch((error) => {
  // A ConfigError's message already lists every bad variable; a stack would only hide it.
  const detail =
    error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error);
  process.stderr.write(`alerts failed to start: ${detail}\n`);
  process.exit(1);
});
