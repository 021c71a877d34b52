import type { ApiKeyView, KeysClient, KeyUsageView, UserView } from "@apimon/client";
import { MAX_PAGE_SIZE } from "@apimon/http";
import { Hono } from "hono";
import { html } from "hono/html";
import { type ConsoleEnv, field, type PageDeps, refusal, usersByIds } from "../context";
import {
  badge,
  type ChartSpec,
  chart,
  csrfField,
  errorBox,
  fieldError,
  type Html,
  mayChange,
  noticeBox,
  page,
  type SignedIn,
  time,
  withParams,
} from "../views/layout";
import { changesOf } from "./activity";

/** The usage ranges offered, with the bucket size that keeps each chart readable. */
export const USAGE_RANGES = {
  "1h": { ms: 3_600_000, granularity: "minute" },
  "24h": { ms: 86_400_000, granularity: "hour" },
  "7d": { ms: 7 * 86_400_000, granularity: "hour" },
  "30d": { ms: 30 * 86_400_000, granularity: "day" },
} as const;
export type UsageRange = keyof typeof USAGE_RANGES;

const ALL_RANGES = Object.keys(USAGE_RANGES) as UsageRange[];

/**
 * What the response-time chart's figures are: by minute the keys service reads every request,
 * by hour or day its hourly latency histograms.
 */
export const ESTIMATED_RESPONSE_TIMES =
  "Response times here are estimated from hourly latency histograms, within 9%; over 1h they are exact.";

/** The range asked for, if there is one of that name; 24 hours otherwise. */
export const rangeOf = (value: string | undefined): UsageRange =>
  ALL_RANGES.find((r) => r === value) ?? "24h";

/** Links to the same page (with the same `params`) over each range. */
export function rangeTabs(path: string, current: UsageRange, params: Record<string, string> = {}) {
  return html`<div class="tabs">${ALL_RANGES.map(
    (r) =>
      html`<a href="${withParams(path, { ...params, range: r })}" class="${r === current ? "active" : ""}">${r}</a>`,
  )}</div>`;
}

const bucketLabel = (iso: string, range: UsageRange) =>
  range === "30d"
    ? iso.slice(5, 10)
    : range === "7d"
      ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}`
      : iso.slice(11, 16);

/** One bucket of a usage answer: a key's, a user's keys' or every key's. */
type UsageBucket = KeyUsageView["buckets"][number];

/** The two usage charts over the buckets: traffic by outcome, and latency percentiles. */
export function usageCharts(buckets: readonly UsageBucket[], range: UsageRange): Html {
  const labels = buckets.map((b) => bucketLabel(b.start, range));
  const traffic: ChartSpec = {
    type: "bar",
    stacked: true,
    labels,
    yTitle: "requests",
    datasets: [
      {
        label: "succeeded",
        data: buckets.map((b) => b.requests - b.errors - b.clientErrors),
        color: "#2f5bd3",
      },
      {
        label: "other 4xx",
        data: buckets.map((b) => b.clientErrors - b.rateLimited),
        color: "#b26a00",
      },
      { label: "429 rate limited", data: buckets.map((b) => b.rateLimited), color: "#7b1fa2" },
      { label: "5xx errors", data: buckets.map((b) => b.errors), color: "#c62828" },
    ],
  };
  const latency: ChartSpec = {
    type: "line",
    labels,
    yTitle: "ms",
    datasets: [
      { label: "p50", data: buckets.map((b) => b.p50ResponseTimeMs), color: "#2e7d32" },
      { label: "p95", data: buckets.map((b) => b.p95ResponseTimeMs), color: "#c62828" },
    ],
  };
  return html`<div class="grid">${chart("chart-traffic", "Requests by outcome", traffic)}${chart("chart-latency", "Response time (p50 / p95)", latency)}</div>`;
}

/** A key's usage: its totals over the range, then the two charts. */
function keyUsageSection(usage: KeyUsageView, range: UsageRange): Html {
  const sum = (k: "requests" | "errors" | "rateLimited" | "clientErrors") =>
    usage.buckets.reduce((a, b) => a + b[k], 0);
  const requests = sum("requests");
  return html`<div class="cards">
