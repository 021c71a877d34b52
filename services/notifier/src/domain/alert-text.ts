import type { NotificationJob } from "@apimon/events";

// The words every channel uses for an alert, so email and Slack say the same thing.

export type JobAlert = NotificationJob["alert"];
export type NotificationReason = NotificationJob["reason"];

/** Where an alert is shown: its page in the operator console (`publicUrl` is the console's). */
export function alertLink(publicUrl: string, alertId: number | null): string | null {
  if (alertId === null) return null;
  return `${publicUrl.replace(/\/+$/, "")}/alerts/${alertId}`;
}

/** The console's list of alerts of one type: where a grouped message shows all of them. */
export function alertListLink(publicUrl: string, type: JobAlert["type"]): string {
  return `${publicUrl.replace(/\/+$/, "")}/alerts?${new URLSearchParams({ type })}`;
}

/** What every channel renders a notification from. */
export interface RenderInput {
  reason: NotificationReason;
  alert: JobAlert;
  /** More alerts told of in the same message (the job's `others`); absent: `alert` alone. */
  others?: readonly JobAlert[] | undefined;
  /** The operator console's address, for the alert's link. */
  publicUrl: string;
}

/** The alerts of a grouped message, never none. */
export type AlertGroup = readonly [JobAlert, ...JobAlert[]];

/**
 * The alerts of a grouped notification, `alert` first and then `others` in their order; null for a
 * notification about `alert` alone.
 */
export function alertGroup({ alert, others }: RenderInput): AlertGroup | null {
  return others && others.length > 0 ? [alert, ...others] : null;
}

/**
 * The one-line subject and the console link of a notification: the alert's page (null: the alert
 * has no page), or for a group the console's list of alerts of its type.
 */
export function alertHeading(input: RenderInput): { subject: string; link: string | null } {
  const { reason, alert, publicUrl } = input;
  const group = alertGroup(input);
  if (group) {
    // A channel test's alerts have no pages, nor a list.
    const listed = group.some((a) => a.id !== null);
    return {
      subject: groupSubject(reason, group),
      link: listed ? alertListLink(publicUrl, alert.type) : null,
    };
  }
  return { subject: alertSubject(reason, alert), link: alertLink(publicUrl, alert.id) };
}

/** "CRITICAL", "WARNING", or "RESOLVED" / "TEST" when the reason says more than the severity. */
export function alertTag(reason: NotificationReason, alert: JobAlert): string {
  if (reason === "resolved") return "RESOLVED";
  if (reason === "test") return "TEST";
  return alert.severity.toUpperCase();
}

const MAX_KEY_NAME = 60;

/** `key "billing" (#7)`, or `key 7` when the job does not carry the key's name. */
function keyMention(apiKeyId: number, name: string | undefined): string {
  if (name === undefined || name.trim() === "") return `key ${apiKeyId}`;
  const short = name.length > MAX_KEY_NAME ? `${name.slice(0, MAX_KEY_NAME - 1)}…` : name;
  return `key "${short}" (#${apiKeyId})`;
}

/**
 * `response_time on key "billing" (#7) /users/:id`, `unauthorized_access from 203.0.113.9`
 * (`on key 7` for a job without the key's name).
 */
export function alertSummary(alert: JobAlert): string {
  const parts: string[] = [alert.type];
  if (alert.apiKeyId !== null) parts.push(`on ${keyMention(alert.apiKeyId, alert.apiKeyName)}`);
  if (alert.endpoint) parts.push(alert.endpoint);
  if (alert.apiKeyId === null && alert.clientIp) parts.push(`from ${alert.clientIp}`);
  return parts.join(" ");
}

const REASON_SUFFIX: Partial<Record<NotificationReason, string>> = {
  escalated: " (escalated)",
  reminder: " (reminder)",
};

/** Line breaks and tabs in names and endpoints would break a subject or forge a line of a list. */
function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, " ");
}

/** The email subject, e.g. `[CRITICAL] response_time on key "billing" (#7) /users/:id`; one line, always. */
export function alertSubject(reason: NotificationReason, alert: JobAlert): string {
  return oneLine(`[${alertTag(reason, alert)}] ${alertSummary(alert)}${REASON_SUFFIX[reason] ?? ""}`);
}

function round(value: number, digits: number): string {
  return String(Number(value.toFixed(digits)));
}

/**
 * A rule's number in its own unit, as the spec states thresholds: response time in seconds,
 * error rate as a ratio, usage spike as a multiple of the key's baseline, failed attempts per
 * hour, and the share of a rate-limit window.
 */
export function formatMeasure(type: JobAlert["type"], value: number): string {
  switch (type) {
    case "response_time":
      return `${round(value, 3)} s`;
    case "error_rate":
      return `${round(value * 100, 2)} %`;
    case "usage_spike":
      return `${round(value, 2)}x baseline`;
    case "unauthorized_access":
      return `${round(value, 0)} failed attempts`;
    case "rate_limit_approaching":
      return `${round(value * 100, 1)} % of the limit`;
  }
}

