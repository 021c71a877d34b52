import type {
  AlertDetailView,
  AlertFilters,
  AlertsClient,
  AlertView,
  Page,
  SilenceView,
} from "@apimon/client";
import { alertSeverities, alertTypes } from "@apimon/events";
import { Hono } from "hono";
import { html } from "hono/html";
import { type ConsoleEnv, channelNames, field, keyNames, type PageDeps, refusal } from "../context";
import { eventLabel, formatValue, typeLabel } from "../views/format";
import {
  badge,
  csrfField,
  errorBox,
  type Html,
  mayChange,
  namedLink,
  namedLinks,
  noticeBox,
  page,
  pager,
  type SignedIn,
  time,
  withParams,
} from "../views/layout";
import { changesOf } from "./activity";
import { silenceLink } from "./silences";

/** Alerts per page of the lists. */
export const PAGE_SIZE = 50;

const DAY_MS = 86_400_000;

interface ListQuery {
  type?: string;
  severity?: string;
  status?: string;
  apiKeyId?: string;
  endpoint?: string;
  cursor?: string;
}

/** The filters as the API takes them; unknown values are passed on for the API to refuse. */
function apiFilters(q: ListQuery): AlertFilters {
  const id = q.apiKeyId ? Number(q.apiKeyId) : undefined;
  return {
    type: q.type || undefined,
    severity: q.severity || undefined,
    status: q.status || undefined,
    apiKeyId: id !== undefined && Number.isInteger(id) && id > 0 ? id : undefined,
    endpoint: q.endpoint?.trim() || undefined,
    cursor: q.cursor || undefined,
    limit: PAGE_SIZE,
  };
}

/** The list's filters: what paging and an acknowledgement of several alerts carry along. */
const FILTERS = ["type", "severity", "status", "apiKeyId", "endpoint"] as const;
type ListFilters = Partial<Record<(typeof FILTERS)[number], string>>;

const listFilters = (q: ListFilters): ListFilters =>
  Object.fromEntries(FILTERS.map((name) => [name, q[name]]));

const select = (name: string, label: string, values: readonly string[], current: string | undefined) =>
  html`<div><label for="f-${name}">${label}</label><select id="f-${name}" name="${name}">
<option value="">any</option>${values.map(
    (v) => html`<option value="${v}" ${v === current ? "selected" : ""}>${typeLabel(v)}</option>`,
  )}</select></div>`;

function filterForm(action: string, q: ListQuery, statuses: readonly string[], extra: Html | string = "") {
  return html`<form class="filters" method="get" action="${action}">
${extra}
${select("type", "Type", alertTypes, q.type)}
${select("severity", "Severity", alertSeverities, q.severity)}
${select("status", "Status", statuses, q.status)}
<div><label for="f-key">API key id</label><input id="f-key" name="apiKeyId" type="number" min="1" value="${q.apiKeyId ?? ""}" placeholder="any"></div>
<div><label for="f-endpoint">Endpoint</label><input id="f-endpoint" name="endpoint" maxlength="512" value="${q.endpoint ?? ""}" placeholder="any, or * /api/billing/*" title="An endpoint as alerts name it, GET /api/users/:id; a * stands for any run of characters"></div>
<div><button type="submit">Filter</button> <a class="button secondary" href="${action}">Clear</a></div>
</form>`;
}

/** The form that acknowledges the alerts ticked in a list, and the ticks it shows. */
interface Selection {
  form: string;
  /** The ids ticked before, as the form sent them: kept ticked when a refused form is shown again. */
  ticked: ReadonlySet<string>;
}

