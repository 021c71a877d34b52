import type { AuditEventView, AuditFilters, OperatorView, Page } from "@apimon/client";
import { auditActions } from "@apimon/config";
import { Hono } from "hono";
import { html } from "hono/html";
import { type ConsoleEnv, operatorChoices, type PageDeps, refusal } from "../context";
import { errorBox, type Html, page, pager, time, withParams } from "../views/layout";
import { silenceHref } from "./silences";

/** Changes per page of the activity list. */
export const ACTIVITY_PAGE_SIZE = 50;

type TargetType = AuditEventView["targetType"];
type Source = AuditEventView["source"];

const at = (path: string) => (id: number | null) => (id === null ? undefined : `${path}${id}`);

/** An operator's row on the operators page. */
export const operatorHref = (id: number) => `/operators#operator-${id}`;

/** What each kind of target is called, and where the console shows one (settings have no id). */
const TARGETS: Record<
  TargetType,
  { label: string; noun: string; href: (id: number | null) => string | undefined }
> = {
  user: { label: "User", noun: "user", href: at("/users/") },
  key: { label: "API key", noun: "key", href: at("/keys/") },
  settings: { label: "Alert settings", noun: "alert settings", href: () => "/settings" },
  channel: { label: "Channel", noun: "channel", href: at("/channels/") },
  silence: { label: "Silence", noun: "silence", href: (id) => (id === null ? undefined : silenceHref(id)) },
  operator: {
    label: "Operator",
    noun: "operator",
    href: (id) => (id === null ? undefined : operatorHref(id)),
  },
  alert: { label: "Alert", noun: "alert", href: at("/alerts/") },
};
const TARGET_TYPES = Object.keys(TARGETS) as TargetType[];

const SOURCES: Record<Source, string> = { console: "console", cli: "CLI", api: "API" };
const SOURCE_VALUES = Object.keys(SOURCES) as Source[];

/** The list's filters as the URL carries them. */
interface ActivityQuery {
  targetType?: string;
  targetId?: string;
  action?: string;
  source?: string;
  /** The changes made with that operator's token. */
  operatorId?: string;
  cursor?: string;
}
const FILTERS = ["targetType", "targetId", "action", "source", "operatorId"] as const;

/** The filters of the URL, without its cursor: what paging and the action links carry along. */
const listFilters = (q: ActivityQuery): Record<string, string | undefined> =>
  Object.fromEntries(FILTERS.map((name) => [name, q[name]]));

const isTargetType = (value: string | undefined): value is TargetType =>
  value !== undefined && value in TARGETS;
const idOf = (text: string | undefined) => (text && /^\d{1,10}$/.test(text) ? Number(text) : undefined);

/** The filters as the API takes them; values it does not know are its to refuse. */
function apiFilters(q: ActivityQuery): AuditFilters {
  return {
    targetType: q.targetType || undefined,
    targetId: idOf(q.targetId),
    action: q.action?.trim() || undefined,
    source: q.source || undefined,
    operatorId: idOf(q.operatorId),
    cursor: q.cursor || undefined,
    limit: ACTIVITY_PAGE_SIZE,
  };
}

/** The one target the list is about (`?targetType=key&targetId=9`, as a record's page links here). */
function targetOf(q: ActivityQuery): { type: TargetType; id: number } | undefined {
  const id = idOf(q.targetId);
  return isTargetType(q.targetType) && id !== undefined ? { type: q.targetType, id } : undefined;
}

/** A changed value in a line: "—" for none, a time as the console shows times, a long one cut. */
const MAX_VALUE = 80;
function changeValue(value: unknown): Html | string {
  if (value === null || value === undefined) return html`<span class="muted">—</span>`;
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value))
    return time(value);
  let text: string;
  if (typeof value === "string") text = value === "" ? '""' : value;
  else if (Array.isArray(value) && value.every((v) => v === null || typeof v !== "object"))
    text = value.length === 0 ? "none" : value.join(", ");
  else text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return text.length > MAX_VALUE
    ? html`<span title="${text}">${text.slice(0, MAX_VALUE - 1)}…</span>`
    : html`<span>${text}</span>`;
}

/** Lines of a change shown before the rest fold away. */
const CHANGES_SHOWN = 4;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * A field's change as lines: an object that was and still is one (a rule's thresholds, a key's
 * limits) by the parts of it that changed, `rateLimits.minute: 100 → 50`, so that a line says what
 * changed rather than repeating what did not.
 */
