import type { NotificationJob } from "@apimon/events";
import type { AlertStatus, AlertType, Severity } from "./severity";

/** An alert as a notification job carries it. */
export interface AlertSnapshotSource {
  id: number;
  fingerprint: string;
  type: AlertType;
  severity: Severity;
  status: AlertStatus;
  message: string;
  apiKeyId: number | null;
  endpoint: string | null;
  clientIp: string | null;
  observedValue: number;
  threshold: number;
  occurrences: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/** Whom an alert is about and what was measured, in the order every record of it (job, log line) gives them. */
export function alertObservation({
  apiKeyId,
  endpoint,
  clientIp,
  observedValue,
  threshold,
  occurrences,
}: Pick<
  AlertSnapshotSource,
  "apiKeyId" | "endpoint" | "clientIp" | "observedValue" | "threshold" | "occurrences"
>) {
  return { apiKeyId, endpoint, clientIp, observedValue, threshold, occurrences };
}

export interface JobChannel {
  id: number;
  type: NotificationJob["channel"]["type"];
  target: string;
}

/** An alert as a job names it: the first alert of the job, or one of the others. */
export interface JobAlertSource {
  alert: AlertSnapshotSource;
  /** The name of the alert's key, for the notification's subject line. */
  apiKeyName?: string;
  alertUrl?: string;
}

function jobAlert({ alert, apiKeyName }: JobAlertSource): NotificationJob["alert"] {
  return {
    id: alert.id,
    fingerprint: alert.fingerprint,
    type: alert.type,
    severity: alert.severity,
    status: alert.status,
    message: alert.message,
    ...alertObservation(alert),
    ...(apiKeyName !== undefined && { apiKeyName }),
    firstSeenAt: alert.firstSeenAt.toISOString(),
    lastSeenAt: alert.lastSeenAt.toISOString(),
  };
}

/**
 * One job for one channel, about `alert` and, grouped in the same message, `others` (alerts of
 * its type and endpoint). `deliveryId` is the job's idempotency key (the notifier's X-Delivery-Id).
 */
export function notificationJob({
  deliveryId,
  reason,
  channel,
  others = [],
  ...first
}: JobAlertSource & {
  deliveryId: string;
  reason: Exclude<NotificationJob["reason"], "test">;
  channel: JobChannel;
  others?: readonly JobAlertSource[];
}): NotificationJob {
  return {
    deliveryId,
    reason,
    channel: { id: channel.id, type: channel.type },
    target: channel.target,
    attempt: 1,
    ...(first.alertUrl !== undefined && { alertUrl: first.alertUrl }),
    alert: jobAlert(first),
    ...(others.length > 0 && {
      others: others.map((other) => ({
        ...jobAlert(other),
        ...(other.alertUrl !== undefined && { alertUrl: other.alertUrl }),
      })),
    }),
  };
}

/**
 * A channel's test message: reason "test" and no alert id (its delivery row has alert_id null).
 * The snapshot is a placeholder at the channel's minimum severity, so any filter lets it through.
 */
export function testJob({
  deliveryId,
  channel,
  minSeverity,
  now,
  alertUrl,
}: {
  deliveryId: string;
  channel: JobChannel;
  minSeverity: Severity;
  now: Date;
  alertUrl?: string;
}): NotificationJob {
  const at = now.toISOString();
  return {
    deliveryId,
    reason: "test",
    channel: { id: channel.id, type: channel.type },
    target: channel.target,
    attempt: 1,
    ...(alertUrl !== undefined && { alertUrl }),
    alert: {
      id: null,
      fingerprint: `test:channel:${channel.id}`,
      type: "response_time",
      severity: minSeverity,
      status: "firing",
      message: `Test notification from apimon for channel ${channel.id}`,
      apiKeyId: null,
      endpoint: null,
      clientIp: null,
      observedValue: 0,
      threshold: 0,
      occurrences: 0,
      firstSeenAt: at,
      lastSeenAt: at,
    },
  };
}
