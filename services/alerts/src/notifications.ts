import { randomUUID } from "node:crypto";
import type { Alert, NotificationChannel, Prisma } from "@apimon/db";
import { type NotificationJob, topics } from "@apimon/events";
import { writeOutbox } from "@apimon/outbox";
import { groupMessages } from "./domain/grouping";
import { type JobAlertSource, notificationJob } from "./domain/jobs";
import { takesScope } from "./domain/routing";

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
 * the relay keeps them in order on the topic (they are keyed by alert and channel).
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
  const notified = await notifyGroup(tx, [alert], channels, reason, consoleUrl);
  return notified.get(alert.id) ?? [];
}

/** An alert's key as it is now: its name and its owner. */
interface KeyNow {
  name: string;
  userId: number;
}

/** The keys of `alerts` as they are now, by id, in one query; a deleted key is missing. */
async function keysNow(tx: Tx, alerts: readonly Alert[]): Promise<Map<number, KeyNow>> {
  const keyIds = [...new Set(alerts.flatMap((a) => (a.apiKeyId === null ? [] : [a.apiKeyId])))];
  if (keyIds.length === 0) return new Map();
  const keys = await tx.apiKey.findMany({
    where: { id: { in: keyIds } },
    select: { id: true, name: true, userId: true },
  });
  return new Map(keys.map(({ id, ...key }) => [id, key]));
}

/**
 * One message per channel about a group of alerts of one type and endpoint (`alerts`, in id
 * order): each channel is told of the alerts it takes (`takes`; default: every one) among those of
 * its types, endpoints and users (`takesScope`), the first as the job's alert and the rest as its
 * others. Returns, per alert id, the channels told of it.
 */
export async function notifyGroup(
  tx: Tx,
  alerts: readonly Alert[],
  channels: readonly NotificationChannel[],
  reason: JobReason,
  consoleUrl: string,
  takes?: (channel: NotificationChannel, alert: Alert) => boolean,
): Promise<Map<number, number[]>> {
  const notified = new Map<number, number[]>(alerts.map((a) => [a.id, []]));
  if (channels.length === 0) return notified;
  // Owned and named as the keys are now: a key rotated since the alert opened is still its
  // user's (the rotation keeps the owner), and one renamed is called by its new name.
  const keys = await keysNow(tx, alerts);
  const keyOf = (alert: Alert) => (alert.apiKeyId === null ? undefined : keys.get(alert.apiKeyId));
  // Whatever else decides who hears of what, a channel hears only of the types, endpoints and
  // users it is for.
  const messages = groupMessages(
    alerts,
    channels,
    (channel, alert) =>
      takesScope(channel, {
        type: alert.type,
        endpoint: alert.endpoint,
        userId: keyOf(alert)?.userId ?? null,
      }) &&
      (takes === undefined || takes(channel, alert)),
  );
  if (messages.length === 0) return notified;
  const source = (alert: Alert): JobAlertSource => {
    const apiKeyName = keyOf(alert)?.name;
    return {
      alert,
      ...(apiKeyName !== undefined && { apiKeyName }),
      alertUrl: alertUrl(consoleUrl, alert.id),
    };
  };
  await enqueueJobs(
    tx,
    messages.map(({ channel, alerts: [first, ...others] }) =>
      notificationJob({
        deliveryId: randomUUID(),
        reason,
        channel,
        ...source(first as Alert),
        others: others.map(source),
      }),
    ),
  );
  for (const { channel, alerts: told } of messages) {
    for (const alert of told) notified.get(alert.id)?.push(channel.id);
  }
  return notified;
}

/** The channels that may receive anything: every enabled one, in id order. */
export function enabledChannels(tx: Tx): Promise<NotificationChannel[]> {
  return tx.notificationChannel.findMany({ where: { enabled: true }, orderBy: { id: "asc" } });
}
