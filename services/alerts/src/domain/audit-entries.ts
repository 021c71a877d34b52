import {
  type AlertSettings,
  type AlertThresholdSettings,
  describeOverrideScope,
  type ThresholdOverride,
  URL_TEXT,
} from "@apimon/config";
import {
  type Alert,
  type AuditChanges,
  type AuditEntry,
  auditChanges,
  type NotificationChannel,
  type Silence,
} from "@apimon/db";
import { silenceState } from "./silences";

// What the alerts API's changes write to the audit log: the fields changed, `{field: {from, to}}`,
// and one line for people. Every builder of an update answers null when nothing changed: the log
// answers "what changed, and who did it", and a save of what was already there (a form sent back
// as it was, settings applied again from a file) would only bury the changes among non-changes.

/** A channel's target and secret as the log records them: whether there is one, never what it is. */
export const HIDDEN = "(hidden)";

/** "a", "a and b", "a, b and c". */
function listed(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** Free text quoted in a summary, cut so that the summary stays one readable line. */
function quoted(text: string, max = 60): string {
  return `"${text.length > max ? `${text.slice(0, max - 1)}…` : text}"`;
}

// Settings

type ThresholdPart = Exclude<keyof AlertThresholdSettings, "overrides">;
type SettingsPart = Exclude<keyof AlertSettings, "alertThresholds">;

/** Each part of the settings a person changes at once, as a summary names it. */
const THRESHOLD_PARTS: Record<ThresholdPart, string> = {
  response_time: "the response-time thresholds",
  error_rate: "the error-rate thresholds",
  usage_spike: "the usage-spike thresholds",
  unauthorized_access: "the unauthorized-access threshold",
  rate_limit_approaching: "the rate-limit-approaching threshold",
  consecutiveEvaluations: "the consecutive evaluations",
  quietPeriodSeconds: "the quiet period",
};
const SETTINGS_PARTS: Record<SettingsPart, string> = {
  repeatIntervalSeconds: "the reminder interval",
  groupIntervalSeconds: "the group interval",
  escalation: "the escalation policy",
};
const OVERRIDES = "alertThresholds.overrides";

const byScope = (overrides: readonly ThresholdOverride[]) =>
  Object.fromEntries(overrides.map((o) => [describeOverrideScope(o), o]));

/** The scopes of `overrides` that `other` has too, in the order of `overrides`. */
const sharedScopes = (overrides: readonly ThresholdOverride[], other: Record<string, ThresholdOverride>) =>
  overrides.map(describeOverrideScope).filter((scope) => scope in other);

/**
 * A save of the settings. Changes are per rule (`alertThresholds.response_time`), per override
 * by its scope, which is unique (`alertThresholds.overrides[GET /api/export]`, null before it was
 * added and after it was removed), and per other setting, each with its whole value: a reader
 * sees what a rule was and became without the 200 overrides around it. The overrides' order
 * decides between two patterns as specific as each other, so a new order is a change too.
 */
export function settingsUpdated(before: AlertSettings, after: AlertSettings): AuditEntry | null {
  const thresholds = auditChanges(
    before.alertThresholds,
    after.alertThresholds,
    Object.keys(THRESHOLD_PARTS) as ThresholdPart[],
  );
  const overridesBefore = byScope(before.alertThresholds.overrides);
  const overridesAfter = byScope(after.alertThresholds.overrides);
  const overrides = auditChanges(overridesBefore, overridesAfter, [
    ...new Set([...Object.keys(overridesBefore), ...Object.keys(overridesAfter)]),
  ]);
  const orderBefore = sharedScopes(before.alertThresholds.overrides, overridesAfter);
  const orderAfter = sharedScopes(after.alertThresholds.overrides, overridesBefore);
  const reordered = orderBefore.some((scope, i) => orderAfter[i] !== scope);
  const others = auditChanges(before, after, Object.keys(SETTINGS_PARTS) as SettingsPart[]);

  const changes: AuditChanges = {};
  const parts: string[] = [];
  for (const [part, change] of Object.entries(thresholds)) {
    changes[`alertThresholds.${part}`] = change;
    parts.push(THRESHOLD_PARTS[part as ThresholdPart]);
  }
  const scopes = Object.keys(overrides);
  for (const scope of scopes) changes[`${OVERRIDES}[${scope}]`] = overrides[scope] as AuditChanges[string];
  if (scopes.length === 1) parts.push(`the threshold override of ${scopes[0]}`);
  else if (scopes.length > 1) parts.push(`${scopes.length} threshold overrides`);
  if (reordered) {
    changes[OVERRIDES] = { from: orderBefore, to: orderAfter };
    parts.push("the order of the threshold overrides");
  }
  for (const [part, change] of Object.entries(others)) {
    changes[part] = change;
    parts.push(SETTINGS_PARTS[part as SettingsPart]);
  }
  if (parts.length === 0) return null;
  return { action: "settings.updated", targetType: "settings", summary: `changed ${listed(parts)}`, changes };
}

// Channels

export type AuditedChannel = Pick<
  NotificationChannel,
  | "id"
  | "name"
  | "type"
  | "target"
  | "secret"
  | "minSeverity"
  | "alertTypes"
  | "endpoints"
  | "userIds"
  | "enabled"
>;

const CHANNEL_FIELDS = [
  "name",
  "type",
  "target",
  "secret",
  "minSeverity",
  "alertTypes",
  "endpoints",
  "userIds",
  "enabled",
] as const;
const CHANNEL_FIELD_NAMES: Record<(typeof CHANNEL_FIELDS)[number], string> = {
  name: "name",
  type: "type",
  target: "target",
  secret: "signing secret",
  minSeverity: "minimum severity",
  alertTypes: "alert types",
  endpoints: "endpoints",
  userIds: "users",
  enabled: "enabled",
};

const EMAIL_LIST_TEXT = /[^\s,@]+@[^\s,]*(?:,[^\s,@]+@[^\s,]*)*/g;

/**
 * A channel's name without any target in it. A channel created without a name is named after its
 * type and target (cut to the name's length, so perhaps the start of a long target only), and it
 * keeps that name when its target changes: the targets in play, then any URL or email address.
 */
function nameWithoutTarget(name: string, targets: readonly string[]): string {
  let masked = name;
  for (const target of targets) masked = masked.replaceAll(target, HIDDEN);
  return masked.replace(URL_TEXT, HIDDEN).replace(EMAIL_LIST_TEXT, HIDDEN);
}

/**
 * A channel's changes with its target and signing secret hidden: a Slack or webhook URL often
 * carries a token, an email list is personal data, and the secret signs the webhooks. Two
 * values that look alike once hidden are still a change.
 */
export function channelChanges(before: AuditedChannel | null, after: AuditedChannel | null): AuditChanges {
  const targets = [before?.target, after?.target].filter((t): t is string => t !== undefined);
  const shown = (ch: AuditedChannel | null) =>
    ch && {
      ...ch,
      name: nameWithoutTarget(ch.name, targets),
      target: HIDDEN,
      secret: ch.secret === null ? null : HIDDEN,
    };
  const [from, to] = [shown(before), shown(after)];
  const changes = auditChanges(from, to, CHANNEL_FIELDS);
  for (const field of ["name", "target", "secret"] as const) {
    if (changes[field] === undefined && (before?.[field] ?? null) !== (after?.[field] ?? null)) {
      changes[field] = { from: from?.[field] ?? null, to: to?.[field] ?? null };
    }
  }
  return changes;
}

/** `webhook channel 4 ("billing-team")`. */
function channelLabel(channel: AuditedChannel, targets: readonly string[] = [channel.target]): string {
  return `${channel.type} channel ${channel.id} (${quoted(nameWithoutTarget(channel.name, targets), 200)})`;
}

/** Most users a summary names one by one; more are counted. */
const LISTED_USERS = 5;

/**
 * `warning and above`, `critical and above (error_rate alerts on * /api/billing/* of users 3 and 7)`.
 */
function channelScope(channel: AuditedChannel): string {
  const users = channel.userIds;
  const narrowed = [
    ...(channel.alertTypes.length > 0 ? [`${channel.alertTypes.join(", ")} alerts`] : []),
    ...(channel.endpoints.length === 1 ? [`on ${channel.endpoints[0]}`] : []),
    ...(channel.endpoints.length > 1 ? [`on ${channel.endpoints.length} endpoints`] : []),
    ...(users.length === 1 ? [`of user ${users[0]}`] : []),
    ...(users.length > 1 && users.length <= LISTED_USERS ? [`of users ${listed(users.map(String))}`] : []),
    ...(users.length > LISTED_USERS ? [`of ${users.length} users`] : []),
  ];
  const severity = `${channel.minSeverity} and above`;
  return narrowed.length === 0 ? severity : `${severity} (${narrowed.join(" ")})`;
}

export function channelCreated(channel: AuditedChannel): AuditEntry {
  const name = quoted(nameWithoutTarget(channel.name, [channel.target]), 200);
  return {
    action: "channel.created",
    targetType: "channel",
    targetId: channel.id,
    summary: `created ${channel.type} channel ${name} for ${channelScope(channel)}${channel.enabled ? "" : ", disabled"}`,
    changes: channelChanges(null, channel),
  };
}

/**
 * A change of a channel: `channel.enabled` or `channel.disabled` when that is all that changed,
 * `channel.updated` otherwise.
 */
export function channelUpdated(before: AuditedChannel, after: AuditedChannel): AuditEntry | null {
  const changes = channelChanges(before, after);
  const fields = Object.keys(changes) as (typeof CHANNEL_FIELDS)[number][];
  if (fields.length === 0) return null;
  const label = channelLabel(after, [before.target, after.target]);
  const switched = after.enabled ? "enabled" : "disabled";
  if (fields.length === 1 && fields[0] === "enabled") {
    return {
      action: `channel.${switched}`,
      targetType: "channel",
      targetId: after.id,
      summary: `${switched} ${label}`,
      changes,
    };
  }
  const named = fields.filter((f) => f !== "enabled").map((f) => CHANNEL_FIELD_NAMES[f]);
  return {
    action: "channel.updated",
    targetType: "channel",
    targetId: after.id,
    summary: `changed the ${listed(named)} of ${label}${"enabled" in changes ? ` and ${switched} it` : ""}`,
    changes,
  };
}

export function channelDeleted(channel: AuditedChannel): AuditEntry {
  return {
    action: "channel.deleted",
    targetType: "channel",
    targetId: channel.id,
    summary: `deleted ${channelLabel(channel)}`,
    changes: channelChanges(channel, null),
  };
}

/** The settings change of a channel's deletion: the escalation policy no longer names it. */
export function escalationChannelRemoved(
  before: AlertSettings,
  after: AlertSettings,
  channel: AuditedChannel,
): AuditEntry | null {
  const entry = settingsUpdated(before, after);
  return (
    entry && {
      ...entry,
      summary: `removed ${channelLabel(channel)} from the escalation policy, as it was deleted`,
    }
  );
}

// Silences

const SILENCE_FIELDS = [
  "type",
  "apiKeyId",
  "endpoint",
  "clientIp",
  "comment",
  "createdBy",
  "startsAt",
  "endsAt",
] as const;

/** `silence 4 ("deploy of billing")`. */
const silenceLabel = (silence: Silence) => `silence ${silence.id} (${quoted(silence.comment)})`;

/** `error_rate alerts of key 7 on GET /api/billing/*`, `every alert`. */
function silenceMatches(silence: Silence): string {
  const narrowed = [
    ...(silence.apiKeyId === null ? [] : [`of key ${silence.apiKeyId}`]),
    ...(silence.endpoint === null ? [] : [`on ${silence.endpoint}`]),
    ...(silence.clientIp === null ? [] : [`from ${silence.clientIp}`]),
  ];
  if (silence.type === null && narrowed.length === 0) return "every alert";
  return [silence.type === null ? "alerts" : `${silence.type} alerts`, ...narrowed].join(" ");
}

export function silenceCreated(silence: Silence, now: Date): AuditEntry {
  const from = silence.startsAt > now ? ` from ${silence.startsAt.toISOString()}` : "";
  return {
    action: "silence.created",
    targetType: "silence",
    targetId: silence.id,
    summary: `created ${silenceLabel(silence)} for ${silenceMatches(silence)}${from} until ${silence.endsAt.toISOString()}`,
    changes: auditChanges(null, silence, SILENCE_FIELDS),
  };
}

/** A new end or comment. */
export function silenceUpdated(before: Silence, after: Silence): AuditEntry | null {
  const changes = auditChanges(before, after, SILENCE_FIELDS);
  if (Object.keys(changes).length === 0) return null;
  const end = after.endsAt.toISOString();
  const moved =
    after.endsAt > before.endsAt
      ? `extended ${silenceLabel(after)} until ${end}`
      : `shortened ${silenceLabel(after)} to end at ${end}`;
  let summary: string;
  if (changes.comment === undefined) summary = moved;
  else if (changes.endsAt === undefined)
    summary = `changed the comment of silence ${after.id} from ${quoted(before.comment)} to ${quoted(after.comment)}`;
  else summary = `${moved} and changed its comment`;
  return { action: "silence.updated", targetType: "silence", targetId: after.id, summary, changes };
}

/** Ended now: early, or before it started (its start moved to its end). */
export function silenceEnded(before: Silence, after: Silence): AuditEntry {
  const pending = silenceState(before, after.endsAt) === "pending";
  return {
    action: "silence.ended",
    targetType: "silence",
    targetId: after.id,
    summary: `ended ${silenceLabel(after)} ${pending ? "before it started" : "early"}`,
    changes: auditChanges(before, after, SILENCE_FIELDS),
  };
}

// Alerts

const ACKNOWLEDGED_FIELDS = [
  "status",
  "acknowledgedBy",
  "ackNote",
] as const satisfies readonly (keyof Alert)[];

/** What an alert is about, as a summary names it: "critical response_time alert 42 (key 7, GET /users/:id)". */
function alertLabel(alert: Alert): string {
  const scope = [
    ...(alert.apiKeyId === null ? [] : [`key ${alert.apiKeyId}`]),
    ...(alert.endpoint === null ? [] : [alert.endpoint]),
    ...(alert.clientIp === null ? [] : [`from ${alert.clientIp}`]),
  ];
  return `${alert.severity} ${alert.type} alert ${alert.id}${scope.length === 0 ? "" : ` (${scope.join(", ")})`}`;
}

/**
 * A firing alert acknowledged: its reminders and escalation stop. `acknowledgedBy` is the name the
 * request gave, which the log keeps beside the operator whose token made the request.
 */
export function alertAcknowledged(alert: Alert): AuditEntry {
  const as = alert.acknowledgedBy === null ? "" : ` as ${quoted(alert.acknowledgedBy)}`;
  const note = alert.ackNote === null ? "" : `: ${quoted(alert.ackNote)}`;
  return {
    action: "alert.acknowledged",
    targetType: "alert",
    targetId: alert.id,
    summary: `acknowledged ${alertLabel(alert)}${as}${note}`,
    changes: auditChanges(
      { ...alert, status: "firing", acknowledgedBy: null, ackNote: null },
      alert,
      ACKNOWLEDGED_FIELDS,
    ),
  };
}
