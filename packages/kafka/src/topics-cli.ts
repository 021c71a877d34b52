// One-shot job: create every catalog topic (docker compose `topics` service, `pnpm start`).
import { runKafkaJob } from "./job";
import { ensureTopics } from "./topics";

runKafkaJob("topics", async ({ config, kafka }) => ({
  result: await ensureTopics(kafka, {
    prefix: config.KAFKA_TOPIC_PREFIX,
    replicationFactor: config.KAFKA_REPLICATION_FACTOR,
  }),
  done: "topics ready",
}));
