import { kafkaEnv, kafkaSecurity, loggingEnv, parseEnv } from "@apimon/config";
import { createLogger, type Logger } from "@apimon/observability";
import type { Kafka } from "kafkajs";
import { createKafka, type KafkaClientOptions } from "./client";

const jobEnv = { ...kafkaEnv, ...loggingEnv };

export interface KafkaJobContext {
  config: ReturnType<typeof parseEnv<typeof jobEnv>>;
  logger: Logger;
  kafka: Kafka;
}

/**
 * Runs a one-shot Kafka job (topics, ACLs) as a process: its client from KAFKA_* with the client
 * id `<KAFKA_CLIENT_ID>-<job>`, its logger from LOG_LEVEL. Logs what `run` reports under the
 * `done` message; a failure exits 1 with the error's message on stderr.
 */
export function runKafkaJob(
  job: string,
  run: (context: KafkaJobContext) => Promise<{ result: object; done: string }>,
  { retry }: Pick<KafkaClientOptions, "retry"> = {},
): void {
  async function main(): Promise<void> {
    const config = parseEnv(jobEnv);
    const logger = createLogger({ service: job, level: config.LOG_LEVEL });
    const kafka = createKafka({
      brokers: config.KAFKA_BROKERS,
      clientId: `${config.KAFKA_CLIENT_ID}-${job}`,
      security: kafkaSecurity(config),
      logger,
      retry,
    });
    const { result, done } = await run({ config, logger, kafka });
    logger.info(result, done);
    logger.flush();
  }
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
