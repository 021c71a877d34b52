import { redactUrl } from "@apimon/config";
import { createPrismaClient, shouldRetryDbError } from "@apimon/db";
import { topics } from "@apimon/events";
import { runService } from "@apimon/http";
import { createConsumerRunner, createKafka, isMarkedRetriable, subscription } from "@apimon/kafka";
import { healthChecks } from "@apimon/observability";
import { createApp } from "./app";
import { loadConfig } from "./config";
import { createUsageEventsHandler } from "./handlers/usage-events";
import { createKeyStatsMetrics } from "./metrics";
import { createKeyStatsStore } from "./stats-store";

runService("key-stats", loadConfig, ({ config, logger, registry, isShuttingDown }) => {
  const { database, groupId } = config;
  // One transaction at a time (one partition at a time), plus the readiness probe.
  const prisma = createPrismaClient({ connectionString: database.url, schema: database.schema, poolSize: 3 });
  const handler = createUsageEventsHandler({
    store: createKeyStatsStore({ prisma }),
    groupId,
    dedupWindow: config.dedupWindow,
    metrics: createKeyStatsMetrics(registry),
    logger,
  });
  const consumer = createConsumerRunner({
    kafka: createKafka({ ...config.kafka, logger }),
    groupId,
    logger,
    registry,
    topicPrefix: config.kafka.topicPrefix,
    maxBatchSize: config.maxBatchSize,
    sessionTimeoutMs: config.sessionTimeoutMs,
    subscriptions: [subscription(topics.usageEvents, handler.handle)],
    // The database, not the group's commit, says what was counted.
    initialOffset: handler.initialOffset,
    // A database outage pauses the partitions (nothing committed) until Postgres is back.
    isRetriable: (error) => isMarkedRetriable(error) || shouldRetryDbError(error),
    retry: { initialMs: 200, maxMs: 5000 },
  });
  return {
    app: createApp({ logger, registry, prisma, checks: healthChecks({ consumer }), isShuttingDown }),
    stop: [
      // Lets the batch in flight commit; whatever follows is read again by the next owner.
      { name: "stop consumer", run: () => consumer.stop() },
      { name: "disconnect database", run: () => prisma.$disconnect() },
    ],
    start: () => consumer.start(),
    started: { message: "key-stats listening", fields: { groupId, database: redactUrl(database.url) } },
  };
});
