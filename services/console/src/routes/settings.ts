import type { ChannelView, SettingsView } from "@apimon/client";
import { Hono } from "hono";
import { html } from "hono/html";
import { type ConsoleEnv, groupErrors, type PageDeps, refusal } from "../context";
import { csrfField, errorBox, fieldError, noticeBox, page, time } from "../views/layout";

interface NumberField {
  path: string;
  label: string;
  step: string;
}

const n = (path: string, label: string, step = "any"): NumberField => ({ path, label, step });
const T = "alertThresholds";

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
    title: "Reminders and escalation",
    fields: [
      n("repeatIntervalSeconds", "Reminder interval while unacknowledged (seconds)", "1"),
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

/** The settings document of a submitted form, and the fields that are not numbers at all. */
export function settingsFromForm(form: Record<string, unknown>): {
  document: Record<string, unknown>;
  errors: { field: string; message: string }[];
} {
  const document: Record<string, unknown> = {};
  const errors: { field: string; message: string }[] = [];
  for (const group of SETTINGS_GROUPS) {
    for (const f of group.fields) {
      const raw = typeof form[f.path] === "string" ? (form[f.path] as string).trim() : "";
      const value = Number(raw);
      if (raw === "" || !Number.isFinite(value)) errors.push({ field: f.path, message: "must be a number" });
      set(document, f.path, value);
    }
  }
  set(document, "escalation.enabled", form["escalation.enabled"] === "on");
  const ids = form["escalation.channelIds"];
  const list = Array.isArray(ids) ? ids : ids === undefined ? [] : [ids];
  set(
    document,
    "escalation.channelIds",
    list.map((id) => Number(id)).filter((id) => Number.isInteger(id)),
  );
  return { document, errors };
}

function settingsForm(
  values: unknown,
  channels: ChannelView[],
  csrf: string,
  errors: Record<string, string[]>,
  updatedAt: string | null,
) {
  const enabled = get(values, "escalation.enabled") === true;
  const chosen = new Set((get(values, "escalation.channelIds") as number[] | undefined) ?? []);
  return html`<form method="post" action="/settings" novalidate>${csrfField(csrf)}
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
    html`<label><input type="checkbox" name="escalation.channelIds" value="${ch.id}" ${chosen.has(ch.id) ? "checked" : ""}> ${ch.name} (${ch.type})</label>`,
)}
${Object.entries(errors)
  .filter(([k]) => k.startsWith("escalation.channelIds"))
  .map(([k, m]) => html`<div class="error" data-field="${k}">${m.join("; ")}</div>`)}</div>`
    : ""
}
</fieldset>`,
)}
</div>
<p><button type="submit">Save settings</button> <span class="muted small">Last saved: ${updatedAt ? time(updatedAt) : "never (the defaults apply)"}. Saved settings apply live.</span></p>
</form>`;
}

/** The thresholds, reminder interval and escalation policy as one form. */
export function createSettingsPages({ alerts }: PageDeps): Hono<ConsoleEnv> {
  const routes = new Hono<ConsoleEnv>();
  const channels = async () => (await alerts.listChannels({ limit: 100 })).items;

  routes.get("/settings", async (c) => {
    const [settings, list] = await Promise.all([alerts.getSettings(), channels()]);
    const notice = c.req.query("done") === "saved" ? "Settings saved; they apply now." : undefined;
    return c.html(
      page(
        { title: "Settings", section: "/settings", csrf: c.get("csrf") },
        html`<h1>Alert settings</h1>${noticeBox(notice)}${settingsForm(settings, list, c.get("csrf"), {}, settings.updatedAt)}`,
      ),
    );
  });

  routes.post("/settings", async (c) => {
    const form = await c.req.parseBody({ all: true });
    const { document, errors } = settingsFromForm(form);
    let failure: { field: string; message: string }[] = errors;
    let saved: SettingsView | undefined;
    if (errors.length === 0) {
      try {
        saved = await alerts.putSettings(document);
      } catch (err) {
        failure = refusal(err, "(body)").list;
      }
    }
    if (saved) return c.redirect("/settings?done=saved", 303);
    const [current, list] = await Promise.all([alerts.getSettings(), channels()]);
    const grouped = groupErrors(failure);
    return c.html(
      page(
        { title: "Settings", section: "/settings", csrf: c.get("csrf") },
        html`<h1>Alert settings</h1>${errorBox("Nothing was saved: correct the fields marked below.")}
${fieldError(grouped, "(body)")}
${settingsForm(document, list, c.get("csrf"), grouped, current.updatedAt)}`,
      ),
      400,
    );
  });

  return routes;
}
