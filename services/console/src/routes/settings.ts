import { ApiError, type ChannelView, type SettingsView } from "@apimon/client";
import { describeOverrideScope, type ThresholdOverride } from "@apimon/config";
import type { FieldError } from "@apimon/http";
import { Hono } from "hono";
import { html } from "hono/html";
import { type ConsoleEnv, field, groupErrors, keyNames, type PageDeps, refusal, userNames } from "../context";
import { nameWithId, typeLabel } from "../views/format";
import {
  changeForm,
  errorBox,
  fieldError,
  type Html,
  mayChange,
  noticeBox,
  page,
  type SignedIn,
  time,
} from "../views/layout";
import { changesOf } from "./activity";

interface NumberField {
  path: string;
  label: string;
  step: string;
}

const n = (path: string, label: string, step = "any"): NumberField => ({ path, label, step });
const T = "alertThresholds";

/**
 * A channel that is for some alerts only: the policy sends it only those (none, it leaves
 * unescalated). Its users by name with their id, `users` naming them.
 */
function scopeNote(ch: ChannelView, users: ReadonlyMap<number, string>) {
  const scope = [
    ...ch.alertTypes.map(typeLabel),
    ...ch.endpoints,
    ...ch.userIds.map((id) => nameWithId(id, users)),
  ];
  return scope.length === 0 ? "" : html` <span class="muted small">for ${scope.join(", ")} only</span>`;
}

/** Every number of the settings document, grouped as the form shows them. */
export const SETTINGS_GROUPS: { title: string; path?: string; fields: NumberField[] }[] = [
  {
    title: "Response time",
    path: `${T}.response_time`,
    fields: [
      n(`${T}.response_time.warning`, "Warning (seconds)"),
      n(`${T}.response_time.critical`, "Critical (seconds)"),
    ],
  },
  {
    title: "Error rate (5xx share per key and endpoint)",
    path: `${T}.error_rate`,
    fields: [
      n(`${T}.error_rate.warning`, "Warning (share, 0.05 = 5 %)"),
      n(`${T}.error_rate.critical`, "Critical (share)"),
      n(`${T}.error_rate.windowSeconds`, "Window (seconds)", "1"),
      n(`${T}.error_rate.minRequests`, "Minimum requests in the window", "1"),
    ],
  },
  {
    title: "Usage spike (multiple of the key's baseline)",
    path: `${T}.usage_spike`,
    fields: [
      n(`${T}.usage_spike.warning`, "Warning (×)"),
      n(`${T}.usage_spike.critical`, "Critical (×)"),
      n(`${T}.usage_spike.windowSeconds`, "Window (seconds)", "1"),
      n(`${T}.usage_spike.baselineSeconds`, "Baseline (seconds)", "1"),
      n(`${T}.usage_spike.minBaselineRequests`, "Minimum baseline requests per window", "1"),
    ],
  },
  {
    title: "Unauthorized access (failed authentications)",
    path: `${T}.unauthorized_access`,
    fields: [
      n(`${T}.unauthorized_access.critical`, "Critical: more than this many", "1"),
      n(`${T}.unauthorized_access.windowSeconds`, "Window (seconds)", "1"),
    ],
  },
  {
    title: "Rate limit approaching",
    path: `${T}.rate_limit_approaching`,
    fields: [n(`${T}.rate_limit_approaching.warning`, "Warning (share of a window, 0.8 = 80 %)")],
  },
  {
    title: "Evaluation",
    fields: [
      n(`${T}.consecutiveEvaluations`, "Consecutive matches before firing", "1"),
      n(`${T}.quietPeriodSeconds`, "Quiet period before resolving (seconds)", "1"),
    ],
  },
  {
    title: "Reminders, grouping and escalation",
    fields: [
      n("repeatIntervalSeconds", "Reminder interval while unacknowledged (seconds)", "1"),
      n(
        "groupIntervalSeconds",
        "Send alerts of one type and endpoint together, every (seconds; 0: off)",
        "1",
      ),
      n("escalation.afterSeconds", "Escalate critical alerts unacknowledged after (seconds)", "1"),
    ],
  },
];

function get(doc: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], doc);
}

