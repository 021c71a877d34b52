import { type AuthFailure, topics } from "@apimon/events";
import type { PublisherDeps } from "@apimon/kafka";
import { counter } from "@apimon/observability";

/**
 * Hands auth-failure events to Kafka without awaiting it. Unlike usage events they are not
 * spooled: they feed only the unauthorized-access rule, and a flood of bad keys during a Kafka
 * outage must not fill the disk. What cannot be sent is counted and logged (at most every 5 s).
 */
export function createAuthFailureRecorder({
  producer,
  logger,
  registry,
}: PublisherDeps): (event: AuthFailure) => void {
  const total = counter(
    registry,
    "edge_auth_failure_events_total",
    "Auth-failure events by result: published or dropped",
    ["result"],
  );
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
