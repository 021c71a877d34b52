// A keys-service relay alone in a process, for relay.int.test.ts to SIGKILL mid-stream.
// Test support only: it reads its settings from the environment the test gives it.
import { createPrismaClient } from "@apimon/db";
import { createBatchingProducer, createKafka } from "@apimon/kafka";
import { createLogger } from "@apimon/observability";
import { createOutboxRelay } from "@apimon/outbox";

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const logger = createLogger({ service: "relay-child", level: process.env.TEST_LOG_LEVEL ?? "warn" });
const prisma = createPrismaClient({ connectionString: env("DATABASE_URL") });
const kafka = createKafka({ brokers: env("KAFKA_BROKERS").split(","), clientId: "relay-child", logger });
const topicPrefix = env("TOPIC_PREFIX");
const producer = createBatchingProducer({ kafka, logger, topicPrefix });
const relay = createOutboxRelay({
  prisma,
  producer,
  logger,
  topicPrefix,
  pollMs: 50,
  batchSize: Number(env("RELAY_BATCH_SIZE")),
});

relay.start().then(
  () => process.stdout.write("relay started\n"),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
