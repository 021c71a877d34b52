import {
  ApiError,
  type ChannelInput,
  type ChannelView,
  type CreateChannelInput,
  type TestDeliveryView,
} from "@apimon/client";
import { maskChannelTarget } from "@apimon/config";
import { alertTypes } from "@apimon/events";
import { Hono } from "hono";
import { html } from "hono/html";
import { apiDetail, type ConsoleEnv, field, type PageDeps, refusal, userNames } from "../context";
import { typeLabel } from "../views/format";
import {
  badge,
  changeForm,
  csrfField,
  errorBox,
  fieldError,
  type Html,
  mayChange,
  namedLinks,
  noticeBox,
  page,
  type SignedIn,
  time,
} from "../views/layout";
import { changesOf } from "./activity";

/** A channel's target as the console shows it: masked as the alerts API masks it for a viewer. */
export function maskTarget(channel: Pick<ChannelView, "type" | "target">): string {
  return maskChannelTarget(channel.type, channel.target);
}

const NOTICES: Record<string, string> = {
  created: "Channel created.",
  saved: "Channel saved.",
  deleted: "Channel deleted.",
  enabled: "Channel enabled.",
  disabled: "Channel disabled.",
};

const severitySelect = (current: string) =>
  html`<select id="ch-sev" name="minSeverity">${["warning", "critical"].map(
    (s) => html`<option value="${s}" ${s === current ? "selected" : ""}>${s} and above</option>`,
  )}</select>`;

/** What a channel is for beyond severity, as its form holds it: types ticked, endpoints one a line, user ids. */
interface ScopeValues {
  alertTypes: readonly string[];
  endpoints: string;
  userIds: string;
}

type Scope = Pick<ChannelView, "alertTypes" | "endpoints" | "userIds">;

const NO_SCOPE: ScopeValues = { alertTypes: [], endpoints: "", userIds: "" };

const scopeOf = (ch: Scope): ScopeValues => ({
  alertTypes: ch.alertTypes,
  endpoints: ch.endpoints.join("\n"),
  userIds: ch.userIds.join(", "),
});

/** User ids as a channel's form reads them, and where each was typed. */
interface TypedUserIds {
  ids: number[];
  /** The place among the words typed of each id: the API names an id by its place in `ids`. */
  places: number[];
  /** A word that is not a user id, by its place. */
  errors: string[];
}

/**
 * The user ids typed into a channel's form: separated by commas, spaces or lines, each with or
 * without the `#` the console shows ids with; an id typed twice counts once.
 */
