import { alertFacts, alertHeading, type RenderInput, reasonSentence } from "./alert-text";

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
