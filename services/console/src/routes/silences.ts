import type { CreateSilenceInput, SilenceView } from "@apimon/client";
import { alertTypes } from "@apimon/events";
import { type FieldError, MAX_PAGE_SIZE } from "@apimon/http";
import { Hono } from "hono";
import { html } from "hono/html";
import { type ConsoleEnv, field, groupErrors, keyNames, type PageDeps, refusal } from "../context";
import { typeLabel } from "../views/format";
import {
  badge,
  csrfField,
  errorBox,
  fieldError,
  type Html,
  mayChange,
  namedLink,
  noticeBox,
  page,
  type SignedIn,
  time,
} from "../views/layout";

const HOUR_MS = 3_600_000;

/** How long a new silence may last, as the form offers it; the console sets `endsAt` from it. */
export const SILENCE_DURATIONS = {
  "1h": { label: "1 hour", ms: HOUR_MS },
  "2h": { label: "2 hours", ms: 2 * HOUR_MS },
  "4h": { label: "4 hours", ms: 4 * HOUR_MS },
  "8h": { label: "8 hours", ms: 8 * HOUR_MS },
  "24h": { label: "24 hours", ms: 24 * HOUR_MS },
  "3d": { label: "3 days", ms: 72 * HOUR_MS },
  "7d": { label: "7 days", ms: 168 * HOUR_MS },
} as const;
type SilenceDuration = keyof typeof SILENCE_DURATIONS;
const DEFAULT_DURATION: SilenceDuration = "2h";

/** Expired silences shown below the current ones: the newest few, as a reminder of what was held back. */
export const EXPIRED_SHOWN = 20;

/** The form's fields, named as the API names them so that its refusals land next to them. */
const FORM_FIELDS = ["type", "apiKeyId", "endpoint", "clientIp", "duration", "comment", "createdBy"] as const;
type FormValues = Partial<Record<(typeof FORM_FIELDS)[number], string>>;

const NOTICES: Record<string, string> = {
  created: "Silence created: the alerts it matches are recorded as usual but not notified until it ends.",
  ended: "Silence ended: notifications about the alerts it matched resume.",
  extended: "Silence extended by an hour.",
};

/** What "+1 h" adds to a silence: its end, or now if that is later. */
const EXTEND_MS = HOUR_MS;

/** The link to a silence's row on the silences page. */
/** Where a silence is shown: its row on the silences page (a silence has no page of its own). */
export const silenceHref = (id: number) => `/silences#silence-${id}`;
export const silenceLink = (id: number) => html`<a href="${silenceHref(id)}">silence #${id}</a>`;

/** What a silence matches, one matcher after the other: "type Error rate · any key · …". */
function matchers(s: SilenceView, names: ReadonlyMap<number, string>): Html {
  const parts = [
    s.type === null ? html`any type` : html`type <strong>${typeLabel(s.type)}</strong>`,
    s.apiKeyId === null ? html`any key` : html`key ${namedLink("/keys", s.apiKeyId, names)}`,
    s.endpoint === null ? html`any endpoint` : html`endpoint <span class="mono">${s.endpoint}</span>`,
    s.clientIp === null ? html`any client` : html`client <span class="mono">${s.clientIp}</span>`,
  ];
  // One element: a phone's stacked table lays out a cell's children side by side.
  return html`<span>${parts.map((part, i) => html`${i > 0 ? " · " : ""}${part}`)}</span>`;
}