<div class="stat"><div class="n" id="usage-requests">${requests}</div><div class="l">requests</div></div>
<div class="stat critical"><div class="n">${sum("errors")}</div><div class="l">5xx errors</div></div>
<div class="stat warning"><div class="n">${sum("rateLimited")}</div><div class="l">429 rate limited</div></div>
<div class="stat"><div class="n">${requests === 0 ? "—" : `${((sum("errors") / requests) * 100).toFixed(1)} %`}</div><div class="l">error rate</div></div>
</div>
${usageCharts(usage.buckets, range)}
${USAGE_RANGES[range].granularity === "minute" ? "" : html`<p class="muted">${ESTIMATED_RESPONSE_TIMES}</p>`}`;
}

const limitsText = (k: ApiKeyView) => `${k.rateLimits.minute} / ${k.rateLimits.hour} / ${k.rateLimits.day}`;

/** A key's plaintext, shown once after create or rotate, with a copy button. */
export function plaintextCard(key: ApiKeyView) {
  return html`<div class="card" id="new-key"><h2>The new key (shown once)</h2>
<p class="muted">Copy it now: only its hash is stored, it cannot be shown again.</p>
<div class="secret"><code id="plaintext-key">${key.key ?? ""}</code><button type="button" data-copy="plaintext-key">Copy</button></div>
<p class="small">Key #${key.id} · ${key.name} · prefix <code>${key.prefix}</code> · <a href="/keys/${key.id}">usage and settings</a></p></div>`;
}

/** The keys API's word for what the edge does with a key now, as the badge says it. */
const KEY_BADGES = { active: "on", deactivated: "off", expired: "expired" } as const;
const keyBadge = (key: Pick<ApiKeyView, "state">) => badge(KEY_BADGES[key.state]);

/** Keys in a table with their state, limits and use; for those who may change them, each row deactivates or activates its key. */
export function keysTable(signedIn: SignedIn, keys: ApiKeyView[], userName: ReadonlyMap<number, string>) {
  if (keys.length === 0) return html`<div class="card muted">No keys yet.</div>`;
  return html`<div class="table"><table class="stack"><thead><tr><th>#</th><th>Name</th><th>Prefix</th><th>User</th><th>State</th><th class="num">Limits min/h/day</th><th class="num">Calls</th><th>Last used</th><th></th></tr></thead>
<tbody>${keys.map(
    (
      k,
    ) => html`<tr data-key-id="${k.id}"><td class="whole" data-label="#"><a href="/keys/${k.id}">${k.id}</a></td><td data-label="Name"><a href="/keys/${k.id}">${k.name}</a></td><td class="mono whole" data-label="Prefix">${k.prefix}</td>
<td data-label="User"><a href="/users/${k.userId}">${userName.get(k.userId) ?? `#${k.userId}`}</a></td><td data-label="State">${keyBadge(k)}</td><td class="num" data-label="Limits min/h/day">${limitsText(k)}</td>
<td class="num" data-label="Calls">${k.usageCount ?? 0}</td><td data-label="Last used">${time(k.lastUsed)}</td>
<td><div class="actions"><a class="button secondary" href="/keys/${k.id}">Usage</a>
${mayChange(signedIn) ? html`<form method="post" action="/keys/${k.id}/${k.isActive ? "deactivate" : "activate"}">${csrfField(signedIn)}<button class="secondary" type="submit">${k.isActive ? "Deactivate" : "Activate"}</button></form>` : ""}</div></td></tr>`,
  )}</tbody></table></div>`;
}

/** Keys a page of keys shows: the keys list's and a user's page. */
export const KEYS_PER_PAGE = 50;

/** How many users a user select holds: the first page of them the keys API gives. */
const USER_CHOICES = MAX_PAGE_SIZE;

