import {
  alertHeading,
  formatMeasure,
  type JobAlert,
  type NotificationReason,
  type RenderInput,
  reasonSentence,
} from "./alert-text";

// Slack Block Kit payload of an incoming webhook. Typed here rather than with @slack/types so the
// domain stays free of the client library; the shapes are Slack's.

interface TextObject {
  type: "plain_text" | "mrkdwn";
  text: string;
  emoji?: boolean;
}

export type SlackBlock =
  | { type: "header"; text: TextObject }
  | { type: "section"; text?: TextObject; fields?: TextObject[] }
  | { type: "context"; elements: TextObject[] }
  | { type: "divider" };

export interface SlackMessage {
  /** Shown in notifications and by clients that cannot render blocks. */
  text: string;
  blocks: SlackBlock[];
}

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function severityEmoji(reason: NotificationReason, alert: JobAlert): string {
  if (reason === "resolved") return ":white_check_mark:";
  if (reason === "test") return ":test_tube:";
  return alert.severity === "critical" ? ":rotating_light:" : ":warning:";
}

/** Slack caps header text at 150 characters and section text at 3000. */
function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function field(label: string, value: string): TextObject {
  return { type: "mrkdwn", text: `*${label}*\n${escapeMrkdwn(value)}` };
}

/** The Slack message for one notification: a header with the severity, the facts, a link. */
export function renderSlack(input: RenderInput): SlackMessage {
  const { reason, alert } = input;
  const { subject, link } = alertHeading(input);
  const blocks: SlackBlock[] = [
    {
      type: "header",
      text: {
        type: "plain_text",
        text: clip(`${severityEmoji(reason, alert)} ${subject}`, 150),
        emoji: true,
      },
    },
    {
      type: "section",
      text: { type: "mrkdwn", text: clip(`${reasonSentence(reason)}\n${escapeMrkdwn(alert.message)}`, 3000) },
    },
    {
      type: "section",
      fields: [
        field("Severity", alert.severity),
        field("Status", alert.status),
        field("API key", alert.apiKeyId === null ? "—" : String(alert.apiKeyId)),
        field("Endpoint", alert.endpoint ?? "—"),
        field("Value", formatMeasure(alert.type, alert.observedValue)),
        field("Threshold", formatMeasure(alert.type, alert.threshold)),
      ],
    },
    {
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: escapeMrkdwn(
            `${alert.occurrences} occurrence(s), first seen ${alert.firstSeenAt}, last seen ${alert.lastSeenAt}` +
              (alert.clientIp ? `, client ${alert.clientIp}` : ""),
          ),
        },
      ],
    },
  ];
  if (link) {
    blocks.push({ type: "section", text: { type: "mrkdwn", text: `<${link}|View alert #${alert.id}>` } });
  }
  // Slack renders the fallback text as mrkdwn too (in notifications and in clients without blocks).
  return { text: link ? `${escapeMrkdwn(subject)} – ${link}` : escapeMrkdwn(subject), blocks };
}
