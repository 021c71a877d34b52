import {
  type AlertGroup,
  alertFacts,
  alertGroup,
  alertHeading,
  groupRowLine,
  groupRows,
  groupSentence,
  mostSevere,
  type RenderInput,
  reasonSentence,
} from "./alert-text";

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

const SEVERITY_COLOURS = { critical: "#b91c1c", warning: "#b45309", resolved: "#15803d" } as const;

/** The email for one notification: subject, plain text, and HTML with every value escaped. */
export function renderEmail(input: RenderInput): EmailContent {
  const group = alertGroup(input);
  if (group) return renderGroupEmail(input, group);
  const { reason, alert } = input;
  const { subject, link } = alertHeading(input);
  const facts = alertFacts(alert);
  const width = Math.max(...facts.map(([label]) => label.length));

  const text = [
    reasonSentence(reason),
    "",
    alert.message,
    "",
    ...facts.map(([label, value]) => `${`${label}:`.padEnd(width + 3)}${value}`),
    "",
    ...(link ? [`Details: ${link}`, ""] : []),
    "-- apimon",
    "",
  ].join("\n");

  const colour = reason === "resolved" ? SEVERITY_COLOURS.resolved : SEVERITY_COLOURS[alert.severity];
  const rows = facts
    .map(
      ([label, value]) =>
        `<tr><th align="left" style="padding:2px 12px 2px 0">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`,
    )
    .join("\n");
  const html = `<!doctype html>
<html><body style="font-family:sans-serif">
<h2 style="color:${colour}">${escapeHtml(subject)}</h2>
<p>${escapeHtml(reasonSentence(reason))}</p>
<p>${escapeHtml(alert.message)}</p>
<table>
${rows}
</table>
${link ? `<p><a href="${escapeHtml(link)}">View alert #${alert.id}</a></p>\n` : ""}<p style="color:#6b7280">apimon</p>
</body></html>
`;
  return { subject, text, html };
}

const CELL = "padding:4px 8px 4px 0;border-top:1px solid #e5e7eb";

/**
 * The email for a grouped notification: one row per alert, with its own link, and a link to the
 * console's list. A table of few columns, so that it still fits a phone's width when it wraps.
 */
function renderGroupEmail(input: RenderInput, group: AlertGroup): EmailContent {
  const { reason, alert, publicUrl } = input;
  const { subject, link } = alertHeading(input);
  const rows = groupRows(group, publicUrl);
  const sentence = groupSentence(reason, group);
  const listLabel = `All ${alert.type} alerts in the console`;

  const text = [
    sentence,
    "",
    ...rows.map((row) => `- ${groupRowLine(row)}${row.link ? ` – ${row.link}` : ""}`),
    "",
    ...(link ? [`${listLabel}: ${link}`, ""] : []),
    "-- apimon",
    "",
  ].join("\n");

  const colour =
    reason === "resolved" ? SEVERITY_COLOURS.resolved : SEVERITY_COLOURS[mostSevere(group).severity];
  const head = ["Alert", "Severity", "Value", "Occurrences", "Last seen"]
    .map((label) => `<th align="left" style="${CELL}">${label}</th>`)
    .join("");
  const body = rows
    .map(({ alert: a, who, value, link: alertUrl }) => {
      const cells = [
        alertUrl ? `<a href="${escapeHtml(alertUrl)}">${escapeHtml(who)}</a>` : escapeHtml(who),
        `<span style="color:${SEVERITY_COLOURS[a.severity]}">${escapeHtml(a.severity)}</span>`,
        escapeHtml(value),
        String(a.occurrences),
        escapeHtml(a.lastSeenAt),
      ];
      return `<tr valign="top">${cells.map((cell) => `<td style="${CELL}">${cell}</td>`).join("")}</tr>`;
    })
    .join("\n");
  const html = `<!doctype html>
<html><body style="font-family:sans-serif">
<h2 style="color:${colour}">${escapeHtml(subject)}</h2>
<p>${escapeHtml(sentence)}</p>
<table style="border-collapse:collapse;font-size:14px">
<tr>${head}</tr>
${body}
</table>
${link ? `<p><a href="${escapeHtml(link)}">${escapeHtml(listLabel)}</a></p>\n` : ""}<p style="color:#6b7280">apimon</p>
</body></html>
`;
  return { subject, text, html };
}
