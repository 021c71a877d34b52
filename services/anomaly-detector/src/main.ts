import { redactUrl } from "@apimon/config";
import { createPrismaClient } from "@apimon/db";
import { createHealthApp, runService } from "@apimon/http";
import { createBatchingProducer, createKafka } from "@apimon/kafka";
import { loadConfig } from "./config";
import { createDetectorService } from "./detector-service";
import { createPrismaSettingsStore, createSettingsSource } from "./settings-source";

runService("anomaly-detector", loadConfig, ({ config, logger, registry, isShuttingDown }) => {
  const { database, groupId } = config;
  const prisma = createPrismaClient({ connectionString: database.url, schema: database.schema });
  const kafka = createKafka({ ...config.kafka, logger });
  const producer = createBatchingProducer({ kafka, logger, registry, topicPrefix: config.kafka.topicPrefix });
  const store = createPrismaSettingsStore(prisma);
  const settings = createSettingsSource({ store, logger, pollMs: config.settingsPollMs, registry });
  const {
    tickMs,
    maxBatchSize,
    maxTrackedIps,
    maxTrackedEndpoints,
    partitionsConcurrently,
    updateIntervalMs,
  } = config;
  const service = createDetectorService({
    kafka,
    producer,
    settings,
    logger,
    registry,
    groupId,
    topicPrefix: config.kafka.topicPrefix,
    tickMs,
    maxBatchSize,
    maxTrackedIps,
    maxTrackedEndpoints,
    updateIntervalMs,
    partitionsConsumedConcurrently: partitionsConcurrently,
  });
  const checks = {
    consumer: () => ({
      ok: service.isReady(),
      detail: service.rebuilder.isIdle() ? undefined : "rebuilding state",
    }),
    settings: () => ({ ok: settings.isHealthy() }),
  };
  return {
    app: createHealthApp({ logger, registry, maxBodyBytes: 1024, checks, isShuttingDown }),
    stop: [
      { name: "stop settings polling", run: () => settings.stop() },
      // Lets the batch in flight finish and commit, then publishes any signal still queued.
      { name: "stop detector", run: () => service.stop() },
      { name: "disconnect producer", run: () => producer.disconnect() },
      { name: "disconnect database", run: () => prisma.$disconnect() },
    ],
    start: async () => {
      // Defaults apply until the first load succeeds; a database outage must not stop detection.
      await settings.start();
      await service.start();
    },
    started: { message: "anomaly detector running", fields: { groupId, database: redactUrl(database.url) } },
  };
});