function set(doc: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let o = doc;
  for (const k of keys.slice(0, -1)) {
    o[k] ??= {};
    o = o[k] as Record<string, unknown>;
  }
  o[keys[keys.length - 1] as string] = value;
}

const OVERRIDES = `${T}.overrides`;
/** The hidden field with the `updatedAt` of the settings the form shows. */
const BASED_ON = "basedOn";

/**
 * An override's fields as the form names them after `alertThresholds.overrides.<row>.`: the
 * API's own paths, so that its refusals land next to the field they are about.
 */
const OVERRIDE_FIELDS = [
  "endpoint",
  "apiKeyId",
  "response_time.warning",
  "response_time.critical",
  "error_rate.warning",
  "error_rate.critical",
  "note",
] as const;
type OverrideField = (typeof OVERRIDE_FIELDS)[number];

const OVERRIDE_LABELS: Record<OverrideField, string> = {
  endpoint: "Endpoint",
  apiKeyId: "API key id",
  "response_time.warning": "Response time warning (s)",
  "response_time.critical": "Response time critical (s)",
  "error_rate.warning": "Error rate warning (share)",
  "error_rate.critical": "Error rate critical (share)",
  note: "Note",
};
type OverrideRule = "response_time" | "error_rate";

/** One row of the overrides table, as text: a refused form shows it as it was typed. */
export interface OverrideRow {
  /** The row's number in the form's field names. */
  index: number;
  values: Record<OverrideField, string>;
  remove: boolean;
}

const RULE_FIELDS = [
  "response_time.warning",
  "response_time.critical",
  "error_rate.warning",
  "error_rate.critical",
] as const satisfies OverrideField[];

const overrideField = (index: number, name: string) => `${OVERRIDES}.${index}.${name}`;

function overrideRow(index: number, values: Partial<Record<OverrideField, string>> = {}): OverrideRow {
  const blank = Object.fromEntries(OVERRIDE_FIELDS.map((f) => [f, ""])) as Record<OverrideField, string>;
  return { index, values: { ...blank, ...values }, remove: false };
}

const isBlank = (row: OverrideRow) => OVERRIDE_FIELDS.every((f) => row.values[f] === "");

const text = (n: number | undefined) => (n === undefined ? "" : String(n));

/** The saved overrides as rows, then the row for a new one (`fresh`: what a link fills in). */
export function overrideRows(
  overrides: readonly ThresholdOverride[],
  fresh: Partial<Record<OverrideField, string>> = {},
): OverrideRow[] {
  return [
    ...overrides.map((o, i) =>
      overrideRow(i, {
        endpoint: o.endpoint ?? "",
        apiKeyId: text(o.apiKeyId),
        "response_time.warning": text(o.response_time?.warning),
        "response_time.critical": text(o.response_time?.critical),
        "error_rate.warning": text(o.error_rate?.warning),
        "error_rate.critical": text(o.error_rate?.critical),
        note: o.note ?? "",
      }),
    ),
    overrideRow(overrides.length, fresh),
  ];
}

/** The override rows of a submitted form, by their numbers. */
function overrideRowsOfForm(form: Record<string, unknown>): OverrideRow[] {
  const indices = new Set<number>();
  for (const name of Object.keys(form)) {
    const match = /^alertThresholds\.overrides\.(\d{1,4})\./.exec(name);
    if (match) indices.add(Number(match[1]));
  }
  return [...indices]
    .sort((a, b) => a - b)
    .map((index) => ({
      ...overrideRow(
        index,
        Object.fromEntries(OVERRIDE_FIELDS.map((f) => [f, field(form, overrideField(index, f))])),
      ),
      remove: form[overrideField(index, "remove")] === "on",
    }));
}

/** A rule's thresholds in a row: absent when both are blank, an error when one of the two is. */
function rulePair(row: OverrideRow, rule: OverrideRule, errors: FieldError[]) {
  const parts = (["warning", "critical"] as const).map((part) => ({
    name: overrideField(row.index, `${rule}.${part}`),
    raw: row.values[`${rule}.${part}`],
  }));
  if (parts.every((p) => p.raw === "")) return undefined;
  let valid = true;
  for (const { name, raw } of parts) {
    const message =
      raw === ""
        ? "give both warning and critical, or neither"
        : Number.isFinite(Number(raw))
          ? undefined
          : "must be a number";
    if (message) {
      errors.push({ field: name, message });
      valid = false;
    }
  }
  return valid ? { warning: Number(parts[0]?.raw), critical: Number(parts[1]?.raw) } : undefined;
}

