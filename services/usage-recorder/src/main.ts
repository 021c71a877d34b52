import { redactUrl } from "@apimon/config";
import { createPrismaClient, databaseReadiness } from "@apimon/db";
import { createHealthApp, runService } from "@apimon/http";
import { createKafka } from "@apimon/kafka";
import { healthChecks } from "@apimon/observability";
import { loadConfig } from "./config";
import { createUsageRecorder } from "./usage-recorder";

runService("usage-recorder", loadConfig, ({ config, logger, registry, isShuttingDown }) => {
  const { database, groupId } = config;
  const { url: connectionString, schema, poolSize } = database;
  const prisma = createPrismaClient({ connectionString, schema, poolSize });
  const recorder = createUsageRecorder({
    prisma,
    kafka: createKafka({ ...config.kafka, logger }),
    logger,
    registry,
    settings: {
      groupId,
      topicPrefix: config.kafka.topicPrefix,
      batchSize: config.batchSize,
      concurrency: config.concurrency,
      sessionTimeoutMs: config.sessionTimeoutMs,
      lagIntervalMs: config.lagIntervalMs,
      partitions: config.partitions,
    },
  });
  return {
    app: createHealthApp({
      logger,
      registry,
      maxBodyBytes: 1024,
      checks: { database: databaseReadiness(prisma, logger), ...healthChecks({ consumer: recorder }) },
      isShuttingDown,
    }),
    stop: [
      // The batch in flight is written and committed; what follows is read again by the next owner.
      { name: "stop consumer", run: () => recorder.stop() },
      { name: "disconnect database", run: () => prisma.$disconnect() },
    ],
    start: () => recorder.start(),
    started: {
      message: "usage recorder listening",
      fields: { groupId, topicPrefix: config.kafka.topicPrefix, database: redactUrl(database.url) },
    },
  };
});
