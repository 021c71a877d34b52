import { MAX_GROUPED_ALERTS } from "@apimon/events";
import { type AlertType, isAtLeast, type Severity } from "./severity";

/*
 * Alerts are grouped by type and endpoint: when one upstream slows down, every key that calls it
 * opens its own response-time alert on the same endpoint, and people want one message about it,
 * not one per key. The first alert of a group is notified at once; one that opens less than the
 * group interval after the group's last notification is held back, and the scheduler sends the
 * alerts held in one message per channel when the interval is over.
 */

/** What grouping needs of an alert. */
export interface GroupableAlert {
  id: number;
  type: AlertType;
  endpoint: string | null;
  severity: Severity;
}

/**
 * Until when an alert that opens now is held back for its group: the group's last notification
 * (the latest `lastNotifiedAt` of its alerts) plus the interval, when that is still ahead; null
 * (notify at once) otherwise, or when grouping is off (interval 0).
 */
export function groupHoldUntil(
  groupLastNotifiedAt: Date | null,
  now: Date,
  groupIntervalSeconds: number,
): Date | null {
  if (groupIntervalSeconds <= 0 || groupLastNotifiedAt === null) return null;
  const until = new Date(groupLastNotifiedAt.getTime() + groupIntervalSeconds * 1000);
  return until > now ? until : null;
}

/** Whether a held alert may be notified now (its hold is over, or grouping was turned off). */
export function isHoldOver(heldUntil: Date | null, now: Date, groupIntervalSeconds: number): boolean {
  return heldUntil === null || heldUntil <= now || groupIntervalSeconds <= 0;
}

/** The name of an alert's group: its type and endpoint. */
export function groupKey(alert: Pick<GroupableAlert, "type" | "endpoint">): string {
  return `${alert.type} ${alert.endpoint ?? ""}`;
}

/** The alerts of `alerts` in groups of one type and endpoint, each in the order given. */
export function groupAlerts<A extends GroupableAlert>(alerts: readonly A[]): A[][] {
  const groups = new Map<string, A[]>();
  for (const alert of alerts) {
    const key = groupKey(alert);
    const group = groups.get(key);
    if (group) group.push(alert);
    else groups.set(key, [alert]);
  }
  return [...groups.values()];
}

/**
 * The groups of `alerts`, ordered by name: whoever locks several groups in one transaction locks
 * them in this order, so that two such transactions never wait on each other.
 */
export function groupsInLockOrder<A extends GroupableAlert>(alerts: readonly A[]): A[][] {
  const byName = (g: readonly A[]) => groupKey(g[0] as A);
  return groupAlerts(alerts).sort((x, y) => (byName(x) < byName(y) ? -1 : byName(x) > byName(y) ? 1 : 0));
}

/** One message to one channel: its first alert and the others it names. */
export interface GroupMessage<A, C> {
  channel: C;
  alerts: A[];
}

/** Whether a channel takes an alert of this severity (enabled, and the severity at least its minimum). */
export function takesSeverity(
  channel: { enabled: boolean; minSeverity: Severity },
  alert: GroupableAlert,
): boolean {
  return channel.enabled && isAtLeast(alert.severity, channel.minSeverity);
}

/**
 * The messages a group of alerts makes: for each channel, the alerts it takes (`takes`; default:
 * every one), in messages of at most 1 + MAX_GROUPED_ALERTS alerts. A channel that takes none
 * gets none.
 */
export function groupMessages<A extends GroupableAlert, C>(
  group: readonly A[],
  channels: readonly C[],
  takes: (channel: C, alert: A) => boolean = () => true,
): GroupMessage<A, C>[] {
  const messages: GroupMessage<A, C>[] = [];
  for (const channel of channels) {
    const routed = group.filter((alert) => takes(channel, alert));
    for (let i = 0; i < routed.length; i += MAX_GROUPED_ALERTS + 1) {
      messages.push({ channel, alerts: routed.slice(i, i + MAX_GROUPED_ALERTS + 1) });
    }
  }
  return messages;
}
