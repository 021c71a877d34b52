import type { NotificationJob } from "@apimon/events";

/** A notification job as the alerts service publishes it, with overrides. */
export function makeJob(overrides: Partial<NotificationJob> = {}): NotificationJob {
  return {
    deliveryId: "0190b2c4-8f1e-7a3b-9c2d-1e2f3a4b5c6d",
    reason: "firing",
    channel: { id: 3, type: "webhook" },
    target: "https://hooks.example.com/apimon",
    attempt: 1,
    alert: {
      id: 12,
      fingerprint: "response_time:7:/users/:id",
      type: "response_time",
      severity: "critical",
      status: "firing",
      message: "p95 response time 2.35 s on /users/:id is above 2 s",
      apiKeyId: 7,
      endpoint: "/users/:id",
      clientIp: null,
      observedValue: 2.35,
      threshold: 2,
      occurrences: 4,
      firstSeenAt: "2026-11-27T11:58:00.000Z",
      lastSeenAt: "2026-11-27T12:00:00.000Z",
    },
    ...overrides,
  };
}
