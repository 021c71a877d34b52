import type { NotificationJob } from "@apimon/events";

// The words every channel uses for an alert, so email and Slack say the same thing.

export type JobAlert = NotificationJob["alert"];
export type NotificationReason = NotificationJob["reason"];

/** Where an alert is shown: its page in the operator console (`publicUrl` is the console's). */
export function alertLink(publicUrl: string, alertId: number | null): string | null {
  if (alertId === null) return null;
  return `${publicUrl.replace(/\/+$/, "")}/alerts/${alertId}`;
}

/** What every channel renders a notification from. */
export interface RenderInput {
  reason: NotificationReason;
  alert: JobAlert;
  /** The operator console's address, for the alert's link. */
  publicUrl: string;
}

/** The one-line subject and the console link of a notification (null: the alert has no page). */
export function alertHeading({ reason, alert, publicUrl }: RenderInput): {
  subject: string;
  link: string | null;
} {
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

/** The email subject, e.g. `[CRITICAL] response_time on key "billing" (#7) /users/:id`; one line, always. */
export function alertSubject(reason: NotificationReason, alert: JobAlert): string {
  const subject = `[${alertTag(reason, alert)}] ${alertSummary(alert)}${REASON_SUFFIX[reason] ?? ""}`;
  return subject.replace(/[\r\n\t]+/g, " ");
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
