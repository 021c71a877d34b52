import {
  type AlertGroup,
  alertGroup,
  alertHeading,
  formatMeasure,
  groupRowLine,
  groupRows,
  groupSentence,
  type JobAlert,
  mostSevere,
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

/** Slack's caps: blocks in one message, characters in a header's text and in a section's. */
const MAX_BLOCKS = 50;
const MAX_HEADER_TEXT = 150;
const MAX_SECTION_TEXT = 3000;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function headerBlock(reason: NotificationReason, alert: JobAlert, subject: string): SlackBlock {
  return {
    type: "header",
    text: {
      type: "plain_text",
      text: clip(`${severityEmoji(reason, alert)} ${subject}`, MAX_HEADER_TEXT),
      emoji: true,
    },
  };
}

function mrkdwnSection(text: string): SlackBlock {
  return { type: "section", text: { type: "mrkdwn", text: clip(text, MAX_SECTION_TEXT) } };
}

function field(label: string, value: string): TextObject {
  return { type: "mrkdwn", text: `*${label}*\n${escapeMrkdwn(value)}` };
}

/** The Slack message for one notification: a header with the severity, the facts, a link. */
export function renderSlack(input: RenderInput): SlackMessage {
  const group = alertGroup(input);
  if (group) return renderGroupSlack(input, group);
  const { reason, alert } = input;
  const { subject, link } = alertHeading(input);
  const blocks: SlackBlock[] = [
    headerBlock(reason, alert, subject),
    mrkdwnSection(`${reasonSentence(reason)}\n${escapeMrkdwn(alert.message)}`),
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

/**
 * The Slack message for a grouped notification: a header with the highest severity, the sentence,
 * then one section per alert with its link. Past Slack's cap on blocks the rest are only counted,
 * with a link to the console's list of them.
 */
function renderGroupSlack(input: RenderInput, group: AlertGroup): SlackMessage {
  const { reason, publicUrl } = input;
  const { subject, link } = alertHeading(input);
  const blocks: SlackBlock[] = [
    headerBlock(reason, mostSevere(group), subject),
    mrkdwnSection(escapeMrkdwn(groupSentence(reason, group))),
  ];
  const rows = groupRows(group, publicUrl).map((row) =>
    mrkdwnSection(`${row.link ? `<${row.link}|#${row.alert.id}> ` : ""}${escapeMrkdwn(groupRowLine(row))}`),
  );
  const room = MAX_BLOCKS - blocks.length;
  if (rows.length <= room) {
    blocks.push(...rows);
  } else {
    // The last block's room goes to the count of the alerts left out.
    const shown = rows.slice(0, room - 1);
    const seeConsole = link ? `<${link}|see the console>` : "see the console";
    blocks.push(...shown, {
      type: "context",
      elements: [{ type: "mrkdwn", text: `…and ${rows.length - shown.length} more: ${seeConsole}` }],
    });
  }
  // Slack renders the fallback text as mrkdwn too (in notifications and in clients without blocks).
  return { text: escapeMrkdwn(subject), blocks };
}
