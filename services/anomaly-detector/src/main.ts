import { ConfigError, redactUrl } from "@apimon/config";
import { createPrismaClient } from "@apimon/db";
import { createShutdown, startServer } from "@apimon/http";
import { createBatchingProducer, createKafka } from "@apimon/kafka";
import { createLogger, createMetricsRegistry } from "@apimon/observability";
import { createApp } from "./app";
import { loadConfig } from "./config";
import { createDetectorService } from "./detector-service";
import { createPrismaSettingsStore, createSettingsSource } from "./settings-source";

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ service: "anomaly-detector", level: config.logLevel });
  const registry = createMetricsRegistry("anomaly-detector");
  const prisma = createPrismaClient({
    connectionString: config.database.url,
    schema: config.database.schema,
  });
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: config.kafka.clientId, logger });
  const producer = createBatchingProducer({ kafka, logger, registry, topicPrefix: config.kafka.topicPrefix });
  const settings = createSettingsSource({
    store: createPrismaSettingsStore(prisma),
    logger,
    pollMs: config.settingsPollMs,
    registry,
  });
  const service = createDetectorService({
    kafka,
    producer,
    settings,
    logger,
    registry,
    groupId: config.groupId,
    topicPrefix: config.kafka.topicPrefix,
    tickMs: config.tickMs,
    maxBatchSize: config.maxBatchSize,
    partitionsConsumedConcurrently: config.partitionsConcurrently,
    maxTrackedIps: config.maxTrackedIps,
  });

  let shuttingDown = false;
  const app = createApp({
    logger,
    registry,
    checks: {
      consumer: () => ({
        ok: service.isReady(),
        detail: service.rebuilder.isIdle() ? undefined : "rebuilding state",
      }),
      settings: () => ({ ok: settings.isHealthy() }),
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
      { name: "stop settings polling", run: () => settings.stop() },
      // Lets the batch in flight finish and commit, then publishes any signal still queued.
      { name: "stop detector", run: () => service.stop() },
      { name: "disconnect producer", run: () => producer.disconnect() },
      { name: "disconnect database", run: () => prisma.$disconnect() },
    ],
  });
  shutdown.installSignalHandlers();
  // Defaults apply until the first load succeeds; a database outage must not stop detection.
  await settings.start();
  await service.start();
  logger.info(
    { port: server.port, groupId: config.groupId, database: redactUrl(config.database.url) },
    "anomaly detector running",
  );
}

main().catch((error) => {
  // A ConfigError's message already lists every bad variable; a stack would only hide it.
  const detail =
    error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error);
  process.stderr.write(`anomaly-detector failed to start: ${detail}\n`);
  process.exit(1);
});