/**
 * The overrides of the form's rows, rows ticked Remove and empty rows left out, and `rowOf`: the
 * row each override came from (the API names an override by its place in the list).
 */
export function overridesFromRows(rows: readonly OverrideRow[]): {
  overrides: ThresholdOverride[];
  rowOf: number[];
  errors: FieldError[];
} {
  const overrides: ThresholdOverride[] = [];
  const rowOf: number[] = [];
  const errors: FieldError[] = [];
  for (const row of rows) {
    if (row.remove || isBlank(row)) continue;
    const { endpoint, apiKeyId, note } = row.values;
    if (apiKeyId !== "" && !/^\d+$/.test(apiKeyId))
      errors.push({
        field: overrideField(row.index, "apiKeyId"),
        message: "must be a key id, a whole number",
      });
    const response_time = rulePair(row, "response_time", errors);
    const error_rate = rulePair(row, "error_rate", errors);
    // A row that names nothing or sets no rule is the API's to refuse, naming the field.
    overrides.push({
      ...(endpoint && { endpoint }),
      ...(apiKeyId && { apiKeyId: Number(apiKeyId) }),
      ...(response_time && { response_time }),
      ...(error_rate && { error_rate }),
      ...(note && { note }),
    });
    rowOf.push(row.index);
  }
  return { overrides, rowOf, errors };
}

/** The API's errors with each override's place in the list turned into its row in the form. */
export function errorsAtRows(errors: readonly FieldError[], rowOf: readonly number[]): FieldError[] {
  return errors.map((e) => {
    const match = /^alertThresholds\.overrides\.(\d+)(\..*)?$/.exec(e.field);
    const row = match ? rowOf[Number(match[1])] : undefined;
    return row === undefined ? e : { ...e, field: `${OVERRIDES}.${row}${match?.[2] ?? ""}` };
  });
}

/** The settings document of a submitted form, the fields that are not numbers, and its override rows. */
export function settingsFromForm(form: Record<string, unknown>): {
  document: Record<string, unknown>;
  errors: FieldError[];
  rows: OverrideRow[];
  rowOf: number[];
} {
  const document: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  for (const group of SETTINGS_GROUPS) {
    for (const f of group.fields) {
      const raw = typeof form[f.path] === "string" ? (form[f.path] as string).trim() : "";
      const value = Number(raw);
      if (raw === "" || !Number.isFinite(value)) errors.push({ field: f.path, message: "must be a number" });
      set(document, f.path, value);
    }
  }
  const rows = overrideRowsOfForm(form);
  const overrides = overridesFromRows(rows);
  set(document, OVERRIDES, overrides.overrides);
  errors.push(...overrides.errors);
  set(document, "escalation.enabled", form["escalation.enabled"] === "on");
  const ids = form["escalation.channelIds"];
  const list = Array.isArray(ids) ? ids : ids === undefined ? [] : [ids];
  set(
    document,
    "escalation.channelIds",
    list.map((id) => Number(id)).filter((id) => Number.isInteger(id)),
  );
  // The version the form was loaded with ("" when nothing was saved yet): the API refuses the
  // save if someone saved the settings since, rather than undo their change.
  const basedOn = form[BASED_ON];
  if (typeof basedOn === "string") document.updatedAt = basedOn === "" ? null : basedOn;
  return { document, errors, rows, rowOf: overrides.rowOf };
}

/** The row's errors that no field of it shows (a field the form does not have). */
function otherRowErrors(errors: Record<string, string[]>, index: number) {
  const prefix = `${OVERRIDES}.${index}.`;
  const shown = new Set([
    ...OVERRIDE_FIELDS.map((f) => prefix + f),
    `${prefix}response_time`,
    `${prefix}error_rate`,
  ]);
  return Object.entries(errors)
    .filter(([k]) => k.startsWith(prefix) && !shown.has(k))
    .map(([k, m]) => html`<div class="error" data-field="${k}">${m.join("; ")}</div>`);
}

