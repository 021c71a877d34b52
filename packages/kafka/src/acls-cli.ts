// One-shot job: create the services' ACLs (deploy/kafka/kafka.sh start --secure runs it as the
// admin user; against another cluster, run it with that cluster's admin credentials).
import { applyServiceAcls } from "./acls";
import { runKafkaJob } from "./job";

runKafkaJob(
  "acls",
  async ({ config, kafka }) => ({
    result: await applyServiceAcls(kafka, { topicPrefix: config.KAFKA_TOPIC_PREFIX }),
    done: "ACLs applied",
  }),
  // A broker that has just started answers ApiVersions before it can authenticate and
  // authorise: keep trying for about a minute.
  { retry: { retries: 12, initialRetryTimeMs: 300, maxRetryTimeMs: 5000 } },
);