function alertTable(
  items: AlertView[],
  names: ReadonlyMap<number, string>,
  {
    emptyText,
    resolvedColumn = false,
    selection,
  }: { emptyText: string; resolvedColumn?: boolean; selection?: Selection },
) {
  if (items.length === 0) return html`<div class="card muted">${emptyText}</div>`;
  // "Select all" needs the console script: hidden until the script shows it.
  const selectAll = selection
    ? html`<th class="select"><label class="tick" hidden><input type="checkbox" data-select-all><span class="visually-hidden">Select all firing alerts shown</span></label></th>`
    : "";
  const selectCell = (a: AlertView) => {
    if (!selection) return "";
    if (a.status !== "firing") return html`<td class="select"></td>`;
    const ticked = selection.ticked.has(String(a.id)) ? "checked" : "";
    return html`<td class="select"><label class="tick"><input type="checkbox" name="ids" value="${a.id}" form="${selection.form}" ${ticked}><span class="visually-hidden">Select alert ${a.id}</span></label></td>`;
  };
  return html`<div class="table"><table class="alerts">
<thead><tr>${selectAll}<th>#</th><th>Severity</th><th>Type</th><th>Status</th><th>Message</th><th>Key</th><th class="num">Count</th><th>${resolvedColumn ? "Resolved" : "Last seen"}</th></tr></thead>
<tbody>${items.map(
    (a) => html`<tr data-alert-id="${a.id}">${selectCell(a)}
<td class="whole"><a href="/alerts/${a.id}">${a.id}</a></td>
<td>${badge(a.severity)}</td>
<td>${typeLabel(a.type)}</td>
<td>${badge(a.status)}${a.silencedBy === null ? "" : html` <span class="badge silenced" title="Not notified: held back by silence #${a.silencedBy}">silenced</span>`}${a.heldUntil === null ? "" : html` <span class="badge held" title="${HELD_TITLES[heldNews(a)]}">held</span>`}</td>
<td class="message"><a href="/alerts/${a.id}">${a.message}</a>${a.endpoint ? html`<div class="muted small mono">${a.endpoint}</div>` : ""}</td>
<td data-label><span class="label">key </span>${namedLink("/keys", a.apiKeyId, names)}</td>
<td class="num" data-label><span class="label">count </span>${a.occurrences}</td>
<td data-label><span class="label">${resolvedColumn ? "resolved " : "last seen "}</span>${time(resolvedColumn ? a.resolvedAt : a.lastSeenAt)}</td>
</tr>`,
  )}</tbody></table></div>`;
}

/** The id of the list's form that acknowledges the ticked alerts. */
const ACKNOWLEDGE_FORM = "acknowledge-selected";

/**
 * The form that acknowledges the alerts ticked in the list, with one note and name for all.
 * It sits outside the live region and the rows' checkboxes join it by their `form` attribute:
 * the refresh replaces the rows every few seconds but never the note being typed or the button,
 * and the console script carries the ticks over to the fresh rows by alert id. So the list stays
 * live while an operator picks alerts (new ones appear, resolved ones leave) instead of pausing
 * on what it showed when the first box was ticked.
 */
function acknowledgeForm(
  signedIn: SignedIn,
  filters: ListFilters,
  values: { note?: string; by?: string },
  shown: boolean,
) {
  // Hidden while no row can be ticked (the script shows it when a refresh brings one).
  return html`<form id="${ACKNOWLEDGE_FORM}" class="bulk" method="post" action="${withParams("/alerts/acknowledge", filters)}" data-joined-by-boxes${shown ? "" : " hidden"}>${csrfField(signedIn)}
<div class="note"><label for="bulk-note">Note for the selected alerts (optional)</label><input id="bulk-note" name="note" maxlength="2000" value="${values.note ?? ""}" placeholder="What you found, what you did"></div>
<div><label for="bulk-by">Your name (optional)</label><input id="bulk-by" name="by" maxlength="200" value="${values.by ?? ""}"></div>
<div><button type="submit">Acknowledge selected</button></div>
</form>`;
}

type AcknowledgedMany = Awaited<ReturnType<AlertsClient["acknowledgeMany"]>>;

/**
 * What the notice after an acknowledgement of several alerts says of each list of the API's
 * answer, by the list's name (the redirect's query carries each list's length under it).
 */