function overrideRowHtml(
  row: OverrideRow,
  last: boolean,
  errors: Record<string, string[]>,
  names: ReadonlyMap<number, string>,
  focus: boolean,
) {
  const fresh = last;
  const name = (f: string) => overrideField(row.index, f);
  const what = fresh ? "new override" : `override ${row.index + 1}`;
  const input = (f: OverrideField, attributes: Html | string = "") =>
    html`<input id="${name(f)}" name="${name(f)}" value="${row.values[f]}" aria-label="${OVERRIDE_LABELS[f]}, ${what}" ${attributes}>`;
  // A rule's own errors (critical below warning, no rule set) go below its critical threshold.
  const threshold = (f: (typeof RULE_FIELDS)[number]) =>
    html`${input(f, html`inputmode="decimal" size="7" placeholder="not set" ${focus && f === RULE_FIELDS[0] ? "autofocus" : ""}`)}${fieldError(errors, name(f))}${f.endsWith(".critical") ? fieldError(errors, name(f.split(".")[0] as string)) : ""}`;
  const keyId = Number(row.values.apiKeyId);
  const keyName = /^\d+$/.test(row.values.apiKeyId) ? names.get(keyId) : undefined;
  // Text inputs, not number inputs: a browser empties a number input that holds something else, so a
  // refused form could not show what was typed; and their size keeps the nine columns on one screen.
  // Each cell's content is one element: a phone's stacked table lays out a cell's children side by side.
  return html`<tr data-override-row="${row.index}">
<td class="whole" data-label="#">${fresh ? html`<span class="muted">new</span>` : row.index + 1}</td>
<td data-label="${OVERRIDE_LABELS.endpoint}"><div>${input("endpoint", html`size="22" maxlength="512" placeholder="${fresh ? "e.g. GET /api/users/:id" : "any"}"`)}${fieldError(errors, name("endpoint"))}${otherRowErrors(errors, row.index)}</div></td>
<td data-label="${OVERRIDE_LABELS.apiKeyId}"><div>${input("apiKeyId", html`inputmode="numeric" size="7" placeholder="any"`)}${keyName === undefined ? "" : html`<div class="muted small"><a href="/keys/${keyId}">${keyName}</a></div>`}${fieldError(errors, name("apiKeyId"))}</div></td>
${RULE_FIELDS.map((f) => html`<td data-label="${OVERRIDE_LABELS[f]}"><div>${threshold(f)}</div></td>`)}
<td data-label="${OVERRIDE_LABELS.note}"><div>${input("note", html`size="22" maxlength="200" placeholder="why this one is different"`)}${fieldError(errors, name("note"))}</div></td>
<td>${fresh ? "" : html`<label><input type="checkbox" name="${name("remove")}" ${row.remove ? "checked" : ""}> Remove</label>`}</td>
</tr>`;
}

/** The overrides table; `withNewRow`: its last row is the one for a new override. */
function overridesSection(
  rows: OverrideRow[],
  errors: Record<string, string[]>,
  names: ReadonlyMap<number, string>,
  focusRow: number | undefined,
  withNewRow: boolean,
) {
  if (rows.length === 0)
    return html`<h2 id="overrides">Overrides for particular endpoints and keys</h2>
<p class="muted" id="no-overrides">None: the global thresholds above apply to every endpoint and key.</p>`;
  return html`<h2 id="overrides">Overrides for particular endpoints and keys</h2>
<p class="muted small">Response-time and error-rate thresholds for one endpoint, one API key or one key's endpoint, in place of the global ones. For each rule the most specific override that sets it wins: key + method + path, key + path, the key's patterns, method + path, path, patterns, key; else the global thresholds above. The error rate's window and minimum requests stay the global ones.</p>
<p class="muted small">An endpoint is a method and a path as alerts give it (<span class="mono">GET /api/users/:id</span>) or a path alone, for every method; a <span class="mono">*</span> in the path stands for any run of characters (<span class="mono">/api/reports/*</span>). A rule left blank is not overridden; a row left empty is ignored.</p>
${fieldError(errors, OVERRIDES)}
<div class="table"><table class="stack overrides">
<thead><tr><th rowspan="2">#</th><th rowspan="2">Endpoint</th><th rowspan="2">API key id</th><th colspan="2">Response time (s)</th><th colspan="2">Error rate (share)</th><th rowspan="2">Note</th><th rowspan="2"></th></tr>
<tr><th>warning</th><th>critical</th><th>warning</th><th>critical</th></tr></thead>
<tbody>${rows.map((row, i) => overrideRowHtml(row, withNewRow && i === rows.length - 1, errors, names, row.index === focusRow))}</tbody></table></div>`;
}

