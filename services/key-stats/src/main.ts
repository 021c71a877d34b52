import { ConfigError, redactUrl } from "@apimon/config";
import { createPrismaClient, shouldRetryDbError } from "@apimon/db";
import { topics } from "@apimon/events";
import { createShutdown, startServer } from "@apimon/http";
import { createConsumerRunner, createKafka, subscription } from "@apimon/kafka";
import { createLogger, createMetricsRegistry } from "@apimon/observability";
import { createApp } from "./app";
import { loadConfig } from "./config";
import { createCountedEventsMaintainer } from "./counted-events-maintainer";
import { createUsageEventsHandler } from "./handlers/usage-events";
import { createKeyStatsMetrics } from "./metrics";
import { createKeyStatsStore } from "./stats-store";

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ service: "key-stats", level: config.logLevel });
  const registry = createMetricsRegistry("key-stats");
  // One transaction at a time (one partition at a time), the readiness probe and maintenance.
  const prisma = createPrismaClient({
    connectionString: config.database.url,
    schema: config.database.schema,
    poolSize: 3,
  });
  const kafka = createKafka({
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    security: config.kafka.security,
    logger,
  });
  const metrics = createKeyStatsMetrics(registry);
  const handler = createUsageEventsHandler({
    store: createKeyStatsStore({ prisma }),
    groupId: config.groupId,
    metrics,
    logger,
  });
  const maintainer = createCountedEventsMaintainer({
    prisma,
    logger,
    metrics,
    retentionDays: config.countedEvents.retentionDays,
    intervalMs: config.countedEvents.intervalMs,
  });
  const runner = createConsumerRunner({
    kafka,
    groupId: config.groupId,
    logger,
    registry,
    topicPrefix: config.kafka.topicPrefix,
    maxBatchSize: config.maxBatchSize,
    sessionTimeoutMs: config.sessionTimeoutMs,
    subscriptions: [subscription(topics.usageEvents, handler.handle)],
    // The database, not the group's commit, says what was counted.
    initialOffset: handler.initialOffset,
    // A database outage pauses the partitions (nothing committed) until Postgres is back.
    isRetriable: shouldRetryDbError,
    retry: { initialMs: 200, maxMs: 5000 },
  });

  let shuttingDown = false;
  const app = createApp({
    logger,
    registry,
    prisma,
    checks: { consumer: () => ({ ok: runner.isHealthy() }) },
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
      // Lets the batch in flight commit; whatever follows is read again by the next owner.
      { name: "stop consumer", run: () => runner.stop() },
      { name: "stop counted_events maintenance", run: () => maintainer.stop() },
      { name: "disconnect database", run: () => prisma.$disconnect() },
    ],
  });
  shutdown.installSignalHandlers();
  // Before consuming, so that today's events are recorded in their own partition from the start.
  await maintainer.start();
  await runner.start();
  logger.info(
    { port: server.port, groupId: config.groupId, database: redactUrl(config.database.url) },
    "key-stats listening",
  );
}

main().catch((error) => {
  // A ConfigError's message already lists every bad variable; a stack would only hide it.
  const detail =
    error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error);
  process.stderr.write(`key-stats failed to start: ${detail}\n`);
  process.exit(1);
});
