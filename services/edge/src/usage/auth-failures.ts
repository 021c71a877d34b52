import { type AuthFailure, topics } from "@apimon/events";
import type { BatchingProducer } from "@apimon/kafka";
import { Counter, type Logger, type Registry } from "@apimon/observability";

/**
 * Hands auth-failure events to Kafka without awaiting it. Unlike usage events they are not
 * spooled: they feed only the unauthorized-access rule, and a flood of bad keys during a Kafka
 * outage must not fill the disk. What cannot be sent is counted and logged (at most every 5 s).
 */
export function createAuthFailureRecorder({
  producer,
  logger,
  registry,
}: {
  producer: BatchingProducer;
  logger: Logger;
  registry?: Registry;
}): (event: AuthFailure) => void {
  const existing = registry?.getSingleMetric("edge_auth_failure_events_total");
  const total =
    (existing as Counter<"result"> | undefined) ??
    new Counter({
      name: "edge_auth_failure_events_total",
      help: "Auth-failure events by result: published or dropped",
      labelNames: ["result"] as const,
      registers: registry ? [registry] : [],
    });
  let lastLog = 0;
  return (event) => {
    producer.publish(topics.authFailures, event).then(
      () => total.inc({ result: "published" }),
      (error: unknown) => {
        total.inc({ result: "dropped" });
        if (Date.now() - lastLog > 5000) {
          lastLog = Date.now();
          logger.warn({ err: error }, "auth-failure event dropped");
        }
      },
    );
  };
}
