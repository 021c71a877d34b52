import { ConfigError, redactUrl } from "@apimon/config";
import { createPrismaClient } from "@apimon/db";
import { createShutdown, startServer } from "@apimon/http";
import { createKafka } from "@apimon/kafka";
import { createLogger, createMetricsRegistry } from "@apimon/observability";
import { createApp } from "./app";
import { loadConfig } from "./config";
import { createUsageRecorder } from "./usage-recorder";

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ service: "usage-recorder", level: config.logLevel });
  const registry = createMetricsRegistry("usage-recorder");
  const prisma = createPrismaClient({
    connectionString: config.database.url,
    schema: config.database.schema,
    poolSize: config.database.poolSize,
  });
  const kafka = createKafka({
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    security: config.kafka.security,
    logger,
  });
  const recorder = createUsageRecorder({
    prisma,
    kafka,
    logger,
    registry,
    settings: {
      groupId: config.groupId,
      topicPrefix: config.kafka.topicPrefix,
      batchSize: config.batchSize,
      concurrency: config.concurrency,
      sessionTimeoutMs: config.sessionTimeoutMs,
      lagIntervalMs: config.lagIntervalMs,
      partitions: config.partitions,
    },
  });

  let shuttingDown = false;
  const app = createApp({
    logger,
    registry,
    prisma,
    checks: { consumer: () => ({ ok: recorder.isHealthy() }) },
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
      // The batch in flight is written and committed; what follows is read again by the next owner.
      { name: "stop consumer", run: () => recorder.stop() },
      { name: "disconnect database", run: () => prisma.$disconnect() },
    ],
  });
  shutdown.installSignalHandlers();
  await recorder.start();
  logger.info(
    {
      port: server.port,
      groupId: config.groupId,
      topicPrefix: config.kafka.topicPrefix,
      database: redactUrl(config.database.url),
    },
    "usage recorder listening",
  );
}

main().catch((error) => {
  // A ConfigError's message already lists every bad variable; a stack would only hide it.
  const detail =
    error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error);
  process.stderr.write(`usage-recorder failed to start: ${detail}\n`);
  process.exit(1);
});