function silenceTable(
  signedIn: SignedIn,
  silences: SilenceView[],
  names: ReadonlyMap<number, string>,
  emptyText: string,
) {
  if (silences.length === 0) return html`<div class="card muted">${emptyText}</div>`;
  return html`<div class="table"><table class="stack silences"><thead><tr><th>#</th><th>Matches</th><th title="The open alerts (firing or acknowledged) it matches now">Open alerts</th><th>Comment</th><th>By</th><th>Starts</th><th>Ends</th><th>State</th><th></th></tr></thead>
<tbody>${silences.map(
    (
      s,
    ) => html`<tr id="silence-${s.id}" data-silence-id="${s.id}"><td class="whole" data-label="#">${s.id}</td><td data-label="Matches">${matchers(s, names)}</td><td class="num" data-label="Open alerts">${s.openAlertsMatched ?? ""}</td>
<td class="message" data-label="Comment">${s.comment}</td><td data-label="By">${s.createdBy ?? ""}</td>
<td data-label="Starts">${time(s.startsAt)}</td><td data-label="Ends">${time(s.endsAt)}</td><td data-label="State">${badge(s.state)}</td>
<td>${
      s.state === "expired" || !mayChange(signedIn)
        ? ""
        : html`<div class="actions"><form method="post" action="/silences/${s.id}/extend">${csrfField(signedIn)}<button type="submit" class="secondary" title="Extend by an hour">+1 h</button></form><form method="post" action="/silences/${s.id}/end" data-confirm="End silence #${s.id} now? Notifications about the alerts it matches resume.">${csrfField(signedIn)}<button type="submit" class="danger">End now</button></form></div>`
    }</td></tr>`,
  )}</tbody></table></div>`;
}

function createForm(signedIn: SignedIn, values: FormValues, errors: Record<string, string[]>) {
  const duration = values.duration ?? DEFAULT_DURATION;
  return html`<div class="card"><h2>New silence</h2>
<p class="muted small">Alerts it matches are recorded and listed as usual; no notification is sent about them while it lasts. A matcher left blank matches anything.</p>
<form method="post" action="/silences" id="create-silence">${csrfField(signedIn)}
<div class="grid">
<div class="field"><label for="s-type">Type</label><select id="s-type" name="type"><option value="">any</option>${alertTypes.map(
    (t) => html`<option value="${t}" ${t === values.type ? "selected" : ""}>${typeLabel(t)}</option>`,
  )}</select>${fieldError(errors, "type")}</div>
<div class="field"><label for="s-key">API key id</label><input id="s-key" name="apiKeyId" type="number" min="1" value="${values.apiKeyId ?? ""}" placeholder="any">${fieldError(errors, "apiKeyId")}</div>
<div class="field"><label for="s-endpoint">Endpoint</label><input id="s-endpoint" name="endpoint" value="${values.endpoint ?? ""}" maxlength="512" placeholder="any, or e.g. GET /api/users/:id" aria-describedby="s-endpoint-help"><div class="small muted hint" id="s-endpoint-help"><span class="mono">*</span> stands for any run of characters: <span class="mono">* /api/billing/*</span></div>${fieldError(errors, "endpoint")}</div>
<div class="field"><label for="s-ip">Client IP</label><input id="s-ip" name="clientIp" value="${values.clientIp ?? ""}" maxlength="64" placeholder="any">${fieldError(errors, "clientIp")}</div>
<div class="field"><label for="s-duration">For</label><select id="s-duration" name="duration">${Object.entries(
    SILENCE_DURATIONS,
  ).map(
    ([value, d]) =>
      html`<option value="${value}" ${value === duration ? "selected" : ""}>${d.label}</option>`,
  )}</select>${fieldError(errors, "duration")}${fieldError(errors, "startsAt")}${fieldError(errors, "endsAt")}</div>
<div class="field"><label for="s-by">By (optional)</label><input id="s-by" name="createdBy" value="${values.createdBy ?? ""}" maxlength="200">${fieldError(errors, "createdBy")}</div>
</div>
<div class="field"><label for="s-comment">Comment: why</label><input id="s-comment" class="wide" name="comment" value="${values.comment ?? ""}" maxlength="500" required placeholder="deploy of the billing service">${fieldError(errors, "comment")}</div>
${fieldError(errors, "(body)")}
<button type="submit">Create silence</button>
</form></div>`;
}

/**
 * The form as the API takes it, or the fields the console refuses itself (a key id that is not
 * a number, a duration it does not offer). Everything else is the API's to judge.
 */