export function userIdsFromText(text: string): TypedUserIds {
  const typed: TypedUserIds = { ids: [], places: [], errors: [] };
  const words = text
    .split(/[\s,;]+/)
    .map((word) => word.replace(/^#+/, ""))
    .filter(Boolean);
  words.forEach((word, place) => {
    const id = Number(word);
    if (!/^\d+$/.test(word) || !Number.isSafeInteger(id)) {
      typed.errors.push(`user ${place + 1}: “${word}” is not a user id`);
    } else if (!typed.ids.includes(id)) {
      typed.ids.push(id);
      typed.places.push(place);
    }
  });
  return typed;
}

/** The form's scope fields as the API takes them, and the user ids it cannot send. */
function scopeFromForm(form: Record<string, unknown>): ScopeValues & {
  input: { alertTypes: string[]; endpoints: string[]; userIds: number[] };
  errors: Record<string, string[]>;
} {
  const ticked = form.alertTypes;
  const types = (Array.isArray(ticked) ? ticked : [ticked]).filter((t): t is string => typeof t === "string");
  const endpoints = typeof form.endpoints === "string" ? form.endpoints : "";
  const lines = endpoints
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
  const userIds = typeof form.userIds === "string" ? form.userIds : "";
  const users = userIdsFromText(userIds);
  return {
    alertTypes: types,
    endpoints,
    userIds,
    input: { alertTypes: types, endpoints: lines, userIds: users.ids },
    errors: users.errors.length === 0 ? {} : { userIds: users.errors },
  };
}

/**
 * The API's errors about a list (`endpoints`) or one of its items (`endpoints.2`, then said as
 * "endpoint 3: …", `item` naming it by its index), under the list's name.
 */
function listErrors(
  errors: Record<string, string[]>,
  name: string,
  item: (index: number) => string,
): Record<string, string[]> {
  const own = Object.entries(errors).flatMap(([field, messages]) => {
    if (field === name) return messages;
    const index = field.startsWith(`${name}.`) ? Number(field.slice(name.length + 1)) : Number.NaN;
    return Number.isInteger(index) ? messages.map((m) => `${item(index)}: ${m}`) : [];
  });
  return own.length === 0 ? {} : { [name]: own };
}

/** The ids of the users a form shows (typed or saved) and the channels listed, to be named. */
function usersShown(channels: readonly Scope[], scope?: ScopeValues): number[] {
  return [...(scope ? userIdsFromText(scope.userIds).ids : []), ...channels.flatMap((ch) => ch.userIds)];
}

/** The field for the users whose keys' alerts the channel hears about, naming those it holds. */
function usersField(value: string, errors: Record<string, string[]>, names: ReadonlyMap<number, string>) {
  const typed = userIdsFromText(value);
  // The API names a refused id by its place in the list sent: said as the place it was typed.
  const item = (index: number) => `user ${(typed.places[index] ?? index) + 1}`;
  const named = typed.ids.some((id) => names.has(id));
  return html`<div class="field"><label for="ch-users">Customers (user ids; blank: every alert)</label><input id="ch-users" name="userIds" value="${value}" size="40" placeholder="3, 7" autocomplete="off" aria-describedby="ch-users-help">
${named ? html`<div class="small" id="ch-users-names">${namedLinks("/users", typed.ids, names)}</div>` : ""}
<div class="small muted hint" id="ch-users-help">User ids as the users page shows them, separated by commas or spaces. The channel then hears only of alerts about these users' keys, keys they get later included (a rotated key's successor too); alerts about no key (failed authentication) go only to channels without users.</div>${fieldError(listErrors(errors, "userIds", item), "userIds")}</div>`;
}

/** The fields that narrow a channel to some alert types, endpoints and users. */
function scopeFields(
  values: ScopeValues,
  errors: Record<string, string[]>,
  names: ReadonlyMap<number, string>,
) {
  return html`<fieldset class="field scope"><legend>Alert types (none ticked: every type)</legend>${alertTypes.map(
    (t) =>
      html`<label><input type="checkbox" name="alertTypes" value="${t}" ${values.alertTypes.includes(t) ? "checked" : ""}> ${typeLabel(t)}</label> `,
  )}${fieldError(
    listErrors(errors, "alertTypes", (i) => `type ${i + 1}`),
    "alertTypes",
  )}</fieldset>
<div class="field"><label for="ch-endpoints">Endpoints, one a line (blank: every alert)</label><textarea id="ch-endpoints" name="endpoints" rows="3" placeholder="* /api/billing/*" aria-describedby="ch-endpoints-help">${values.endpoints}</textarea>
<div class="small muted hint" id="ch-endpoints-help">As alerts name them, <span class="mono">GET /api/users/:id</span>; a <span class="mono">*</span> stands for any run of characters. Alerts about no endpoint (usage spikes, failed authentication) go only to channels without endpoints.</div>${fieldError(
    listErrors(errors, "endpoints", (i) => `endpoint ${i + 1}`),
    "endpoints",
  )}</div>
${usersField(values.userIds, errors, names)}`;
}

/**
 * What a channel hears about beyond severity, in a line: "every alert", or its types and
 * endpoints, then its users by name.
 */
function scopeText(ch: Scope, names: ReadonlyMap<number, string>): Html | string {
  const alerts = ch.alertTypes.length > 0 || ch.endpoints.length > 0;
  if (!alerts && ch.userIds.length === 0) return "every alert";
  const types = ch.alertTypes.length === 0 ? "every type" : ch.alertTypes.map(typeLabel).join(", ");
  const endpoints =
    ch.endpoints.length === 0
      ? html`every endpoint`
      : html`${ch.endpoints.map((e, i) => html`${i > 0 ? ", " : ""}<span class="mono">${e}</span>`)}`;
  const which = alerts ? html`${types} · ${endpoints}` : "";
  return html`<span>${which}${alerts && ch.userIds.length > 0 ? " · " : ""}${namedLinks("/users", ch.userIds, names)}</span>`;
}

function createForm(
  signedIn: SignedIn,
  values: Record<string, string>,
  errors: Record<string, string[]>,
  scope: ScopeValues,
  names: ReadonlyMap<number, string>,
) {
  const type = values.type ?? "webhook";
  return html`<div class="card"><h2>New channel</h2>
<form method="post" action="/channels" id="create-channel">${csrfField(signedIn)}
<div class="grid">
<div class="field"><label for="ch-name">Name</label><input id="ch-name" name="name" value="${values.name ?? ""}" maxlength="200" placeholder="on-call webhook">${fieldError(errors, "name")}</div>
<div class="field"><label for="ch-type">Type</label><select id="ch-type" name="type">${[
    "email",
    "slack",
    "webhook",
  ].map(
    (t) => html`<option value="${t}" ${t === type ? "selected" : ""}>${t}</option>`,
  )}</select>${fieldError(errors, "type")}</div>
<div class="field"><label for="ch-target">Target (addresses, comma-separated, or URL)</label><input id="ch-target" name="target" value="${values.target ?? ""}" size="40" required>${fieldError(errors, "target")}</div>
<div class="field"><label for="ch-secret">Signing secret (webhook only, 16+ characters)</label><input id="ch-secret" name="secret" type="password" autocomplete="off">${fieldError(errors, "secret")}</div>
<div class="field"><label for="ch-sev">Minimum severity</label>${severitySelect(values.minSeverity ?? "warning")}${fieldError(errors, "minSeverity")}</div>
</div>
${scopeFields(scope, errors, names)}
<button type="submit">Create channel</button>
</form></div>`;
}

function testResult(
  channel: ChannelView,
  delivery: TestDeliveryView | undefined,
  error: string | undefined,
): Html | string {
  if (!delivery && !error) return "";
  return html`<div class="card" id="test-result"><h2>Test of ${channel.name}</h2>
${error ? errorBox(error) : ""}
${
  delivery
    ? html`<div class="table"><table class="stack"><thead><tr><th>Attempt</th><th>Result</th><th class="num">HTTP</th><th class="num">Latency</th><th>Error</th><th>When</th></tr></thead>
<tbody>${delivery.attempts.map(
        (
          a,
        ) => html`<tr><td data-label="Attempt">${a.attempt}</td><td data-label="Result">${badge(a.status)}</td><td class="num" data-label="HTTP">${a.responseCode ?? ""}</td>
<td class="num" data-label="Latency">${a.latencyMs === null ? "" : `${a.latencyMs} ms`}</td><td class="message" data-label="Error">${a.error ?? ""}</td><td data-label="When">${time(a.createdAt)}</td></tr>`,
      )}</tbody></table></div>
<p class="muted small">Delivery ${delivery.deliveryId}: ${delivery.attempt} attempt(s), the last ${delivery.status}.</p>`
    : ""
}</div>`;
}

/** What the channels page shows besides the channels: a notice, a test's result, the form's values and errors. */
interface ListOptions {
  notice?: string;
  values?: Record<string, string>;
  scope?: ScopeValues;
  errors?: Record<string, string[]>;
  test?: Html | string;
}

/**
 * A channel's buttons: Test, Enable or Disable, Edit and Delete; a viewer's only opens its page.
 * Test is a change too: it sends a notification.
 */
function channelActions(signedIn: SignedIn, ch: ChannelView) {
  if (!mayChange(signedIn))
    return html`<div class="actions"><a class="button secondary" href="/channels/${ch.id}">View</a></div>`;
  return html`<div class="actions">
<form method="post" action="/channels/${ch.id}/test">${csrfField(signedIn)}<button type="submit" class="secondary">Test</button></form>
<form method="post" action="/channels/${ch.id}/${ch.enabled ? "disable" : "enable"}">${csrfField(signedIn)}<button type="submit" class="secondary">${ch.enabled ? "Disable" : "Enable"}</button></form>
<a class="button secondary" href="/channels/${ch.id}">Edit</a>
<form method="post" action="/channels/${ch.id}/delete" data-confirm="Delete this channel?">${csrfField(signedIn)}<button type="submit" class="danger">Delete</button></form>
</div>`;
}

/** The channels, and the form for a new one; `names`: of the users they and the form show. */
function listPage(
  signedIn: SignedIn,
  channels: ChannelView[],
  names: ReadonlyMap<number, string>,
  opts: ListOptions,
) {
  return page(
    { title: "Channels", section: "/channels", signedIn },
    html`<h1>Notification channels</h1>
${noticeBox(opts.notice)}
${opts.test ?? ""}
${
  channels.length === 0
    ? html`<div class="card muted">No channels yet: alerts are only shown here until one is created.</div>`
    : html`<div class="table"><table class="stack"><thead><tr><th>Name</th><th>Type</th><th>Target</th><th>Secret</th><th>Min severity</th><th>For</th><th>State</th><th></th></tr></thead>
<tbody>${channels.map(
        (
          ch,
        ) => html`<tr data-channel-id="${ch.id}"><td data-label="Name"><a href="/channels/${ch.id}">${ch.name}</a></td><td data-label="Type">${ch.type}</td>
<td class="mono" data-label="Target">${maskTarget(ch)}</td><td data-label="Secret">${ch.type === "webhook" ? (ch.hasSecret ? "set" : "none") : "—"}</td>
<td data-label="Min severity">${badge(ch.minSeverity)}</td><td data-label="For">${scopeText(ch, names)}</td><td data-label="State">${badge(ch.enabled ? "on" : "off")}</td>
<td>${channelActions(signedIn, ch)}</td></tr>`,
      )}</tbody></table></div>`
}
${mayChange(signedIn) ? createForm(signedIn, opts.values ?? {}, opts.errors ?? {}, opts.scope ?? NO_SCOPE, names) : ""}`,
  );
}

/** A channel's page: the form that changes it, or for a viewer the same fields, disabled. */
function editPage(
  signedIn: SignedIn,
  ch: ChannelView,
  names: ReadonlyMap<number, string>,
  errors: Record<string, string[]> = {},
  values: Record<string, string> = {},
  scope: ScopeValues = scopeOf(ch),
) {
  const canChange = mayChange(signedIn);
  // What the target field holds: a Slack URL never (it is a credential; blank keeps it), and for a
  // viewer, who cannot change it, the target masked as the list shows it.
  const target = values.target ?? (canChange ? (ch.type === "slack" ? "" : ch.target) : maskTarget(ch));
  return page(
    { title: ch.name, section: "/channels", signedIn },
    html`<p><a href="/channels">« Channels</a></p><h1>${ch.name} ${badge(ch.enabled ? "on" : "off")}</h1>
<div class="card">${changeForm(
      signedIn,
      `/channels/${ch.id}`,
      html`
<div class="grid">
<div class="field"><label for="ch-name">Name</label><input id="ch-name" name="name" value="${values.name ?? ch.name}" maxlength="200">${fieldError(errors, "name")}</div>
<div class="field"><label>Type</label><div>${ch.type}</div></div>
<div class="field"><label for="ch-target">Target</label>
<input id="ch-target" name="target" value="${target}" size="40" placeholder="${ch.type === "slack" ? `unchanged: ${maskTarget(ch)}` : ""}">${fieldError(errors, "target")}</div>
${
  ch.type === "webhook"
    ? canChange
      ? html`<div class="field"><label for="ch-secret">Signing secret</label><input id="ch-secret" name="secret" type="password" autocomplete="off" placeholder="${ch.hasSecret ? "unchanged (set)" : "none"}">
<label><input type="checkbox" name="removeSecret"> remove the secret</label>${fieldError(errors, "secret")}</div>`
      : html`<div class="field"><label>Signing secret</label><div>${ch.hasSecret ? "set" : "none"}</div></div>`
    : ""
}
<div class="field"><label for="ch-sev">Minimum severity</label>${severitySelect(values.minSeverity ?? ch.minSeverity)}</div>
<div class="field"><label><input type="checkbox" name="enabled" ${ch.enabled ? "checked" : ""}> Enabled</label></div>
</div>
${scopeFields(scope, errors, names)}
${canChange ? html`<button type="submit">Save</button>` : ""}`,
    )}</div>
<p class="muted small">Created ${time(ch.createdAt)} · updated ${time(ch.updatedAt)} · <a href="${changesOf("channel", ch.id)}" id="channel-changes">changes</a></p>`,
  );
}

/** Notification channels: list, create, edit, enable/disable, delete and test. */
export function createChannelPages({ alerts, keys }: PageDeps): Hono<ConsoleEnv> {
  const routes = new Hono<ConsoleEnv>();
  const all = async () => (await alerts.listChannels({ limit: 100 })).items;
  const id = (param: string) => Number(param);
  /** The channels page, its users named: those of the channels and those the form holds. */
  const list = async (signedIn: SignedIn, opts: ListOptions) => {
    const channels = await all();
    return listPage(signedIn, channels, await userNames(keys, usersShown(channels, opts.scope)), opts);
  };

  routes.get("/channels", async (c) => {
    const notice = NOTICES[c.req.query("done") ?? ""];
    // A user's page links here to make a channel for them (`?userId=3`).
    const userId = c.req.query("userId") ?? "";
    const scope = /^\d{1,10}$/.test(userId) ? { ...NO_SCOPE, userIds: userId } : undefined;
    return c.html(await list(c.get("signedIn"), { notice, scope }));
  });

  routes.post("/channels", async (c) => {
    const form = await c.req.parseBody({ all: true });
    const values = Object.fromEntries(
      ["name", "type", "target", "minSeverity"].map((k) => [k, field(form, k)]),
    );
    const secret = typeof form.secret === "string" && form.secret !== "" ? form.secret : undefined;
    const scope = scopeFromForm(form);
    if (Object.keys(scope.errors).length > 0)
      return c.html(await list(c.get("signedIn"), { values, scope, errors: scope.errors }), 400);
    const input: CreateChannelInput = {
      ...(values.name && { name: values.name }),
      type: values.type as CreateChannelInput["type"],
      // A missing field is the API's to refuse, naming it.
      target: values.target as string,
      minSeverity: values.minSeverity as CreateChannelInput["minSeverity"],
      ...(secret !== undefined && { secret }),
      // Types are the API's to judge: it names a wrong one.
      ...(scope.input as Pick<CreateChannelInput, "alertTypes" | "endpoints" | "userIds">),
    };
    try {
      await alerts.createChannel(input);
    } catch (err) {
      // A refusal without field errors is a name another channel has (409).
      const errors = refusal(err, "name", [400, 409]).byField;
      return c.html(await list(c.get("signedIn"), { values, scope, errors }), 400);
    }
    return c.redirect("/channels?done=created", 303);
  });

  routes.get("/channels/:id{[0-9]+}", async (c) => {
    const channel = await alerts.getChannel(id(c.req.param("id")));
    return c.html(editPage(c.get("signedIn"), channel, await userNames(keys, channel.userIds)));
  });

  routes.post("/channels/:id{[0-9]+}", async (c) => {
    const channelId = id(c.req.param("id"));
    const current = await alerts.getChannel(channelId);
    const form = await c.req.parseBody({ all: true });
    const scope = scopeFromForm(form);
    const values = Object.fromEntries(["name", "target", "minSeverity"].map((k) => [k, field(form, k)]));
    const refused = async (errors: Record<string, string[]>) =>
      c.html(
        editPage(
          c.get("signedIn"),
          current,
          await userNames(keys, usersShown([], scope)),
          errors,
          values,
          scope,
        ),
        400,
      );
    if (Object.keys(scope.errors).length > 0) return refused(scope.errors);
    const patch: ChannelInput = {
      name: values.name || current.name,
      minSeverity: values.minSeverity as ChannelInput["minSeverity"],
      enabled: form.enabled === "on",
      ...(scope.input as Pick<ChannelInput, "alertTypes" | "endpoints" | "userIds">),
      // A blank target keeps the stored one (a Slack URL is never shown, so it cannot be resent).
      ...(values.target && { target: values.target }),
      ...(form.removeSecret === "on"
        ? { secret: null }
        : typeof form.secret === "string" && form.secret !== "" && { secret: form.secret }),
    };
    try {
      await alerts.updateChannel(channelId, patch);
    } catch (err) {
      return refused(refusal(err, "name", [400, 409]).byField);
    }
    return c.redirect("/channels?done=saved", 303);
  });

  for (const action of ["enable", "disable"] as const) {
    routes.post(`/channels/:id{[0-9]+}/${action}`, async (c) => {
      await alerts.updateChannel(id(c.req.param("id")), { enabled: action === "enable" });
      return c.redirect(`/channels?done=${action}d`, 303);
    });
  }

  routes.post("/channels/:id{[0-9]+}/delete", async (c) => {
    await alerts.deleteChannel(id(c.req.param("id")));
    return c.redirect("/channels?done=deleted", 303);
  });

  routes.post("/channels/:id{[0-9]+}/test", async (c) => {
    const channel = await alerts.getChannel(id(c.req.param("id")));
    let delivery: TestDeliveryView | undefined;
    let error: string | undefined;
    try {
      delivery = await alerts.testChannel(channel.id);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      error = apiDetail(err);
    }
    return c.html(await list(c.get("signedIn"), { test: testResult(channel, delivery, error) }));
  });

  return routes;
}