/**
 * A user select's options, `selected` marked. A selected id that none of the users has (the keys
 * API did not answer for it, or it is deleted) stays selected as `#id`: a form must never fall
 * back to another user, whose key it would then create.
 */
function userOptions(users: readonly UserView[], selected: string | undefined) {
  const unlisted = selected !== undefined && selected !== "" && !users.some((u) => String(u.id) === selected);
  return html`${unlisted ? html`<option value="${selected}" selected>#${selected}</option>` : ""}${users.map(
    (u) =>
      html`<option value="${u.id}" ${String(u.id) === selected ? "selected" : ""}>${u.name} (${u.email})</option>`,
  )}`;
}

/** Said beside a user select that does not hold every user. */
const moreUsersNote = () =>
  html`<p class="small muted more-users">This list holds the first ${USER_CHOICES} users: <a href="/users">find another on the Users page</a> (their page lists their keys and creates one for them).</p>`;

/** What the keys page shows. */
interface KeysPageData {
  /** The users the selects offer: the first USER_CHOICES, and the user the page or form names. */
  users: UserView[];
  /** There are more users than the first USER_CHOICES. */
  moreUsers: boolean;
  /** The names of the users of the keys shown, by id. */
  userNames: ReadonlyMap<number, string>;
  keys: ApiKeyView[];
  nextCursor: string | null;
  userId?: string;
  search?: string;
  cursor?: string;
  /** The keys API's refusal of the filter, shown instead of the list. */
  error?: string;
}

function keysPage(
  signedIn: SignedIn,
  data: KeysPageData,
  opts: {
    notice?: string;
    created?: ApiKeyView;
    keyErrors?: Record<string, string[]>;
    values?: Record<string, string>;
  } = {},
) {
  const v = opts.values ?? {};
  const keyErrors = opts.keyErrors ?? {};
  return page(
    { title: "Keys", section: "/keys", signedIn },
    html`<h1>API keys</h1>
${noticeBox(opts.notice)}
${opts.created ? plaintextCard(opts.created) : ""}
<form class="filters" method="get" action="/keys">
<div><label for="f-user">User</label><select id="f-user" name="userId"><option value="">all users</option>${userOptions(data.users, data.userId)}</select></div>
<div><label for="f-search">Name or prefix</label><input id="f-search" name="search" value="${data.search ?? ""}" placeholder="billing, ak_Xy12…"></div>
<div><button type="submit">Show</button></div></form>
${data.moreUsers ? moreUsersNote() : ""}
${errorBox(data.error)}
${data.error ? "" : keysTable(signedIn, data.keys, data.userNames)}
<div class="pager">${data.cursor ? html`<a class="button secondary" href="${withParams("/keys", { userId: data.userId, search: data.search })}">« First page</a>` : ""}
${data.nextCursor ? html`<a class="button secondary" href="${withParams("/keys", { userId: data.userId, search: data.search, cursor: data.nextCursor })}">Next page »</a>` : ""}</div>
<div class="grid">
${
  mayChange(signedIn)
    ? html`<div class="card"><h2>New key</h2>
<form method="post" action="/keys" id="create-key">${csrfField(signedIn)}
<div class="field"><label for="k-user">User</label><select id="k-user" name="userId">${userOptions(data.users, v.userId ?? data.userId)}</select>${fieldError(keyErrors, "userId")}${data.moreUsers ? moreUsersNote() : ""}</div>
${newKeyFields(v, keyErrors)}
<button type="submit">Create key</button></form></div>`
    : ""
}
<div class="card"><h2>Users</h2>
<form method="get" action="/users" id="find-user">
<div class="field"><label for="u-search">Name or email</label><input id="u-search" name="search" placeholder="ada, @example.com"></div>
<button type="submit" class="secondary">Find user</button></form>
${
  mayChange(signedIn)
    ? html`<p class="muted">A user's page lists their keys, creates one for them, and shows their usage. <a href="/users">All users; add a user »</a></p>`
    : html`<p class="muted">A user's page lists their keys and shows their usage. <a href="/users">All users »</a></p>`
}</div>
</div>`,
  );
}

/**
 * A key form's fields besides its user (the new-key form's and a key's edit form's), as typed:
 * the form keeps them when the API refuses it.
 */
const KEY_FORM_FIELDS = ["name", "description", "expiresAt", "minute", "hour", "day"] as const;

export function keyFormValues(form: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(KEY_FORM_FIELDS.map((k) => [k, field(form, k)]));
}

/** A key's stored values as its edit form's fields show them. */
function storedKeyValues(key: ApiKeyView): Record<string, string> {
  return {
    name: key.name,
    description: key.description ?? "",
    expiresAt: expiryInput(key.expiresAt),
    minute: String(key.rateLimits.minute),
    hour: String(key.rateLimits.hour),
    day: String(key.rateLimits.day),
  };
}

/** The key the new-key form's values describe, for `userId`, as the keys API takes it. */
export function newKeyInput(
  userId: number,
  v: Record<string, string>,
): Parameters<KeysClient["createKey"]>[0] {
  return {
    userId,
    name: v.name ?? "",
    ...(v.description && { description: v.description }),
    ...(v.expiresAt && { expiresAt: expiryFromForm(v.expiresAt) }),
    rateLimits: limitsFrom(v, undefined) as { minute?: number; hour?: number; day?: number },
  };
}

/** A new key's name, description, expiry and limits, each with the API's refusal of it. */
export function newKeyFields(v: Record<string, string>, errors: Record<string, string[]>) {
  return html`<div class="field"><label for="k-name">Name</label><input id="k-name" name="name" value="${v.name ?? ""}" required>${fieldError(errors, "name")}</div>