export function silenceFromForm(
  values: FormValues,
  now: Date,
): { input?: CreateSilenceInput; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const { type, apiKeyId, endpoint, clientIp, duration, comment, createdBy } = values;
  if (apiKeyId && !/^\d+$/.test(apiKeyId))
    errors.push({ field: "apiKeyId", message: "must be a key id, a whole number" });
  const length = SILENCE_DURATIONS[(duration || DEFAULT_DURATION) as SilenceDuration];
  if (!length) errors.push({ field: "duration", message: "must be one of the durations offered" });
  if (!length || errors.length > 0) return { errors };
  const input: CreateSilenceInput = {
    ...(type && { type: type as CreateSilenceInput["type"] }),
    ...(apiKeyId && { apiKeyId: Number(apiKeyId) }),
    ...(endpoint && { endpoint }),
    ...(clientIp && { clientIp }),
    endsAt: new Date(now.getTime() + length.ms).toISOString(),
    // A blank comment is the API's to refuse, naming the field.
    comment: comment ?? "",
    ...(createdBy && { createdBy }),
  };
  return { input, errors };
}

/** Silences: the current ones with "End now", a form for a new one, and the recently expired. */
export function createSilencePages({ alerts, keys, clock }: PageDeps): Hono<ConsoleEnv> {
  const routes = new Hono<ConsoleEnv>();

  async function listPage(
    signedIn: SignedIn,
    opts: { notice?: string; error?: string; values?: FormValues; errors?: Record<string, string[]> },
  ) {
    const [current, expired] = await Promise.all([
      alerts.listSilences({ limit: MAX_PAGE_SIZE }),
      alerts.listSilences({ state: "expired", limit: EXPIRED_SHOWN }),
    ]);
    const names = await keyNames(
      keys,
      [...current.items, ...expired.items].map((s) => s.apiKeyId),
    );
    return page(
      { title: "Silences", section: "/silences", signedIn },
      html`<h1>Silences</h1>
${noticeBox(opts.notice)}${errorBox(opts.error)}
<h2>Active and pending</h2>
${silenceTable(signedIn, current.items, names, "No silence is active or pending: every alert is notified.")}
${current.nextCursor ? html`<p class="muted small">The newest ${current.items.length} are shown.</p>` : ""}
${mayChange(signedIn) ? createForm(signedIn, opts.values ?? {}, opts.errors ?? {}) : ""}
<h2>Recently expired</h2>
${silenceTable(signedIn, expired.items, names, "No silence has expired yet.")}`,
    );
  }

  routes.get("/silences", async (c) => {
    const q = c.req.query();
    // Other pages link here with an alert's scope ("Silence alerts like this").
    const values: FormValues = {
      type: q.type,
      apiKeyId: q.apiKeyId,
      endpoint: q.endpoint,
      clientIp: q.clientIp,
    };
    return c.html(await listPage(c.get("signedIn"), { notice: NOTICES[q.done ?? ""], values }));
  });

  routes.post("/silences", async (c) => {
    const form = await c.req.parseBody();
    const values = Object.fromEntries(FORM_FIELDS.map((k) => [k, field(form, k)])) as FormValues;
    const parsed = silenceFromForm(values, clock());
    let failure = parsed.errors;
    if (parsed.input) {
      try {
        await alerts.createSilence(parsed.input);
        return c.redirect("/silences?done=created", 303);
      } catch (err) {
        failure = refusal(err, "(body)").list;
      }
    }
    return c.html(await listPage(c.get("signedIn"), { values, errors: groupErrors(failure) }), 400);
  });

  routes.post("/silences/:id{[0-9]+}/extend", async (c) => {
    const id = Number(c.req.param("id"));
    try {
      const current = await alerts.getSilence(id);
      const from = Math.max(Date.parse(current.endsAt), clock().getTime());
      await alerts.updateSilence(id, { endsAt: new Date(from + EXTEND_MS).toISOString() });
      return c.redirect("/silences?done=extended", 303);
    } catch (err) {
      // Over meanwhile (409), or past the longest a silence may last (400): said above the list.
      const { text } = refusal(err, "endsAt", [400, 409]);
      return c.html(
        await listPage(c.get("signedIn"), { error: `Silence #${id} was not extended: ${text}` }),
        400,
      );
    }
  });

  routes.post("/silences/:id{[0-9]+}/end", async (c) => {
    await alerts.endSilence(Number(c.req.param("id")));
    return c.redirect("/silences?done=ended", 303);
  });

  return routes;
}
