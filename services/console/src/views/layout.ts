import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { SessionOperator } from "../session";

// Server-rendered pages. Every interpolation in html`` is escaped unless it is itself html``
// (or raw(), used only for JSON made safe by safeJson); nothing the APIs answer becomes markup.

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export const NAV = [
  ["/alerts", "Alerts"],
  ["/history", "History"],
  ["/reports", "Reports"],
  ["/keys", "Keys"],
  ["/users", "Users"],
  ["/usage", "Usage"],
  ["/channels", "Channels"],
  ["/silences", "Silences"],
  ["/settings", "Settings"],
  ["/activity", "Activity"],
  ["/operators", "Operators"],
] as const;

/** What a signed-in page knows of its session: the CSRF token its forms carry, and who signed in. */
export interface SignedIn {
  csrf: string;
  /** The operator whose token the session holds, or null for the admin token. */
  operator: SessionOperator | null;
}

/** Whether the signed-in token may change anything (the APIs refuse a viewer's changes). */
export const mayChange = (signedIn: SignedIn): boolean => signedIn.operator?.role !== "viewer";

/** Who signed in, as the header says it: "alice · viewer", or "admin token". */
export const signedInAs = ({ operator }: SignedIn): string =>
  operator === null ? "admin token" : `${operator.name} · ${operator.role}`;

/**
 * The header's words for who signed in, as signedInAs says them: an operator's name in a box of
 * its own, which a long name overflows with an ellipsis (the whole of it in its title) while the
 * role stays in sight.
 */
function whoSignedIn(signedIn: SignedIn): Html | string {
  const { operator } = signedIn;
  if (operator === null) return signedInAs(signedIn);
  return html`<span class="who-name" title="${operator.name}">${operator.name}</span><span class="who-role"> · ${operator.role}</span>`;
}

export interface PageOptions {
  title: string;
  /** The nav entry to highlight. */
  section?: string;
  /** The session's CSRF token for forms (sign-out included) and who signed in; absent on the sign-in page. */
  signedIn?: SignedIn;
  /** Seconds between refreshes of the element with id "live". */
  refreshSeconds?: number;
  /** Load Chart.js. */
  charts?: boolean;
}