const OUTCOME_WORDS: Record<keyof AcknowledgedMany, (n: number) => string> = {
  acknowledged: (n) =>
    n === 0 ? "No alerts acknowledged" : `${n} ${n === 1 ? "alert" : "alerts"} acknowledged`,
  alreadyAcknowledged: (n) => `${n} had been acknowledged already`,
  resolved: (n) => `${n} had resolved meanwhile`,
  notFound: (n) => `${n} ${n === 1 ? "was" : "were"} not found`,
};
const OUTCOMES = Object.keys(OUTCOME_WORDS) as (keyof AcknowledgedMany)[];

/** The redirect's query after an acknowledgement of several alerts: the length of each list but the empty ones. */
const outcomeCounts = (answer: AcknowledgedMany): Record<string, string | undefined> =>
  Object.fromEntries(
    OUTCOMES.map((name) => [name, answer[name].length ? String(answer[name].length) : undefined]),
  );

/** "3 alerts acknowledged; 1 had resolved meanwhile.": the parts that apply, from the redirect's query. */
function acknowledgedNotice(q: Record<string, string | undefined>): string | undefined {
  if (q.done !== "acknowledged") return undefined;
  const count = (name: string) => {
    const n = Number(q[name] ?? 0);
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  };
  const parts = OUTCOMES.filter((name) => name === "acknowledged" || count(name) > 0);
  return `${parts.map((name) => OUTCOME_WORDS[name](count(name))).join("; ")}.`;
}

/**
 * The ticked alerts' ids, unique and ascending, or why none can be sent. How many one request
 * may name is the API's to say: its refusal names the limit.
 */
function selectedIds(values: readonly unknown[]): { ids: number[] } | { error: string } {
  if (values.length === 0)
    return { error: "No alert selected: tick the firing alerts to acknowledge first." };
  const ids = values.map((v) => (typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : Number.NaN));
  if (ids.some((id) => !Number.isSafeInteger(id) || id < 1)) {
    return { error: "Nothing was acknowledged: the selection must be alert ids, whole numbers." };
  }
  return { ids: [...new Set(ids)].sort((a, b) => a - b) };
}

const NOTICES: Record<string, string> = { acknowledged: "Alert acknowledged." };