<div class="field"><label for="k-desc">Description (optional)</label><input id="k-desc" name="description" value="${v.description ?? ""}">${fieldError(errors, "description")}</div>
${expiryField(v.expiresAt ?? "", errors, "optional")}
${limitFields(v, errors)}
${fieldError(errors, "(body)")}`;
}

/** An expiry as a datetime-local field shows it: UTC, to the minute. */
const expiryInput = (iso: string | null) => (iso === null ? "" : iso.slice(0, 16));

/** A datetime-local field as the keys API takes it (UTC); blank is never, anything else is the API's to judge. */
function expiryFromForm(text: string): string | null {
  if (text === "") return null;
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(text)) return `${text}:00Z`;
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$/.test(text)) return `${text}Z`;
  return text;
}

/**
 * The expiry as the form sends it: UTC, to the minute. The console script shows it in the
 * browser's own time zone (naming the zone in the label) and turns it back into UTC as the form
 * is sent, so an operator types their own time; without the script it stays UTC and says so.
 */
function expiryField(value: string, errors: Record<string, string[]>, hint: string) {
  return html`<div class="field"><label for="k-expires">Expires (<span data-time-zone>UTC</span>; ${hint})</label><input id="k-expires" name="expiresAt" type="datetime-local" value="${value}" data-utc>${fieldError(errors, "expiresAt")}</div>`;
}

function limitFields(v: Record<string, string>, errors: Record<string, string[]>, placeholder = "default") {
  return html`<div class="limits">${(["minute", "hour", "day"] as const).map(
    (w) =>
      html`<div class="field"><label for="k-${w}">Per ${w}</label><input id="k-${w}" name="${w}" type="number" min="1" value="${v[w] ?? ""}" placeholder="${placeholder}">${fieldError(errors, `rateLimits.${w}`)}</div>`,
  )}</div>`;
}

/** A positive id in a query or form field; anything else is none. */
const idOf = (text: string | undefined) => (text && /^\d{1,10}$/.test(text) ? Number(text) : undefined);

/** Limits from the form: a number sets a window, blank leaves it (create) or resets it to the default (edit). */
function limitsFrom(form: Record<string, unknown>, blank: null | undefined) {
  const out: Record<string, number | null> = {};
  for (const w of ["minute", "hour", "day"] as const) {
    const raw = field(form, w);
    if (raw !== "") out[w] = Number(raw);
    else if (blank === null) out[w] = null;
  }
  return out;
}

/** What a key's page shows: the key, its usage over the range, and whose key it is. */
interface KeyPageData {
  key: ApiKeyView;
  usage: KeyUsageView;
  /** Absent when the keys API did not answer for the user; the page then shows the user's id. */
  owner?: UserView;
}

function keyPage(
  signedIn: SignedIn,
  { key, usage, owner }: KeyPageData,
  range: UsageRange,
  opts: {
    notice?: string;
    created?: ApiKeyView;
    errors?: Record<string, string[]>;
    /** The edit form's fields as typed, when the API refused them; the stored values otherwise. */
    values?: Record<string, string>;
  } = {},
) {
  const errors = opts.errors ?? {};
  const canChange = mayChange(signedIn);
  return page(
    { title: key.name, section: "/keys", signedIn, charts: true },
    html`<p><a href="/keys">« Keys</a></p>
