import { counter, histogram, type Registry } from "@apimon/observability";
import type { ChannelType } from "./senders/sender";

/** How a job ended: delivered, given up, dropped (its channel is gone), or already done before. */
export type JobOutcome = "succeeded" | "failed" | "dropped" | "duplicate";
/** How one attempt went. */
export type AttemptOutcome = "succeeded" | "retriable_error" | "permanent_error";

export interface NotifierMetrics {
  job(type: ChannelType, outcome: JobOutcome): void;
  attempt(type: ChannelType, outcome: AttemptOutcome, latencyMs: number): void;
  deadLettered(type: ChannelType): void;
}

/** The notifier's own series; the consumer runners add kafka_consumer_* on the same registry. */
export function createNotifierMetrics(registry: Registry): NotifierMetrics {
  const jobs = counter(
    registry,
    "notifier_deliveries_total",
    "Notification jobs finished, by channel type and outcome (succeeded, failed, dropped, duplicate)",
    ["channel_type", "outcome"],
  );
  const attempts = counter(
    registry,
    "notifier_delivery_attempts_total",
    "Delivery attempts, by channel type and outcome (succeeded, retriable_error, permanent_error)",
    ["channel_type", "outcome"],
  );
  const latency = histogram(
    registry,
    "notifier_attempt_duration_seconds",
    "Time of one delivery attempt (SMTP send or HTTP POST), by channel type and outcome",
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    ["channel_type", "outcome"],
  );
  const dead = counter(
    registry,
    "notifier_dead_letters_total",
    "Jobs written to notifications.v1.dlq after their last failed attempt, by channel type",
    ["channel_type"],
  );
  return {
    job: (type, outcome) => jobs.inc({ channel_type: type, outcome }),
    attempt: (type, outcome, latencyMs) => {
      attempts.inc({ channel_type: type, outcome });
      latency.observe({ channel_type: type, outcome }, latencyMs / 1000);
    },
    deadLettered: (type) => dead.inc({ channel_type: type }),
  };
}
