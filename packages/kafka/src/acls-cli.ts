// One-shot job: create the services' ACLs (deploy/kafka/kafka.sh start --secure runs it as the
// admin user; against another cluster, run it with that cluster's admin credentials).
import { kafkaEnv, kafkaSecurity, loggingEnv, parseEnv } from "@apimon/config";
import { createLogger } from "@apimon/observability";
import { applyServiceAcls } from "./acls";
import { createKafka } from "./client";

async function main(): Promise<void> {
  const config = parseEnv({ ...kafkaEnv, ...loggingEnv });
  const logger = createLogger({ service: "acls", level: config.LOG_LEVEL });
  const kafka = createKafka({
    brokers: config.KAFKA_BROKERS,
    clientId: `${config.KAFKA_CLIENT_ID}-acls`,
    security: kafkaSecurity(config),
    logger,
    // A broker that has just started answers ApiVersions before it can authenticate and
    // authorise: keep trying for about a minute.
    retry: { retries: 12, initialRetryTimeMs: 300, maxRetryTimeMs: 5000 },
  });
  const result = await applyServiceAcls(kafka, { topicPrefix: config.KAFKA_TOPIC_PREFIX });
  logger.info(result, "ACLs applied");
  logger.flush();
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