/** Alerts, alert detail with acknowledgement, and history. */
export function createAlertPages({ alerts, keys, refreshSeconds, clock }: PageDeps): Hono<ConsoleEnv> {
  const routes = new Hono<ConsoleEnv>();

  /**
   * The active alerts page. A refused acknowledgement of several alerts shows it again with what
   * was typed and ticked, without the refresh: its address is the form's, not the list's.
   */
  async function listPage(
    signedIn: SignedIn,
    q: ListQuery,
    opts: {
      notice?: string;
      error?: string;
      values?: { note?: string; by?: string };
      ticked?: ReadonlySet<string>;
      refresh: boolean;
    },
  ) {
    const filters = listFilters(q);
    let list: Page<AlertView> = { items: [], nextCursor: null };
    let error = opts.error;
    try {
      list = await alerts.listActive(apiFilters(q));
    } catch (err) {
      error = refusal(err, "query").text;
    }
    const [counts, names] = await Promise.all([
      alerts.counts(),
      keyNames(
        keys,
        list.items.map((a) => a.apiKeyId),
      ),
    ]);
    // A list of acknowledged alerts has nothing to acknowledge, and a viewer acknowledges nothing:
    // no checkboxes, whose only use is the acknowledgement of several.
    const selection =
      filters.status === "acknowledged" || !mayChange(signedIn)
        ? undefined
        : { form: ACKNOWLEDGE_FORM, ticked: opts.ticked ?? new Set<string>() };
    const stat = (cls: string, n: number, label: string, href: string) =>
      html`<a class="stat ${cls}" href="${href}"><div class="n">${n}</div><div class="l">${label}</div></a>`;
    const body = html`<h1>Active alerts</h1>
${noticeBox(opts.notice)}
<div class="cards" id="live-counts" data-live>
${stat("critical", counts.bySeverity.critical ?? 0, "critical", "/alerts?severity=critical")}
${stat("warning", counts.bySeverity.warning ?? 0, "warning", "/alerts?severity=warning")}
${stat("", counts.byStatus.firing ?? 0, "firing", "/alerts?status=firing")}
${stat("", counts.byStatus.acknowledged ?? 0, "acknowledged", "/alerts?status=acknowledged")}
${stat("", counts.silenced, "silenced", "/silences")}
</div>
${filterForm("/alerts", q, ["firing", "acknowledged"])}
${errorBox(error)}
${
  selection
    ? acknowledgeForm(
        signedIn,
        filters,
        opts.values ?? {},
        list.items.some((a) => a.status === "firing"),
      )
    : ""
}
<div id="live" data-live>
${alertTable(list.items, names, { emptyText: "No active alerts match.", selection })}
${pager("/alerts", { ...filters, cursor: q.cursor }, list, PAGE_SIZE)}
<p class="muted small">${opts.refresh ? `Refreshes every ${refreshSeconds} s · updated ` : "Updated "}${time(clock().toISOString())}</p>
</div>`;
    return page(
      {
        title: "Alerts",
        section: "/alerts",
        signedIn,
        refreshSeconds: opts.refresh ? refreshSeconds : undefined,
      },
      body,
    );
  }

  routes.get("/alerts", async (c) => {
    const q: ListQuery & Record<string, string> = c.req.query();
    return c.html(await listPage(c.get("signedIn"), q, { notice: acknowledgedNotice(q), refresh: true }));
  });

  routes.post("/alerts/acknowledge", async (c) => {
    const filters = listFilters(c.req.query());
    const form = await c.req.parseBody({ all: true });
    const by = field(form, "by");
    const note = typeof form.note === "string" ? form.note.trim() : "";
    const ticked = form.ids === undefined ? [] : [form.ids].flat();
    const selected = selectedIds(ticked);
    let error: string;
    if ("ids" in selected) {
      try {
        // The same `by` as the acknowledgement of one alert: the name typed, if any.
        const answer = await alerts.acknowledgeMany({
          ids: selected.ids,
          ...(by && { by }),
          ...(note && { note }),
        });
        return c.redirect(
          withParams("/alerts", { ...filters, done: "acknowledged", ...outcomeCounts(answer) }),
          303,
        );
      } catch (err) {
        error = `Nothing was acknowledged: ${refusal(err, "ids").text}`;
      }
    } else {
      error = selected.error;
    }
    const values = { note: typeof form.note === "string" ? form.note : "", by };
    const kept = new Set(ticked.filter((v): v is string => typeof v === "string"));
    return c.html(
      await listPage(c.get("signedIn"), filters, { error, values, ticked: kept, refresh: false }),
      400,
    );
  });

  /**
   * What an alert's page shows beside the alert: its key's name, its channels' when it has any,
   * and the silence holding it back (its id alone when the silence cannot be read).
   */
  const contextFor = async (alert: AlertDetailView): Promise<AlertContext> => {
    const hasChannels = alert.deliveries.length > 0 || alert.timeline.some((e) => e.channelIds.length > 0);
    const [keyName, channels, silence] = await Promise.all([
      keyNames(keys, [alert.apiKeyId]),
      hasChannels ? channelNames(alerts) : new Map<number, string>(),
      alert.silencedBy === null ? undefined : alerts.getSilence(alert.silencedBy).catch(() => undefined),
    ]);
    return { keys: keyName, channels, silence };
  };

  routes.get("/alerts/:id{[0-9]+}", async (c) => {
    const alert = await alerts.get(Number(c.req.param("id")));
    const notice = NOTICES[c.req.query("done") ?? ""];
    return c.html(
      page(
        { title: `Alert ${alert.id}`, section: "/alerts", signedIn: c.get("signedIn") },
        detail(alert, await contextFor(alert), c.get("signedIn"), { notice }),
      ),
    );
  });

  routes.post("/alerts/:id{[0-9]+}/acknowledge", async (c) => {
    const id = Number(c.req.param("id"));
    const form = await c.req.parseBody();
    const by = field(form, "by");
    const note = typeof form.note === "string" ? form.note.trim() : "";
    try {
      await alerts.acknowledge(id, { ...(by && { by }), ...(note && { note }) });
    } catch (err) {
      const message = refusal(err, "alert", [400, 409]).text;
      const alert = await alerts.get(id);
      // The form keeps the name and note typed, as the list's acknowledgement of several does.
      const values = { by, note: typeof form.note === "string" ? form.note : "" };
      return c.html(
        page(
          { title: `Alert ${id}`, section: "/alerts", signedIn: c.get("signedIn") },
          detail(alert, await contextFor(alert), c.get("signedIn"), { error: message, values }),
        ),
        400,
      );
    }
    return c.redirect(`/alerts/${id}?done=acknowledged`, 303);
  });

  routes.get("/history", async (c) => {
    const q: ListQuery & { from?: string; to?: string } = c.req.query();
    const today = clock().toISOString().slice(0, 10);
    const from = /^\d{4}-\d{2}-\d{2}$/.test(q.from ?? "")
      ? (q.from as string)
      : new Date(clock().getTime() - 6 * DAY_MS).toISOString().slice(0, 10);
    const to = /^\d{4}-\d{2}-\d{2}$/.test(q.to ?? "") ? (q.to as string) : today;
    const status = q.status ?? "resolved";
    let list: Page<AlertView> = { items: [], nextCursor: null };
    let error: string | undefined;
    try {
      list = await alerts.history({
        ...apiFilters({ ...q, status }),
        from: `${from}T00:00:00.000Z`,
        // The form's "to" is a whole day, included.
        to: new Date(Date.parse(`${to}T00:00:00.000Z`) + DAY_MS).toISOString(),
      });
    } catch (err) {
      error = refusal(err, "query").text;
    }
    const names = await keyNames(
      keys,
      list.items.map((a) => a.apiKeyId),
    );
    const range = html`<div><label for="f-from">From</label><input id="f-from" type="date" name="from" value="${from}"></div>
<div><label for="f-to">To</label><input id="f-to" type="date" name="to" value="${to}"></div>`;
    const body = html`<h1>History</h1>
<p class="muted">Alerts opened between the two days (UTC, both included); resolved ones unless another status is chosen.</p>
${filterForm("/history", { ...q, status }, ["resolved", "acknowledged", "firing"], range)}
${errorBox(error)}
${alertTable(list.items, names, { emptyText: "No alerts in this range match.", resolvedColumn: status === "resolved" })}
${pager("/history", { ...q, status, from, to }, list, PAGE_SIZE)}`;
    return c.html(page({ title: "History", section: "/history", signedIn: c.get("signedIn") }, body));
  });

  return routes;
}

