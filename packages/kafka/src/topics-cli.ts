// One-shot job: create every catalog topic (docker compose `topics` service, `pnpm start`).
import { kafkaEnv, kafkaSecurity, loggingEnv, parseEnv } from "@apimon/config";
import { createLogger } from "@apimon/observability";
import { createKafka } from "./client";
import { ensureTopics } from "./topics";

async function main(): Promise<void> {
  const config = parseEnv({ ...kafkaEnv, ...loggingEnv });
  const logger = createLogger({ service: "topics", level: config.LOG_LEVEL });
  const kafka = createKafka({
    brokers: config.KAFKA_BROKERS,
    clientId: `${config.KAFKA_CLIENT_ID}-topics`,
    security: kafkaSecurity(config),
    logger,
  });
  const result = await ensureTopics(kafka, {
    prefix: config.KAFKA_TOPIC_PREFIX,
    replicationFactor: config.KAFKA_REPLICATION_FACTOR,
  });
  logger.info(result, "topics ready");
  logger.flush();
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