function changedParts(name: string, from: unknown, to: unknown): [string, unknown, unknown][] {
  if (!isRecord(from) || !isRecord(to)) return [[name, from, to]];
  const parts = [...new Set([...Object.keys(from), ...Object.keys(to)])]
    .filter((k) => JSON.stringify(from[k]) !== JSON.stringify(to[k]))
    .flatMap((k) => changedParts(`${name}.${k}`, from[k], to[k]));
  // The same parts in another order are still the change the log recorded.
  return parts.length === 0 ? [[name, from, to]] : parts;
}

/** The fields a change made, one `field: from → to` line each; a long list folds after a few. */
function changeLines(changes: AuditEventView["changes"]): Html | string {
  const entries = Object.entries(changes ?? {}).flatMap(([name, { from, to }]) =>
    changedParts(name, from, to),
  );
  if (entries.length === 0) return "";
  const line = ([name, from, to]: (typeof entries)[number]) =>
    html`<li><span class="mono">${name}</span>: ${changeValue(from)} → ${changeValue(to)}</li>`;
  const rest = entries.slice(CHANGES_SHOWN);
  return html`<ul class="changes">${entries.slice(0, CHANGES_SHOWN).map(line)}</ul>${
    rest.length === 0
      ? ""
      : html`<details class="changes"><summary>${rest.length} more ${rest.length === 1 ? "field" : "fields"}</summary><ul class="changes">${rest.map(line)}</ul></details>`
  }`;
}

/** The address of one record's changes (the settings': `targetId` left out), as its page links to them. */
export const changesOf = (targetType: TargetType, targetId?: number) =>
  withParams("/activity", { targetType, targetId: targetId === undefined ? undefined : String(targetId) });

/** "key #9" linked to the key's page. */
function targetLink(type: TargetType, id: number | null): Html {
  const { noun, href } = TARGETS[type];
  const text = id === null ? noun : `${noun} #${id}`;
  const to = href(id);
  return to === undefined ? html`<span>${text}</span>` : html`<a href="${to}">${text}</a>`;
}

/** The target's link, and a link to its changes alone unless the list shows only them already. */
function targetCell(e: AuditEventView, q: ActivityQuery): Html {
  const shown = targetOf(q);
  if (e.targetId === null || (shown?.type === e.targetType && shown.id === e.targetId))
    return targetLink(e.targetType, e.targetId);
  return html`<span>${targetLink(e.targetType, e.targetId)} <a class="muted small" href="${changesOf(e.targetType, e.targetId)}" title="Only the changes of ${TARGETS[e.targetType].noun} #${e.targetId}">its changes</a></span>`;
}

/**
 * Who made a change: the operator (named as they were then) linked to their row, and to the
 * changes they made unless the list shows only those already; or the admin token.
 */
function byCell(e: AuditEventView, q: ActivityQuery): Html {
  if (e.operator === null) return html`<span class="muted">admin token</span>`;
  const { id, name } = e.operator;
  const theirs =
    idOf(q.operatorId) === id
      ? ""
      : html` <a class="muted small" href="${withParams("/activity", { ...listFilters(q), operatorId: String(id) })}" title="Only the changes made with ${name}'s token">theirs</a>`;
  return html`<span><a href="${operatorHref(id)}">${name} #${id}</a>${theirs}</span>`;
}

function activityTable(items: AuditEventView[], q: ActivityQuery, emptyText: string) {
  if (items.length === 0) return html`<div class="card muted" id="no-activity">${emptyText}</div>`;
  const filters = listFilters(q);
  return html`<div class="table"><table class="stack activity"><thead><tr><th>When</th><th>What</th><th>Target</th><th>By</th><th>Source</th><th>Address</th></tr></thead>
<tbody>${items.map(
    (e) => html`<tr data-audit-id="${e.id}"><td data-label="When">${time(e.occurredAt)}</td>
<td data-label="What"><div><span class="message">${e.summary}</span> <a class="muted small mono" href="${withParams("/activity", { ...filters, action: e.action })}" title="Only ${e.action}">${e.action}</a>${changeLines(e.changes)}</div></td>
<td data-label="Target">${targetCell(e, q)}</td>
<td data-label="By">${byCell(e, q)}</td>
<td data-label="Source" title="${[e.userAgent, e.requestId && `request ${e.requestId}`].filter(Boolean).join(" · ")}">${SOURCES[e.source] ?? e.source}</td>
<td class="mono whole" data-label="Address">${e.clientAddress ?? ""}</td></tr>`,
  )}</tbody></table></div>`;
}

