import { redactUrl } from "@apimon/config";
import { createPrismaClient, databaseReadiness, shouldRetryDbError } from "@apimon/db";
import { topics } from "@apimon/events";
import { createHealthApp, runService } from "@apimon/http";
import { createConsumerRunner, createKafka, subscription } from "@apimon/kafka";
import { healthChecks } from "@apimon/observability";
import { loadConfig } from "./config";
import { createCountedEventsMaintainer } from "./counted-events-maintainer";
import { createUsageEventsHandler } from "./handlers/usage-events";
import { createKeyStatsMetrics } from "./metrics";
import { createKeyStatsStore } from "./stats-store";

runService("key-stats", loadConfig, ({ config, logger, registry, isShuttingDown }) => {
  const { database, groupId, countedEvents } = config;
  // One transaction at a time (one partition at a time), the readiness probe and maintenance.
  const prisma = createPrismaClient({ connectionString: database.url, schema: database.schema, poolSize: 3 });
  const metrics = createKeyStatsMetrics(registry);
  const handler = createUsageEventsHandler({
    store: createKeyStatsStore({ prisma }),
    groupId,
    metrics,
    logger,
  });
  const maintainer = createCountedEventsMaintainer({ prisma, logger, metrics, ...countedEvents });
  const consumer = createConsumerRunner({
    kafka: createKafka({ ...config.kafka, logger }),
    groupId,
    logger,
    registry,
    topicPrefix: config.kafka.topicPrefix,
    subscriptions: [subscription(topics.usageEvents, handler.handle)],
    // The database, not the group's commit, says what was counted.
    initialOffset: handler.initialOffset,
    // A database outage pauses the partitions (nothing committed) until Postgres is back.
    isRetriable: shouldRetryDbError,
    retry: { initialMs: 200, maxMs: 5000 },
  });
  return {
    // key-stats serves no API: health, readiness and metrics only.
    app: createHealthApp({
      logger,
      registry,
      checks: { database: databaseReadiness(prisma, logger), ...healthChecks({ consumer }) },
      isShuttingDown,
    }),
    stop: [
      // Lets the batch in flight commit; whatever follows is read again by the next owner.
      { name: "stop consumer", run: () => consumer.stop() },
      { name: "stop counted_events maintenance", run: () => maintainer.stop() },
      { name: "disconnect database", run: () => prisma.$disconnect() },
    ],
    start: async () => {
      // Before consuming, so that today's events are recorded in their own partition from the start.
      await maintainer.start();
      await consumer.start();
    },
    started: { message: "key-stats listening", fields: { groupId, database: redactUrl(database.url) } },
  };
});