<h1>${key.name} <span class="mono muted">${key.prefix}</span> ${keyBadge(key)}</h1>
${noticeBox(opts.notice)}
${opts.created ? plaintextCard(opts.created) : ""}
${rangeTabs(`/keys/${key.id}`, range)}
${keyUsageSection(usage, range)}
<div class="grid">
<div class="card"><h2>Key</h2><dl class="facts">
<dt>Id</dt><dd>${key.id}</dd><dt>User</dt><dd><a href="/users/${key.userId}">${owner ? `${owner.name} (${owner.email})` : `#${key.userId}`}</a></dd>
<dt>Description</dt><dd>${key.description ?? "—"}</dd>
<dt>Limits</dt><dd>${limitsText(key)} (minute / hour / day)</dd>
<dt>Calls</dt><dd>${key.usageCount ?? 0}</dd><dt>Last used</dt><dd>${time(key.lastUsed)}</dd>
<dt>Created</dt><dd>${time(key.createdAt)}</dd><dt>Expires</dt><dd>${time(key.expiresAt)}</dd>
<dt>Alerts</dt><dd><a href="/alerts?apiKeyId=${key.id}">active</a> · <a href="/history?apiKeyId=${key.id}">history</a></dd>
<dt>Changes</dt><dd><a href="${changesOf("key", key.id)}" id="key-changes">who changed this key, and when</a></dd>
${key.rotatedFromId ? html`<dt>Rotated from</dt><dd><a href="/keys/${key.rotatedFromId}">#${key.rotatedFromId}</a></dd>` : ""}
</dl>
${canChange ? keyActions(signedIn, key) : ""}</div>
${
  // The facts above show every value the form holds: a viewer needs no disabled copy of them.
  canChange ? editCard(signedIn, key, opts.values ?? storedKeyValues(key), errors) : ""
}
</div>`,
  );
}

/** Rotate, deactivate or activate, and delete: a key's buttons. */
function keyActions(signedIn: SignedIn, key: ApiKeyView) {
  return html`<div class="actions spaced">
${
  // The keys service rotates only a key the edge accepts.
  key.state === "active"
    ? html`<form method="post" action="/keys/${key.id}/rotate" data-confirm="Rotate this key? The old key keeps working for the grace period.">${csrfField(signedIn)}<button type="submit" class="secondary">Rotate</button></form>`
    : ""
}
<form method="post" action="/keys/${key.id}/${key.isActive ? "deactivate" : "activate"}">${csrfField(signedIn)}<button type="submit" class="${key.isActive ? "danger" : "secondary"}">${key.isActive ? "Deactivate" : "Activate"}</button></form>
<form method="post" action="/keys/${key.id}/delete" data-confirm="Delete the key ${key.name}? The edge refuses it from now on. This cannot be undone; its recorded usage stays.">${csrfField(signedIn)}<button type="submit" class="danger">Delete</button></form>
</div>`;
}

/**
 * The form that changes a key's name, description, expiry and limits, its fields holding `v`.
 * Its expiry is sent only when it differs from the stored one (`expiresWas`), typed or not.
 */
function editCard(
  signedIn: SignedIn,
  key: ApiKeyView,
  v: Record<string, string>,
  errors: Record<string, string[]>,
) {
  return html`<div class="card"><h2>Edit</h2>