/**
 * The operator select's options, the one filtered by marked. One the list does not hold (beyond
 * the first page, or the keys API did not answer) stays selected as `#id`.
 */
function operatorOptions(operators: readonly OperatorView[], selected: string | undefined) {
  const unlisted =
    selected !== undefined && selected !== "" && !operators.some((op) => String(op.id) === selected);
  return html`${unlisted ? html`<option value="${selected}" selected>#${selected}</option>` : ""}${operators.map(
    (op) =>
      html`<option value="${op.id}" ${String(op.id) === selected ? "selected" : ""}>${op.name} #${op.id}${op.revokedAt === null ? "" : " (revoked)"}</option>`,
  )}`;
}

function filterForm(q: ActivityQuery, operators: readonly OperatorView[]) {
  const target = targetOf(q);
  // A record's page links here for its changes alone: the target stays until it is let go.
  const targetField = target
    ? html`<div><label>Target</label><input type="hidden" name="targetType" value="${target.type}"><input type="hidden" name="targetId" value="${target.id}">
<div class="target">${targetLink(target.type, target.id)} · <a href="${withParams("/activity", { action: q.action, source: q.source, operatorId: q.operatorId })}">every target</a></div></div>`
    : html`<div><label for="f-target">Target</label><select id="f-target" name="targetType"><option value="">any</option>${TARGET_TYPES.map(
        (t) =>
          html`<option value="${t}" ${t === q.targetType ? "selected" : ""}>${TARGETS[t].label}</option>`,
      )}</select></div>`;
  return html`<form class="filters" method="get" action="/activity">
${targetField}
<div><label for="f-action">Action</label><select id="f-action" name="action"><option value="">any</option>${TARGET_TYPES.map(
    (t) =>
      html`<optgroup label="${TARGETS[t].label}">${auditActions
        .filter((a) => a.startsWith(`${t}.`))
        .map(
          (a) => html`<option value="${a}" ${a === q.action?.trim() ? "selected" : ""}>${a}</option>`,
        )}</optgroup>`,
  )}</select></div>
<div><label for="f-source">Source</label><select id="f-source" name="source"><option value="">any</option>${SOURCE_VALUES.map(
    (s) => html`<option value="${s}" ${s === q.source ? "selected" : ""}>${SOURCES[s]}</option>`,
  )}</select></div>
<div><label for="f-operator">By</label><select id="f-operator" name="operatorId"><option value="">anyone</option>${operatorOptions(operators, q.operatorId)}</select></div>
<div><button type="submit">Filter</button> <a class="button secondary" href="/activity">Clear</a></div>
</form>`;
}

function emptyText(q: ActivityQuery): string {
  const target = targetOf(q);
  if (target) return `No changes of ${TARGETS[target.type].noun} #${target.id} match.`;
  return FILTERS.some((name) => q[name])
    ? "No changes match these filters."
    : "No changes recorded yet: changes to users, keys, alert settings, channels, silences and operators appear here as they are made.";
}

/** Activity: the audit log of the changes admins made, newest first, with filters and paging. */
export function createActivityPages({ alerts, keys }: PageDeps): Hono<ConsoleEnv> {
  const routes = new Hono<ConsoleEnv>();

  routes.get("/activity", async (c) => {
    const q: ActivityQuery = c.req.query();
    let list: Page<AuditEventView> = { items: [], nextCursor: null };
    let error: string | undefined;
    // Asked at once: the select's operators are a courtesy that never holds up the list.
    const operators = operatorChoices(keys);
    try {
      list = await alerts.listAudit(apiFilters(q));
    } catch (err) {
      // A filter the API refuses is said above the list; an API that is away fails the page.
      error = refusal(err, "query").text;
    }
    const params = { ...listFilters(q), cursor: q.cursor };
    const body = html`<h1>Activity</h1>
<p class="muted">What admins changed through the console, the CLI and the APIs, newest first: users, API keys, alert settings, notification channels, silences, operators and the alerts they acknowledged, each by the operator whose token made it or the admin token.</p>
${filterForm(q, await operators)}
${errorBox(error)}
${error ? "" : html`${activityTable(list.items, q, emptyText(q))}${pager("/activity", params, list, ACTIVITY_PAGE_SIZE)}`}`;
    return c.html(page({ title: "Activity", section: "/activity", signedIn: c.get("signedIn") }, body));
  });

  return routes;
}
