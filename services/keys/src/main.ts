import { redactUrl } from "@apimon/config";
import { createPrismaClient } from "@apimon/db";
import { keyChangeSigner, topics } from "@apimon/events";
import { runService } from "@apimon/http";
import { createBatchingProducer, createKafka } from "@apimon/kafka";
import { healthChecks } from "@apimon/observability";
import { createOutboxRelay } from "@apimon/outbox";
import { createApp } from "./app";
import { loadConfig } from "./config";

runService("keys", loadConfig, async ({ config, logger, registry, isShuttingDown }) => {
  const prisma = createPrismaClient({
    connectionString: config.database.url,
    schema: config.database.schema,
  });
  const kafka = createKafka({ ...config.kafka, logger });
  const producer = createBatchingProducer({ kafka, logger, registry, topicPrefix: config.kafka.topicPrefix });
  const secret = config.keyChangesSigningSecret;
  const relay = createOutboxRelay({
    prisma,
    producer,
    logger,
    registry,
    pollMs: config.outboxPollMs,
    topicPrefix: config.kafka.topicPrefix,
    topics: [topics.keyChanges],
    sign: secret ? keyChangeSigner(secret) : undefined,
  });
  if (!secret) {
    logger.warn(
      "KEY_CHANGES_SIGNING_SECRET is not set: key changes are published unsigned, and an edge that has the secret drops them",
    );
  }
  const checks = healthChecks({ outboxRelay: relay });
  return {
    app: createApp({
      logger,
      registry,
      prisma,
      config,
      checks,
      isShuttingDown,
      onKeyChangesQueued: () => relay.nudge(),
    }),
    stop: [
      // After the server, so that no new change arrives; unpublished rows wait for the next start.
      { name: "stop outbox relay", run: () => relay.stop() },
      { name: "disconnect producer", run: () => producer.disconnect() },
      { name: "disconnect database", run: () => prisma.$disconnect() },
    ],
    start: () => relay.start(),
    started: { message: "keys service listening", fields: { database: redactUrl(config.database.url) } },
  };
});
