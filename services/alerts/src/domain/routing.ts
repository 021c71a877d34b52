import { type AlertSettings, endpointMatches } from "@apimon/config";
import { isHoldOver } from "./grouping";
import { isAtLeast, type Severity } from "./severity";

/** What routing needs of a notification channel. */
export interface RoutableChannel {
  id: number;
  minSeverity: Severity;
  enabled: boolean;
}

/** Channels that hear about an alert of `severity` (firing, escalation, resolution, reminders). */
export function channelsFor<C extends RoutableChannel>(severity: Severity, channels: readonly C[]): C[] {
  return channels.filter((c) => c.enabled && isAtLeast(severity, c.minSeverity));
}

/**
 * What a channel hears about beyond severity: alert types, endpoint matchers and users (the owners
 * of the alerts' keys); each left empty: any.
 */
export interface ScopedChannel {
  alertTypes: readonly string[];
  endpoints: readonly string[];
  userIds: readonly number[];
}

/** What `takesScope` looks at in an alert; `userId` is its key's owner as the key is now. */
export interface ScopedAlert {
  type: string;
  endpoint: string | null;
  /** Null for an alert about no key, or about a key deleted since. */
  userId: number | null;
}

/**
 * Whether a channel hears about an alert of this type, endpoint and owner: of one of its types,
 * about an endpoint one of its matchers matches (`endpointMatches`, as silences match), and on a
 * key of one of its users, each list left empty taking any. An alert about no endpoint (a usage
 * spike, failed authentication) goes only to channels without endpoint matchers; one about no
 * key, or a key deleted since, only to channels without users. Users rather than keys: a
 * rotation issues a new key id, and a customer's channel must go on hearing of the new key.
 */
export function takesScope(channel: ScopedChannel, alert: ScopedAlert): boolean {
  return (
    (channel.alertTypes.length === 0 || channel.alertTypes.includes(alert.type)) &&
    (channel.endpoints.length === 0 ||
      channel.endpoints.some((matcher) => endpointMatches(matcher, alert.endpoint))) &&
    (channel.userIds.length === 0 || (alert.userId !== null && channel.userIds.includes(alert.userId)))
  );
}

/**
 * The escalation policy's channels: the enabled ones it names. They get the alert whatever their
 * minimum severity, since the policy names them for critical alerts on purpose.
 */
export function escalationChannels<C extends RoutableChannel>(
  policy: AlertSettings["escalation"],
  channels: readonly C[],
): C[] {
  if (!policy.enabled) return [];
  const wanted = new Set(policy.channelIds);
  return channels.filter((c) => c.enabled && wanted.has(c.id));
}

/** Alerts last notified at or before this instant are due a reminder. */
export function reminderCutoff(now: Date, repeatIntervalSeconds: number): Date {
  return new Date(now.getTime() - repeatIntervalSeconds * 1000);
}

/**
 * Whether an alert is due a reminder: firing (not acknowledged) and quiet for the repeat
 * interval, or never notified (it opened silenced, or held back for its group), which is then
 * due at once, or once its group's hold is over. Silences are the caller's to check.
 */
export function isReminderDue(
  alert: { status: string; lastNotifiedAt: Date | null; heldUntil?: Date | null },
  now: Date,
  repeatIntervalSeconds: number,
  groupIntervalSeconds = 0,
): boolean {
  if (alert.status !== "firing") return false;
  if (alert.lastNotifiedAt === null) return isHoldOver(alert.heldUntil ?? null, now, groupIntervalSeconds);
  return alert.lastNotifiedAt <= reminderCutoff(now, repeatIntervalSeconds);
}

/** Critical since at or before this instant: due to the escalation policy. */
export function escalationCutoff(now: Date, afterSeconds: number): Date {
  return new Date(now.getTime() - afterSeconds * 1000);
}

/**
 * Whether the escalation policy takes an alert now: enabled, and the alert is critical, firing
 * (not acknowledged), not yet escalated, and critical for at least `afterSeconds`.
 */
export function isEscalationDue(
  alert: { status: string; severity: Severity; escalatedAt: Date | null; criticalAt: Date | null },
  now: Date,
  policy: AlertSettings["escalation"],
): boolean {
  return (
    policy.enabled &&
    alert.status === "firing" &&
    alert.severity === "critical" &&
    alert.escalatedAt === null &&
    alert.criticalAt !== null &&
    alert.criticalAt <= escalationCutoff(now, policy.afterSeconds)
  );
}