interface FormView {
  /** The settings document, or what was typed into the form. */
  values: unknown;
  rows: OverrideRow[];
  channels: ChannelView[];
  errors: Record<string, string[]>;
  updatedAt: string | null;
  names: ReadonlyMap<number, string>;
  /** The names of the users the channels are for. */
  users: ReadonlyMap<number, string>;
  /** The row whose first threshold takes the focus (the one a link asked for). */
  focusRow?: number;
  /** The `updatedAt` of the settings the form was filled from (null: the defaults). */
  basedOn: string | null;
}

/** The settings as one form; a viewer sees the same fields disabled, without the row for a new override. */
function settingsForm(
  signedIn: SignedIn,
  { values, rows, channels, errors, updatedAt, names, users, focusRow, basedOn }: FormView,
) {
  const enabled = get(values, "escalation.enabled") === true;
  const chosen = new Set((get(values, "escalation.channelIds") as number[] | undefined) ?? []);
  const canChange = mayChange(signedIn);
  const content = html`
<input type="hidden" name="${BASED_ON}" value="${basedOn ?? ""}">
<div class="grid">
${SETTINGS_GROUPS.map(
  (g) => html`<fieldset><legend>${g.title}</legend>
${g.path ? fieldError(errors, g.path) : ""}
${g.fields.map(
  (f) => html`<div class="field"><label for="${f.path}">${f.label}</label>
<input id="${f.path}" name="${f.path}" type="number" step="${f.step}" value="${String(get(values, f.path) ?? "")}">${fieldError(errors, f.path)}</div>`,
)}
${
  g.title.startsWith("Reminders")
    ? html`<div class="field"><label><input type="checkbox" name="escalation.enabled" ${enabled ? "checked" : ""}> Escalation enabled</label>${fieldError(errors, "escalation.enabled")}</div>
<div class="field"><label>Escalation channels</label>
${channels.length === 0 ? html`<div class="muted small">No channels yet: <a href="/channels">create one</a>.</div>` : ""}
${channels.map(
  (ch) =>
    html`<label><input type="checkbox" name="escalation.channelIds" value="${ch.id}" ${chosen.has(ch.id) ? "checked" : ""}> ${ch.name} (${ch.type})${scopeNote(ch, users)}</label>`,
)}
${Object.entries(errors)
  .filter(([k]) => k.startsWith("escalation.channelIds"))
  .map(([k, m]) => html`<div class="error" data-field="${k}">${m.join("; ")}</div>`)}</div>`
    : ""
}
</fieldset>`,
)}
</div>
${overridesSection(canChange ? rows : rows.slice(0, -1), errors, names, focusRow, canChange)}
<p>${canChange ? html`<button type="submit">Save settings</button> ` : ""}<span class="muted small">Last saved: ${updatedAt ? time(updatedAt) : "never (the defaults apply)"}. Saved settings apply live. <a href="${changesOf("settings")}" id="settings-changes">Changes</a></span></p>
`;
  return changeForm(signedIn, "/settings", content, { novalidate: true });
}

const nextIndex = (rows: OverrideRow[]) => rows.reduce((max, r) => Math.max(max, r.index + 1), 0);

const keyIds = (rows: OverrideRow[]) =>
  rows.map((r) => (/^\d+$/.test(r.values.apiKeyId) ? Number(r.values.apiKeyId) : null));

