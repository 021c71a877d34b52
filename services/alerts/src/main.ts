import { redactUrl } from "@apimon/config";
import { createPrismaClient, shouldRetryDbError } from "@apimon/db";
import { topics } from "@apimon/events";
import { runService } from "@apimon/http";
import { createBatchingProducer, createConsumerRunner, createKafka, subscription } from "@apimon/kafka";
import { healthChecks } from "@apimon/observability";
import { createOutboxRelay } from "@apimon/outbox";
import { createAlertLog } from "./alert-log";
import { createApp } from "./app";
import { loadConfig } from "./config";
import { createAlertSignalHandler } from "./handlers/alert-signals";
import { createScheduler } from "./scheduler";
import { createSignalProcessor } from "./signals";

runService("alerts", loadConfig, ({ config, logger, registry, isShuttingDown }) => {
  const { consoleUrl, groupId, database, outboxPollMs: pollMs } = config;
  const prisma = createPrismaClient({ connectionString: database.url, schema: database.schema });
  const kafka = createKafka({ ...config.kafka, logger });
  const base = { logger, registry, prisma, topicPrefix: config.kafka.topicPrefix };
  const producer = createBatchingProducer({ ...base, kafka });
  const relay = createOutboxRelay({ ...base, producer, pollMs, topics: [topics.notifications] });
  const deps = { ...base, alertLog: createAlertLog(logger), consoleUrl, onJobsQueued: () => relay.nudge() };
  const handler = createAlertSignalHandler({ ...deps, processor: createSignalProcessor(deps), groupId });
  const consumer = createConsumerRunner({
    ...base,
    kafka,
    groupId,
    subscriptions: [subscription(topics.alertSignals, handler)],
    isRetriable: shouldRetryDbError,
  });
  const scheduler = createScheduler({ ...deps, intervalMs: config.schedulerMs });
  const checks = healthChecks({ consumer, outboxRelay: relay, scheduler });
  return {
    app: createApp({ ...deps, config, checks, isShuttingDown }),
    stop: [
      // The batch in flight finishes and commits; what follows waits for the next start.
      { name: "stop consumer", run: () => consumer.stop() },
      { name: "stop scheduler", run: () => scheduler.stop() },
      // After everything that writes jobs; unpublished rows wait for the next start.
      { name: "stop outbox relay", run: () => relay.stop() },
      { name: "disconnect producer", run: () => producer.disconnect() },
      { name: "disconnect database", run: () => prisma.$disconnect() },
    ],
    start: async () => {
      await relay.start();
      scheduler.start();
      await consumer.start();
    },
    started: { message: "alerts service listening", fields: { database: redactUrl(database.url), groupId } },
  };
});