<form method="post" action="/keys/${key.id}">${csrfField(signedIn)}
<div class="field"><label for="k-name">Name</label><input id="k-name" name="name" value="${v.name ?? ""}">${fieldError(errors, "name")}</div>
<div class="field"><label for="k-desc">Description</label><input id="k-desc" name="description" value="${v.description ?? ""}">${fieldError(errors, "description")}</div>
${expiryField(v.expiresAt ?? "", errors, "blank: never")}
<input type="hidden" name="expiresWas" value="${expiryInput(key.expiresAt)}">
${limitFields(v, errors, "default")}
<p class="muted small">Blank resets a window to the default limit.</p>
${fieldError(errors, "(body)")}
<button type="submit">Save</button></form></div>`;
}

const KEY_NOTICES: Record<string, string> = {
  saved: "Key saved.",
  activated: "Key activated.",
  deactivated: "Key deactivated: the edge refuses it from now on.",
  "key-deleted": "Key deleted: the edge refuses it from now on.",
};

/** Keys: list, create (plaintext once), rotate, activate/deactivate, limits, usage charts. */
export function createKeyPages({ keys, clock }: PageDeps): Hono<ConsoleEnv> {
  const routes = new Hono<ConsoleEnv>();

  /**
   * The keys page's data. Its selects hold the first USER_CHOICES users and, wherever they are in
   * the list, the user the filter names and the one the form names; the keys' users are named.
   */
  async function listData(
    filter: { userId?: string; search?: string } = {},
    cursor?: string,
    formUserId?: string,
  ) {
    const uid = idOf(filter.userId);
    const search = filter.search?.trim() || undefined;
    const [firstUsers, list] = await Promise.all([
      keys.listUsers({ limit: USER_CHOICES }),
      keys
        .listKeys({ userId: uid, search, cursor: cursor || undefined, limit: KEYS_PER_PAGE })
        .catch((err: unknown) => ({ items: [], nextCursor: null, error: refusal(err, "search").text })),
    ]);
    const listed = new Set(firstUsers.items.map((u) => u.id));
    const selected = [...new Set([uid, idOf(formUserId)])].filter((id) => id !== undefined);
    // The users the first page lacks: those the selects must hold, and the keys' users to name.
    const missing = [...selected, ...list.items.map((k) => k.userId)].filter((id) => !listed.has(id));
    const others = new Map((await usersByIds(keys, missing)).map((u) => [u.id, u]));
    return {
      users: [...firstUsers.items, ...selected.flatMap((id) => others.get(id) ?? [])],
      moreUsers: firstUsers.nextCursor !== null,
      userNames: new Map([...firstUsers.items, ...others.values()].map((u) => [u.id, u.name])),
      keys: list.items,
      nextCursor: list.nextCursor,
      userId: uid === undefined ? undefined : String(uid),
      search,
      cursor,
      error: "error" in list ? list.error : undefined,
    };
  }

  /** A key's page data: the usage is asked for alongside the key, its owner once the key is known. */
  async function keyPageData(id: number, range: UsageRange, known?: ApiKeyView): Promise<KeyPageData> {
    const keyAnswer = known ? Promise.resolve(known) : keys.getKey(id);
    const ownerAnswer = keyAnswer.then((k) => keys.getUser(k.userId)).catch(() => undefined);
    const [key, usage, owner] = await Promise.all([keyAnswer, usageOf(id, range), ownerAnswer]);
    return { key, usage, owner };
  }

  async function usageOf(id: number, range: UsageRange) {
    const { ms, granularity } = USAGE_RANGES[range];
    const now = clock().getTime();
    return keys.keyUsage(id, {
      from: new Date(now - ms).toISOString(),
      to: new Date(now).toISOString(),
      granularity,
    });
  }

  routes.get("/keys", async (c) => {
    const notice = KEY_NOTICES[c.req.query("done") ?? ""];
    return c.html(
      keysPage(
        c.get("signedIn"),
        await listData(
          { userId: c.req.query("userId"), search: c.req.query("search") },
          c.req.query("cursor"),
        ),
        { notice },
      ),
    );
  });

  routes.post("/keys", async (c) => {
    const form = await c.req.parseBody();
    const values = { userId: field(form, "userId"), ...keyFormValues(form) };
    let created: ApiKeyView;
    try {
      created = await keys.createKey(newKeyInput(Number(values.userId), values));
    } catch (err) {
      const keyErrors = refusal(err, "userId", [400, 404]).byField;
      // The list as it was before the form was sent; the form keeps the user it names.
      return c.html(
        keysPage(c.get("signedIn"), await listData({}, undefined, values.userId), { keyErrors, values }),
        400,
      );
    }
    // Rendered, not redirected: the plaintext must not travel in a URL or be shown twice. The
    // form keeps its user, so that the next key goes to the same one unless changed.
    const data = await listData({}, undefined, values.userId);
    return c.html(
      keysPage(c.get("signedIn"), data, {
        created,
        notice: "Key created.",
        values: { userId: values.userId },
      }),
    );
  });

  routes.get("/keys/:id{[0-9]+}", async (c) => {
    const id = Number(c.req.param("id"));
    const range = rangeOf(c.req.query("range"));
    const data = await keyPageData(id, range);
    return c.html(
      keyPage(c.get("signedIn"), data, range, { notice: KEY_NOTICES[c.req.query("done") ?? ""] }),
    );
  });

  routes.post("/keys/:id{[0-9]+}", async (c) => {
    const id = Number(c.req.param("id"));
    const form = await c.req.parseBody();
    const description = field(form, "description");
    const expiry = field(form, "expiresAt");
    try {
      await keys.updateKey(id, {
        name: field(form, "name"),
        description: description === "" ? null : description,
        // Only a changed expiry: one already past (a rotated key's) must not stop a rename.
        ...(expiry !== field(form, "expiresWas") && { expiresAt: expiryFromForm(expiry) }),
        rateLimits: limitsFrom(form, null),
      });
    } catch (err) {
      const errors = refusal(err, "(body)").byField;
      // The form keeps what was typed, under the API's reasons, as every other form does.
      const data = await keyPageData(id, "24h");
      return c.html(keyPage(c.get("signedIn"), data, "24h", { errors, values: keyFormValues(form) }), 400);
    }
    return c.redirect(`/keys/${id}?done=saved`, 303);
  });

  for (const action of ["activate", "deactivate"] as const) {
    routes.post(`/keys/:id{[0-9]+}/${action}`, async (c) => {
      const id = Number(c.req.param("id"));
      await keys.updateKey(id, { isActive: action === "activate" });
      return c.redirect(`/keys/${id}?done=${action}d`, 303);
    });
  }

  routes.post("/keys/:id{[0-9]+}/delete", async (c) => {
    await keys.deleteKey(Number(c.req.param("id")));
    return c.redirect("/keys?done=key-deleted", 303);
  });

  routes.post("/keys/:id{[0-9]+}/rotate", async (c) => {
    const created = await keys.rotateKey(Number(c.req.param("id")));
    return c.html(
      keyPage(c.get("signedIn"), await keyPageData(created.id, "24h", created), "24h", {
        created,
        notice: "Key rotated: the old key keeps working for the grace period.",
      }),
    );
  });

  return routes;
}