export function page(options: PageOptions, body: Html): Html {
  const { title, section, signedIn, refreshSeconds, charts } = options;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · apimon console</title>
<link rel="stylesheet" href="/assets/console.css">
<link rel="icon" href="data:,">
</head>
<body data-refresh="${refreshSeconds ?? 0}">
${
  signedIn === undefined
    ? ""
    : html`<header class="top">
  <a class="brand" href="/alerts">apimon</a>
  <nav>${NAV.map(([href, label]) => html`<a href="${href}" class="${section === href ? "active" : ""}">${label}</a>`)}</nav>
  <span class="who" id="signed-in-as" title="Signed in with ${signedIn.operator === null ? "the admin token" : `operator #${signedIn.operator.id}'s token`}">${whoSignedIn(signedIn)}</span>
  <form method="post" action="/sign-out">${csrfField(signedIn)}<button type="submit">Sign out</button></form>
</header>`
}
<main>
${signedIn && !mayChange(signedIn) ? html`<div class="read-only" id="read-only" role="note">Read-only: you signed in with a viewer's token, so the console shows everything and changes nothing.</div>` : ""}
${body}
</main>
${charts ? html`<script src="/assets/chart.umd.min.js"></script>` : ""}
<script src="/assets/console.js"></script>
</body>
</html>`;
}

export const csrfField = ({ csrf }: SignedIn) => html`<input type="hidden" name="_csrf" value="${csrf}">`;

/**
 * A form that changes something, posted to `action`. A viewer gets its fields in a disabled
 * fieldset instead: the values still read where the form lays them out, and there is nothing to
 * send (no form, no CSRF token; `content` leaves its submit button out for a viewer).
 */
export function changeForm(
  signedIn: SignedIn,
  action: string,
  content: Html,
  { novalidate = false }: { novalidate?: boolean } = {},
): Html {
  return mayChange(signedIn)
    ? html`<form method="post" action="${action}"${novalidate ? " novalidate" : ""}>${csrfField(signedIn)}${content}</form>`
    : html`<fieldset class="read-only-form" disabled>${content}</fieldset>`;
}

/** An ISO time as UTC text; the browser script rewrites it to local time. */
export function time(iso: string | null | undefined): Html | string {
  if (!iso) return "—";
  return html`<time datetime="${iso}">${iso
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z")
    .replace("Z", " UTC")}</time>`;
}

/** `path` with the parameters that have a value as its query string (empty ones dropped). */
export function withParams(path: string, params: Record<string, string | undefined>): string {
  const entries = Object.entries(params).filter((e): e is [string, string] => !!e[1]);
  return entries.length ? `${path}?${new URLSearchParams(entries)}` : path;
}

/**
 * The links of a cursor-paged list: back to the first page (from a later one) and on to the next,
 * keeping the list's `params` (their `cursor` is the page shown); and how many are shown.
 */
export function pager(
  path: string,
  params: Record<string, string | undefined>,
  list: { items: readonly unknown[]; nextCursor: string | null },
  perPage: number,
): Html {
  const first = params.cursor
    ? html`<a class="button secondary" href="${withParams(path, { ...params, cursor: undefined })}">« First page</a>`
    : "";
  const next = list.nextCursor
    ? html`<a class="button secondary" href="${withParams(path, { ...params, cursor: list.nextCursor })}" rel="next">Next page »</a>`
    : "";
  return html`<div class="pager">${first}${next}<span class="muted small">${list.items.length} shown, ${perPage} per page</span></div>`;
}

/**
 * A link to a record by its name with its id beside it, `base/id` (the id alone for a record
 * whose name is not known: deleted, or its API did not answer).
 */
export function namedLink(base: string, id: number | null, names: ReadonlyMap<number, string>): Html {
  if (id === null) return html`<span class="muted">—</span>`;
  const name = names.get(id);
  return name === undefined
    ? html`<a href="${base}/${id}">#${id}</a>`
    : html`<a href="${base}/${id}">${name}</a> <span class="muted small">#${id}</span>`;
}

/** Records by name with their ids, comma-separated, each linked as namedLink links it. */
export const namedLinks = (
  base: string,
  ids: readonly number[],
  names: ReadonlyMap<number, string>,
): Html[] => ids.map((id, i) => html`${i > 0 ? ", " : ""}${namedLink(base, id, names)}`);

export const badge = (value: string) => html`<span class="badge ${value}">${value}</span>`;

/** The field's error messages, shown next to it. */
export function fieldError(errors: Record<string, string[]>, field: string): Html | string {
  const messages = errors[field];
  return messages?.length ? html`<div class="error" data-field="${field}">${messages.join("; ")}</div>` : "";
}

/** A change that was made, said in green. */
export function noticeBox(text: string | undefined): Html | string {
  return text ? html`<div class="notice" role="status">${text}</div>` : "";
}

/** Something to heed that is no failure of the request (a session that ended), said in amber. */
export function warningBox(text: string | undefined): Html | string {
  return text ? html`<div class="warning-box" role="status">${text}</div>` : "";
}

export function errorBox(text: string | undefined): Html | string {
  return text ? html`<div class="alert-box" role="alert">${text}</div>` : "";
}

/** JSON inside <script type="application/json">: `<` escaped so no tag can end the element early. */
export function safeJson(value: unknown): HtmlEscapedString {
  return raw(
    JSON.stringify(value)
      .replace(/</g, "\\u003c")
      .replace(/>/g, "\\u003e")
      .replace(/&/g, "\\u0026")
      .replace(/\u2028/g, "\\u2028")
      .replace(/\u2029/g, "\\u2029"),
  );
}

export interface ChartSpec {
  type: "line" | "bar";
  labels: string[];
  datasets: { label: string; data: (number | null)[]; color?: string }[];
  stacked?: boolean;
  yTitle?: string;
}

/** A chart drawn by the console script from JSON data (no inline script: the CSP forbids it). */
export function chart(id: string, title: string, spec: ChartSpec): Html {
  return html`<div class="card"><h2>${title}</h2><div class="chart"><canvas data-chart="${id}" aria-label="${title}"></canvas></div>
<script type="application/json" id="${id}">${safeJson(spec)}</script></div>`;
}

/** Seconds as "42 s", "3.5 min", "2.1 h". */
export function duration(seconds: number | null): string {
  if (seconds === null) return "—";
  if (seconds < 120) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