interface AlertContext {
  keys: ReadonlyMap<number, string>;
  channels: ReadonlyMap<number, string>;
  silence?: SilenceView;
}

/** The silences page with its form filled in with the alert's scope (the fields it has). */
const silenceLikeThis = (a: AlertView) =>
  withParams("/silences", {
    type: a.type,
    apiKeyId: a.apiKeyId === null ? undefined : String(a.apiKeyId),
    endpoint: a.endpoint ?? undefined,
    clientIp: a.clientIp ?? undefined,
  });

/**
 * The settings page with a new threshold override for the alert's endpoint filled in, for the two
 * rules that overrides cover. The endpoint alone, not the key's endpoint: what makes an endpoint slow
 * or failing (an export, a flaky upstream) is usually the same for every key, and an override per
 * key would leave the next key's alert on it firing. The key can be added in the form.
 */
const thresholdsLink = (a: AlertView) =>
  (a.type === "response_time" || a.type === "error_rate") && a.endpoint
    ? html`<a class="button secondary" href="${withParams("/settings", { endpoint: a.endpoint })}#overrides" id="thresholds-for-endpoint">Set thresholds for this endpoint</a>`
    : "";

function silencedFact(id: number, silence: SilenceView | undefined) {
  return html`<dt>Silenced</dt><dd id="silenced-by">by ${silenceLink(id)}${
    silence ? html` until ${time(silence.endsAt)}: <span class="message">${silence.comment}</span>` : ""
  }. Not notified while it lasts.</dd>`;
}

