import { ConfigError, redactUrl } from "@apimon/config";
import { createPrismaClient } from "@apimon/db";
import { keyChangeSigner, topics } from "@apimon/events";
import { createShutdown, startServer } from "@apimon/http";
import { createBatchingProducer, createKafka } from "@apimon/kafka";
import { createLogger, createMetricsRegistry } from "@apimon/observability";
import { createApp } from "./app";
import { loadConfig } from "./config";
import { createOutboxRelay } from "./relay";

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ service: "keys", level: config.logLevel });
  const registry = createMetricsRegistry("keys");
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
  const relay = createOutboxRelay({
    prisma,
    producer,
    logger,
    registry,
    pollMs: config.outboxPollMs,
    topicPrefix: config.kafka.topicPrefix,
    topics: [topics.keyChanges],
    sign: config.keyChangesSigningSecret ? keyChangeSigner(config.keyChangesSigningSecret) : undefined,
  });
  if (!config.keyChangesSigningSecret) {
    logger.warn(
      "KEY_CHANGES_SIGNING_SECRET is not set: key changes are published unsigned, and an edge that has the secret drops them",
    );
  }

  let shuttingDown = false;
  const app = createApp({
    logger,
    registry,
    prisma,
    config,
    checks: { outboxRelay: () => ({ ok: relay.isHealthy() }) },
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
      // After the server, so that no new change arrives; unpublished rows wait for the next start.
      { name: "stop outbox relay", run: () => relay.stop() },
      { name: "disconnect producer", run: () => producer.disconnect() },
      { name: "disconnect database", run: () => prisma.$disconnect() },
    ],
  });
  shutdown.installSignalHandlers();
  await relay.start();
  logger.info({ port: server.port, database: redactUrl(config.database.url) }, "keys service listening");
}

main().catch((error) => {
  // A ConfigError's message already lists every bad variable; a stack would only hide it.
  const detail =
    error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error);
  process.stderr.write(`keys failed to start: ${detail}\n`);
  process.exit(1);
});
