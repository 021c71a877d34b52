import { randomUUID } from "node:crypto";
import type { Alert, NotificationChannel, Prisma } from "@apimon/db";
import { type NotificationJob, topics } from "@apimon/events";
import { writeOutbox } from "@apimon/outbox";
import { notificationJob } from "./domain/jobs";

/** The transaction a change is written in; its notification jobs commit or roll back with it. */
export type Tx = Prisma.TransactionClient;

export type JobReason = Exclude<NotificationJob["reason"], "test">;

/** The link a notification gives for an alert. */
export function alertUrl(consoleUrl: string, alertId: number): string {
  return `${consoleUrl}/alerts/${alertId}`;
}

/**
 * Writes notification jobs to the outbox in the caller's transaction: they reach
 * notifications.v1 if and only if the change commits (the relay publishes them, at least once).
 * The caller must hold the alert's row lock, so that one alert's jobs commit in id order and
 * the relay keeps them in order on the topic (they are keyed by alert id).
 */
export async function enqueueJobs(tx: Tx, jobs: NotificationJob[]): Promise<void> {
  await writeOutbox(
    tx,
    topics.notifications,
    jobs.map((job) => ({ value: job })),
  );
}

/** One job per channel about `alert`, enqueued in `tx`; returns the channel ids. */
export async function notifyChannels(
  tx: Tx,
  alert: Alert,
  channels: readonly NotificationChannel[],
  reason: JobReason,
  consoleUrl: string,
): Promise<number[]> {
  if (channels.length === 0) return [];
  // Named as it is now: a key renamed since the alert opened is called by its new name.
  const key =
    alert.apiKeyId === null
      ? null
      : await tx.apiKey.findUnique({ where: { id: alert.apiKeyId }, select: { name: true } });
  await enqueueJobs(
    tx,
    channels.map((channel) =>
      notificationJob({
        deliveryId: randomUUID(),
        reason,
        channel,
        alert,
        ...(key && { apiKeyName: key.name }),
        alertUrl: alertUrl(consoleUrl, alert.id),
      }),
    ),
  );
  return channels.map((c) => c.id);
}

/** The channels that may receive anything: every enabled one, in id order. */
export function enabledChannels(tx: Tx): Promise<NotificationChannel[]> {
  return tx.notificationChannel.findMany({ where: { enabled: true }, orderBy: { id: "asc" } });
}