/** What happened, in a sentence that opens the message. */
export function reasonSentence(reason: NotificationReason): string {
  switch (reason) {
    case "firing":
      return "An alert is firing.";
    case "escalated":
      return "An alert was escalated.";
    case "resolved":
      return "An alert was resolved.";
    case "reminder":
      return "An alert is still open (reminder).";
    case "test":
      return "This is a test notification from apimon: the channel works.";
  }
}

/** Label and value pairs shown by every channel, in order. */
export function alertFacts(alert: JobAlert): Array<[label: string, value: string]> {
  return [
    ["Alert", `${alert.type} (${alert.severity})`],
    ["Status", alert.status],
    ["API key", alert.apiKeyId === null ? "—" : String(alert.apiKeyId)],
    ["Endpoint", alert.endpoint ?? "—"],
    ...(alert.clientIp ? ([["Client IP", alert.clientIp]] as Array<[string, string]>) : []),
    ["Value", formatMeasure(alert.type, alert.observedValue)],
    ["Threshold", formatMeasure(alert.type, alert.threshold)],
    ["Occurrences", String(alert.occurrences)],
    ["First seen", alert.firstSeenAt],
    ["Last seen", alert.lastSeenAt],
  ];
}

// A grouped notification: alerts of one type on one endpoint (as the alerts service groups them),
// told of in one message with one row each.

const SEVERITY_RANK: Record<JobAlert["severity"], number> = { warning: 0, critical: 1 };

/** The group's most severe alert (the first of them on a tie): its severity tags the message. */
export function mostSevere(alerts: AlertGroup): JobAlert {
  return alerts.reduce((worst, a) => (SEVERITY_RANK[a.severity] > SEVERITY_RANK[worst.severity] ? a : worst));
}

/** What every alert of the group has in common; a part they do not share is told in each row instead. */
function groupShares([first, ...rest]: AlertGroup): { type: boolean; endpoint: boolean } {
  return {
    type: rest.every((a) => a.type === first.type),
    endpoint: rest.every((a) => a.endpoint === first.endpoint),
  };
}

/** `4 response_time alerts on GET /api/users/:id`, `3 unauthorized_access alerts`; one line. */
function groupSummary(alerts: AlertGroup): string {
  const [first] = alerts;
  const shares = groupShares(alerts);
  const type = shares.type ? `${first.type} ` : "";
  const endpoint = shares.endpoint && first.endpoint ? ` on ${first.endpoint}` : "";
  return oneLine(`${alerts.length} ${type}alerts${endpoint}`);
}

/** The subject of a grouped message, e.g. `[CRITICAL] 4 response_time alerts on GET /api/users/:id`; one line. */
export function groupSubject(reason: NotificationReason, alerts: AlertGroup): string {
  return oneLine(
    `[${alertTag(reason, mostSevere(alerts))}] ${groupSummary(alerts)}${REASON_SUFFIX[reason] ?? ""}`,
  );
}

/** What happened to the group, in a sentence that opens the message. */
export function groupSentence(reason: NotificationReason, alerts: AlertGroup): string {
  const summary = groupSummary(alerts);
  switch (reason) {
    case "firing":
      return `${summary} are firing.`;
    case "escalated":
      return `${summary} were escalated.`;
    case "resolved":
      return `${summary} were resolved.`;
    case "reminder":
      return `${summary} are still open (reminder).`;
    case "test":
      return reasonSentence("test");
  }
}

/** One alert of a group as every channel lists it. */
export interface GroupRow {
  alert: JobAlert;
  /** `key "billing" (#7)`, `client 203.0.113.9`; with the type and endpoint when the group does not share them. */
  who: string;
  /** `2.35 s (threshold 2 s)` */
  value: string;
  /** `4 occurrences` */
  occurrences: string;
  /** The alert's console page (null: the alert has no page). */
  link: string | null;
}

/** The rows of a grouped message, in the group's order, every text on one line. */
export function groupRows(alerts: AlertGroup, publicUrl: string): GroupRow[] {
  const shares = groupShares(alerts);
  return alerts.map((alert) => {
    const who: string[] = [];
    if (!shares.type) who.push(alert.type);
    if (alert.apiKeyId !== null) who.push(keyMention(alert.apiKeyId, alert.apiKeyName));
    else if (alert.clientIp) who.push(`client ${alert.clientIp}`);
    if (!shares.endpoint && alert.endpoint) who.push(alert.endpoint);
    if (who.length === 0) who.push(alert.id === null ? "alert" : `alert #${alert.id}`);
    return {
      alert,
      who: oneLine(who.join(" ")),
      value: `${formatMeasure(alert.type, alert.observedValue)} (threshold ${formatMeasure(alert.type, alert.threshold)})`,
      occurrences: `${alert.occurrences} ${alert.occurrences === 1 ? "occurrence" : "occurrences"}`,
      link: alertLink(publicUrl, alert.id),
    };
  });
}

/** `key "billing" (#7): critical, 2.35 s (threshold 2 s), 4 occurrences, last seen 2026-11-27T12:00:00.000Z` */
export function groupRowLine(row: GroupRow): string {
  return `${row.who}: ${row.alert.severity}, ${row.value}, ${row.occurrences}, last seen ${row.alert.lastSeenAt}`;
}