/** The thresholds, their overrides, the reminder interval and the escalation policy as one form. */
export function createSettingsPages({ alerts, keys }: PageDeps): Hono<ConsoleEnv> {
  const routes = new Hono<ConsoleEnv>();
  const channels = async () => (await alerts.listChannels({ limit: 100 })).items;
  const channelUsers = (list: ChannelView[]) =>
    userNames(
      keys,
      list.flatMap((ch) => ch.userIds),
    );

  routes.get("/settings", async (c) => {
    const [settings, list] = await Promise.all([alerts.getSettings(), channels()]);
    const saved = settings.alertThresholds.overrides;
    // An alert's page links here with its endpoint ("Set thresholds for this endpoint").
    const endpoint = c.req.query("endpoint")?.trim() ?? "";
    const apiKeyId = /^\d+$/.test(c.req.query("apiKeyId") ?? "") ? (c.req.query("apiKeyId") as string) : "";
    const asked = endpoint !== "" || apiKeyId !== "";
    const existing = asked
      ? saved.findIndex((o) => (o.endpoint ?? "") === endpoint && text(o.apiKeyId) === apiKeyId)
      : -1;
    const rows = overrideRows(saved, existing >= 0 ? {} : { endpoint, apiKeyId });
    const notice =
      c.req.query("done") === "saved"
        ? "Settings saved; they apply now."
        : existing >= 0
          ? `Override ${existing + 1} is the one for ${describeOverrideScope(saved[existing] as ThresholdOverride)}: change it there.`
          : undefined;
    const [names, users] = await Promise.all([keyNames(keys, keyIds(rows)), channelUsers(list)]);
    const focusRow = !asked ? undefined : existing >= 0 ? existing : saved.length;
    return c.html(
      page(
        { title: "Settings", section: "/settings", signedIn: c.get("signedIn") },
        html`<h1>Alert settings</h1>${noticeBox(notice)}${settingsForm(c.get("signedIn"), {
          values: settings,
          rows,
          channels: list,
          errors: {},
          updatedAt: settings.updatedAt,
          names,
          users,
          focusRow,
          basedOn: settings.updatedAt,
        })}`,
      ),
    );
  });

  routes.post("/settings", async (c) => {
    const form = await c.req.parseBody({ all: true });
    const { document, errors, rows, rowOf } = settingsFromForm(form);
    let failure: FieldError[] = errors;
    let saved: SettingsView | undefined;
    let overtaken = false;
    if (errors.length === 0) {
      try {
        saved = await alerts.putSettings(document);
      } catch (err) {
        overtaken = err instanceof ApiError && err.status === 409;
        failure = overtaken ? [] : errorsAtRows(refusal(err, "(body)").list, rowOf);
      }
    }
    if (saved) return c.redirect("/settings?done=saved", 303);
    // What was typed, not the numbers made of it: "fast" stays "fast" beside its error.
    const typed = structuredClone(document);
    for (const g of SETTINGS_GROUPS) for (const f of g.fields) set(typed, f.path, field(form, f.path));
    // The last row stays the one for a new override.
    const last = rows[rows.length - 1];
    const shown = last && isBlank(last) ? rows : [...rows, overrideRow(nextIndex(rows))];
    const [current, list, names] = await Promise.all([
      alerts.getSettings(),
      channels(),
      keyNames(keys, keyIds(shown)),
    ]);
    const users = await channelUsers(list);
    const grouped = groupErrors(failure);
    return c.html(
      page(
        { title: "Settings", section: "/settings", signedIn: c.get("signedIn") },
        html`<h1>Alert settings</h1>${
          overtaken
            ? html`<div class="alert-box" role="alert" id="settings-overtaken">Nothing was saved: someone saved the settings${current.updatedAt ? html` at ${time(current.updatedAt)}` : ""}, after this page was loaded, and saving these would undo their change. <a href="/settings">Load the settings in force</a> and make your change there (your values are below, to copy from).</div>`
            : errorBox("Nothing was saved: correct the fields marked below.")
        }
${fieldError(grouped, "(body)")}
${settingsForm(c.get("signedIn"), {
  values: typed,
  rows: shown,
  channels: list,
  errors: grouped,
  updatedAt: current.updatedAt,
  names,
  users,
  // Still the version this form was loaded with: saving again is refused until it is reloaded.
  basedOn: typeof document.updatedAt === "string" ? document.updatedAt : null,
})}`,
      ),
      overtaken ? 409 : 400,
    );
  });

  return routes;
}