/**
 * What news of a held alert waits for its group: its first notification (never notified), its
 * rise in severity (open and notified before) or its resolution.
 */
function heldNews(a: Pick<AlertView, "status" | "lastNotifiedAt">): "opening" | "rise" | "resolution" {
  if (a.status === "resolved") return "resolution";
  return a.lastNotifiedAt === null ? "opening" : "rise";
}

const HELD_TITLES = {
  opening: "Not notified yet: held back to go with the others of its type and endpoint",
  rise: "Its rise in severity is held back to go with the others of its type and endpoint",
  resolution: "Its resolution is held back to go with the others of its type and endpoint",
} as const;

/** Why and until when an alert's notification waits for its group. */
function heldFact(a: AlertView & { heldUntil: string }) {
  const why = {
    opening:
      "an alert of its type and endpoint was notified shortly before, so it goes then, in one message with the others opened meanwhile.",
    rise: `another alert of its type and endpoint rose in severity shortly before, so its rise to ${a.severity} goes then, in one message with the others rising meanwhile.`,
    resolution:
      "another resolution of its type and endpoint was told shortly before, so its resolution goes then, in one message with the others resolving meanwhile.",
  }[heldNews(a)];
  return html`<dt>Held</dt><dd id="held-until">until ${time(a.heldUntil)}: ${why}</dd>`;
}

/** A delivery of a message about several alerts says so, and which alert it came first under. */
function groupedNote(d: AlertDetailView["deliveries"][number], alertId: number) {
  if (d.otherAlertIds.length === 0) return "";
  const count = d.otherAlertIds.length + 1;
  return d.alertId === alertId || d.alertId === null
    ? html` <span class="muted small">(one message about ${count} alerts)</span>`
    : html` <span class="muted small">(one message about ${count} alerts, alert <a href="/alerts/${d.alertId}">#${d.alertId}</a> first)</span>`;
}

function detail(
  a: AlertDetailView,
  names: AlertContext,
  signedIn: SignedIn,
  {
    notice,
    error,
    values = {},
  }: {
    notice?: string;
    /** Why the acknowledgement was refused; its form then keeps `values`, the name and note typed. */
    error?: string;
    values?: { by?: string; note?: string };
  } = {},
) {
  const ackForm =
    a.status === "firing" && mayChange(signedIn)
      ? html`<div class="card"><h2>Acknowledge</h2>
${errorBox(error)}
<form method="post" action="/alerts/${a.id}/acknowledge">${csrfField(signedIn)}
<div class="grid"><div class="field"><label for="ack-by">Your name (optional)</label><input id="ack-by" name="by" maxlength="200" value="${values.by ?? ""}"></div></div>
<div class="field"><label for="ack-note">Note (optional)</label><textarea id="ack-note" name="note" maxlength="2000" placeholder="What you found, what you did">${values.note ?? ""}</textarea></div>
<button type="submit">Acknowledge</button>
</form></div>`
      : errorBox(error);
  return html`<p><a href="/alerts">« Alerts</a></p>
<h1>Alert #${a.id} · ${typeLabel(a.type)} ${badge(a.severity)} ${badge(a.status)}</h1>
${noticeBox(notice)}
<div class="card"><p class="message" id="alert-message">${a.message}</p>
<dl class="facts">
<dt>Observed</dt><dd><strong>${formatValue(a.type, a.observedValue)}</strong> against a threshold of ${formatValue(a.type, a.threshold)}</dd>
<dt>API key</dt><dd>${namedLink("/keys", a.apiKeyId, names.keys)}</dd>
<dt>Endpoint</dt><dd class="mono">${a.endpoint ?? "—"}</dd>
<dt>Client IP</dt><dd class="mono">${a.clientIp ?? "—"}</dd>
<dt>Occurrences</dt><dd>${a.occurrences}</dd>
<dt>First seen</dt><dd>${time(a.firstSeenAt)}</dd>
<dt>Last seen</dt><dd>${time(a.lastSeenAt)}</dd>
<dt>Acknowledged</dt><dd>${a.acknowledgedAt ? html`${time(a.acknowledgedAt)}${a.acknowledgedBy ? html` by ${a.acknowledgedBy}` : ""}` : "—"}</dd>
${a.acknowledgementNote ? html`<dt>Note</dt><dd class="message" id="ack-note-text">${a.acknowledgementNote}</dd>` : ""}
<dt>Escalated</dt><dd>${time(a.escalatedAt)}</dd>
<dt>Resolved</dt><dd>${time(a.resolvedAt)}</dd>
${a.silencedBy === null ? "" : silencedFact(a.silencedBy, names.silence)}
${a.heldUntil === null ? "" : heldFact({ ...a, heldUntil: a.heldUntil })}
</dl>
${
  // Both open a form filled in for this alert, which a viewer could not send.
  mayChange(signedIn)
    ? html`<div class="actions spaced"><a class="button secondary" href="${silenceLikeThis(a)}" id="silence-like-this">Silence alerts like this</a>${thresholdsLink(a)}</div>`
    : ""
}</div>
${ackForm}
<h2>Timeline</h2>${
    a.timeline.some((e) => e.kind === "acknowledged")
      ? html`<p class="muted small">"By" is the name the acknowledgement gave; <a href="${changesOf("alert", a.id)}" id="alert-changes">the audit log</a> also names the operator whose token sent it.</p>`
      : ""
  }
<div class="table"><table class="stack"><thead><tr><th>When</th><th>Event</th><th>Severity</th><th class="num">Value</th><th>By</th><th>Note</th><th>Channels</th></tr></thead>
<tbody>${a.timeline.map(
    (
      e,
    ) => html`<tr><td data-label="When">${time(e.at)}</td><td data-label="Event">${eventLabel(e.kind)}</td><td data-label="Severity">${e.severity ? badge(e.severity) : ""}</td>
<td class="num" data-label="Value">${e.observedValue === null ? "" : formatValue(a.type, e.observedValue)}</td><td data-label="By">${e.by ?? ""}</td><td class="message" data-label="Note">${e.note ?? ""}</td>
<td data-label="Channels">${namedLinks("/channels", e.channelIds, names.channels)}${
      e.silenceId === null
        ? ""
        : html`${e.channelIds.length > 0 ? "; " : ""}<span>held by ${silenceLink(e.silenceId)}</span>`
    }${e.heldUntil === null ? "" : html`<span class="muted">held for its group until ${time(e.heldUntil)}</span>`}</td></tr>`,
  )}</tbody></table></div>
<h2>Deliveries</h2>
${
  a.deliveries.length === 0
    ? html`<div class="card muted" id="no-deliveries">${
        a.heldUntil !== null
          ? "Not notified yet: it waits to go with the others of its type and endpoint (see Held above)."
          : html`No notification was sent for this alert (${
              a.timeline.some((e) => e.silenceId !== null)
                ? "a silence held it back"
                : "no channel matched, or none is configured"
            }).`
      }</div>`
    : html`<div class="table"><table class="stack"><thead><tr><th>When</th><th>Channel</th><th class="num">Attempt</th><th>Result</th><th class="num">HTTP</th><th class="num">Latency</th><th>Error</th></tr></thead>
<tbody>${a.deliveries.map(
        (
          d,
        ) => html`<tr><td data-label="When">${time(d.createdAt)}</td><td data-label="Channel">${namedLink("/channels", d.channelId, names.channels)}${groupedNote(d, a.id)}</td><td class="num" data-label="Attempt">${d.attempt}</td>
<td data-label="Result">${badge(d.status)}</td><td class="num" data-label="HTTP">${d.responseCode ?? ""}</td><td class="num" data-label="Latency">${d.latencyMs === null ? "" : `${d.latencyMs} ms`}</td><td class="message" data-label="Error">${d.error ?? ""}</td></tr>`,
      )}</tbody></table></div>`
}`;
}
