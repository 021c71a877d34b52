import type { ApiKeyView, KeyUsageView, UserView } from "@apimon/client";
import { Hono } from "hono";
import { html } from "hono/html";
import { type ConsoleEnv, field, type PageDeps, refusal } from "../context";
import {
  badge,
  type ChartSpec,
  chart,
  csrfField,
  errorBox,
  fieldError,
  type Html,
  noticeBox,
  page,
  time,
  withParams,
} from "../views/layout";

/** The usage ranges offered, with the bucket size that keeps each chart readable. */
export const USAGE_RANGES = {
  "1h": { ms: 3_600_000, granularity: "minute" },
  "24h": { ms: 86_400_000, granularity: "hour" },
  "7d": { ms: 7 * 86_400_000, granularity: "hour" },
} as const;
export type UsageRange = keyof typeof USAGE_RANGES;

export const rangeOf = (value: string | undefined): UsageRange =>
  value !== undefined && value in USAGE_RANGES ? (value as UsageRange) : "24h";

/** Links to the same page (with the same `params`) over 1 h, 24 h and 7 d. */
export function rangeTabs(path: string, current: UsageRange, params: Record<string, string> = {}) {
  return html`<div class="tabs">${Object.keys(USAGE_RANGES).map(
    (r) =>
      html`<a href="${withParams(path, { ...params, range: r })}" class="${r === current ? "active" : ""}">${r}</a>`,
  )}</div>`;
}

const bucketLabel = (iso: string, range: UsageRange) =>
  range === "7d" ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);

/** The two charts of a key's usage: traffic by outcome, and latency percentiles. */
export function usageCharts(usage: KeyUsageView, range: UsageRange): Html {
  const labels = usage.buckets.map((b) => bucketLabel(b.start, range));
  const traffic: ChartSpec = {
    type: "bar",
    stacked: true,
    labels,
    yTitle: "requests",
    datasets: [
      {
        label: "succeeded",
        data: usage.buckets.map((b) => b.requests - b.errors - b.clientErrors),
        color: "#2f5bd3",
      },
      {
        label: "other 4xx",
        data: usage.buckets.map((b) => b.clientErrors - b.rateLimited),
        color: "#b26a00",
      },
      { label: "429 rate limited", data: usage.buckets.map((b) => b.rateLimited), color: "#7b1fa2" },
      { label: "5xx errors", data: usage.buckets.map((b) => b.errors), color: "#c62828" },
    ],
  };
  const latency: ChartSpec = {
    type: "line",
    labels,
    yTitle: "ms",
    datasets: [
      { label: "p50", data: usage.buckets.map((b) => b.p50ResponseTimeMs), color: "#2e7d32" },
      { label: "p95", data: usage.buckets.map((b) => b.p95ResponseTimeMs), color: "#c62828" },
    ],
  };
  const sum = (k: "requests" | "errors" | "rateLimited" | "clientErrors") =>
    usage.buckets.reduce((a, b) => a + b[k], 0);
  const requests = sum("requests");
  return html`<div class="cards">
<div class="stat"><div class="n" id="usage-requests">${requests}</div><div class="l">requests</div></div>
<div class="stat critical"><div class="n">${sum("errors")}</div><div class="l">5xx errors</div></div>
<div class="stat warning"><div class="n">${sum("rateLimited")}</div><div class="l">429 rate limited</div></div>
<div class="stat"><div class="n">${requests === 0 ? "—" : `${((sum("errors") / requests) * 100).toFixed(1)} %`}</div><div class="l">error rate</div></div>
</div>
<div class="grid">${chart("chart-traffic", "Requests by outcome", traffic)}${chart("chart-latency", "Response time (p50 / p95)", latency)}</div>`;
}

const limitsText = (k: ApiKeyView) => `${k.rateLimits.minute} / ${k.rateLimits.hour} / ${k.rateLimits.day}`;

/** A key's plaintext, shown once after create or rotate, with a copy button. */
function plaintextCard(key: ApiKeyView) {
  return html`<div class="card" id="new-key"><h2>The new key (shown once)</h2>
<p class="muted">Copy it now: only its hash is stored, it cannot be shown again.</p>
<div class="secret"><code id="plaintext-key">${key.key ?? ""}</code><button type="button" data-copy="plaintext-key">Copy</button></div>
<p class="small">Key #${key.id} · ${key.name} · prefix <code>${key.prefix}</code> · <a href="/keys/${key.id}">usage and settings</a></p></div>`;
}

/** The keys API's word for what the edge does with a key now, as the badge says it. */
const KEY_BADGES = { active: "on", deactivated: "off", expired: "expired" } as const;
const keyBadge = (key: Pick<ApiKeyView, "state">) => badge(KEY_BADGES[key.state]);

/** Keys in a table with their state, limits and use; each row deactivates or activates its key. */
function keysTable(csrf: string, keys: ApiKeyView[], userName: ReadonlyMap<number, string>) {
  if (keys.length === 0) return html`<div class="card muted">No keys yet.</div>`;
  return html`<div class="table"><table class="stack"><thead><tr><th>#</th><th>Name</th><th>Prefix</th><th>User</th><th>State</th><th class="num">Limits min/h/day</th><th class="num">Calls</th><th>Last used</th><th></th></tr></thead>
<tbody>${keys.map(
    (
      k,
    ) => html`<tr data-key-id="${k.id}"><td data-label="#"><a href="/keys/${k.id}">${k.id}</a></td><td data-label="Name"><a href="/keys/${k.id}">${k.name}</a></td><td class="mono" data-label="Prefix">${k.prefix}</td>
<td data-label="User"><a href="/users/${k.userId}">${userName.get(k.userId) ?? `#${k.userId}`}</a></td><td data-label="State">${keyBadge(k)}</td><td class="num" data-label="Limits min/h/day">${limitsText(k)}</td>
<td class="num" data-label="Calls">${k.usageCount ?? 0}</td><td data-label="Last used">${time(k.lastUsed)}</td>
<td><div class="actions"><a class="button secondary" href="/keys/${k.id}">Usage</a>
<form method="post" action="/keys/${k.id}/${k.isActive ? "deactivate" : "activate"}">${csrfField(csrf)}<button class="secondary" type="submit">${k.isActive ? "Deactivate" : "Activate"}</button></form></div></td></tr>`,
  )}</tbody></table></div>`;
}

function keysPage(
  csrf: string,
  data: {
    users: UserView[];
    keys: ApiKeyView[];
    nextCursor: string | null;
    userId?: string;
    search?: string;
    cursor?: string;
    /** The keys API's refusal of the filter, shown instead of the list. */
    error?: string;
  },
  opts: {
    notice?: string;
    created?: ApiKeyView;
    userErrors?: Record<string, string[]>;
    keyErrors?: Record<string, string[]>;
    values?: Record<string, string>;
  } = {},
) {
  const v = opts.values ?? {};
  const userName = new Map(data.users.map((u) => [u.id, u.name] as const));
  return page(
    { title: "Keys", section: "/keys", csrf },
    html`<h1>API keys</h1>
${noticeBox(opts.notice)}
${opts.created ? plaintextCard(opts.created) : ""}
<form class="filters" method="get" action="/keys">
<div><label for="f-user">User</label><select id="f-user" name="userId"><option value="">all users</option>${data.users.map(
      (u) =>
        html`<option value="${u.id}" ${String(u.id) === data.userId ? "selected" : ""}>${u.name} (${u.email})</option>`,
    )}</select></div>
<div><label for="f-search">Name or prefix</label><input id="f-search" name="search" value="${data.search ?? ""}" placeholder="billing, ak_Xy12…"></div>
<div><button type="submit">Show</button></div></form>
${errorBox(data.error)}
${data.error ? "" : keysTable(csrf, data.keys, userName)}
<div class="pager">${data.cursor ? html`<a class="button secondary" href="${withParams("/keys", { userId: data.userId, search: data.search })}">« First page</a>` : ""}
${data.nextCursor ? html`<a class="button secondary" href="${withParams("/keys", { userId: data.userId, search: data.search, cursor: data.nextCursor })}">Next page »</a>` : ""}</div>
<div class="grid">
<div class="card"><h2>New key</h2>
<form method="post" action="/keys" id="create-key">${csrfField(csrf)}
<div class="field"><label for="k-user">User</label><select id="k-user" name="userId">${data.users.map(
      (u) =>
        html`<option value="${u.id}" ${String(u.id) === (v.userId ?? data.userId) ? "selected" : ""}>${u.name} (${u.email})</option>`,
    )}</select>${fieldError(opts.keyErrors ?? {}, "userId")}</div>
<div class="field"><label for="k-name">Name</label><input id="k-name" name="name" value="${v.name ?? ""}" required>${fieldError(opts.keyErrors ?? {}, "name")}</div>
<div class="field"><label for="k-desc">Description (optional)</label><input id="k-desc" name="description" value="${v.description ?? ""}">${fieldError(opts.keyErrors ?? {}, "description")}</div>
${expiryField(v.expiresAt ?? "", opts.keyErrors ?? {}, "Expires (UTC, optional)")}
${limitFields(v, opts.keyErrors ?? {})}
<button type="submit">Create key</button></form></div>
<div class="card"><h2>Users</h2>
<div class="table"><table class="stack"><thead><tr><th>#</th><th>Name</th><th>Email</th><th>Created</th></tr></thead><tbody>${data.users.map(
      (u) =>
        html`<tr><td data-label="#">${u.id}</td><td data-label="Name"><a href="/users/${u.id}">${u.name}</a></td><td data-label="Email">${u.email}</td><td data-label="Created">${time(u.createdAt)}</td></tr>`,
    )}</tbody></table></div>
<form method="post" action="/users" id="create-user">${csrfField(csrf)}
<div class="field"><label for="u-name">Name</label><input id="u-name" name="name" value="${v.userName ?? ""}" required>${fieldError(opts.userErrors ?? {}, "name")}</div>
<div class="field"><label for="u-email">Email</label><input id="u-email" name="email" type="email" value="${v.email ?? ""}" required>${fieldError(opts.userErrors ?? {}, "email")}</div>
<button type="submit" class="secondary">Add user</button></form></div>
</div>`,
  );
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

function expiryField(value: string, errors: Record<string, string[]>, label: string) {
  return html`<div class="field"><label for="k-expires">${label}</label><input id="k-expires" name="expiresAt" type="datetime-local" value="${value}">${fieldError(errors, "expiresAt")}</div>`;
}

function limitFields(v: Record<string, string>, errors: Record<string, string[]>, placeholder = "default") {
  return html`<div class="actions">${(["minute", "hour", "day"] as const).map(
    (w) =>
      html`<div class="field"><label for="k-${w}">Per ${w}</label><input id="k-${w}" name="${w}" type="number" min="1" value="${v[w] ?? ""}" placeholder="${placeholder}">${fieldError(errors, `rateLimits.${w}`)}</div>`,
  )}</div>`;
}

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
  csrf: string,
  { key, usage, owner }: KeyPageData,
  range: UsageRange,
  opts: { notice?: string; created?: ApiKeyView; errors?: Record<string, string[]> } = {},
) {
  const errors = opts.errors ?? {};
  return page(
    { title: key.name, section: "/keys", csrf, charts: true },
    html`<p><a href="/keys">« Keys</a></p>
<h1>${key.name} <span class="mono muted">${key.prefix}</span> ${keyBadge(key)}</h1>
${noticeBox(opts.notice)}
${opts.created ? plaintextCard(opts.created) : ""}
${rangeTabs(`/keys/${key.id}`, range)}
${usageCharts(usage, range)}
<div class="grid">
<div class="card"><h2>Key</h2><dl class="facts">
<dt>Id</dt><dd>${key.id}</dd><dt>User</dt><dd><a href="/users/${key.userId}">${owner ? `${owner.name} (${owner.email})` : `#${key.userId}`}</a></dd>
<dt>Description</dt><dd>${key.description ?? "—"}</dd>
<dt>Limits</dt><dd>${limitsText(key)} (minute / hour / day)</dd>
<dt>Calls</dt><dd>${key.usageCount ?? 0}</dd><dt>Last used</dt><dd>${time(key.lastUsed)}</dd>
<dt>Created</dt><dd>${time(key.createdAt)}</dd><dt>Expires</dt><dd>${time(key.expiresAt)}</dd>
<dt>Alerts</dt><dd><a href="/alerts?apiKeyId=${key.id}">active</a> · <a href="/history?apiKeyId=${key.id}">history</a></dd>
${key.rotatedFromId ? html`<dt>Rotated from</dt><dd><a href="/keys/${key.rotatedFromId}">#${key.rotatedFromId}</a></dd>` : ""}
</dl>
<div class="actions spaced">
${
  // The keys service rotates only a key the edge accepts.
  key.state === "active"
    ? html`<form method="post" action="/keys/${key.id}/rotate" data-confirm="Rotate this key? The old key keeps working for the grace period.">${csrfField(csrf)}<button type="submit" class="secondary">Rotate</button></form>`
    : ""
}
<form method="post" action="/keys/${key.id}/${key.isActive ? "deactivate" : "activate"}">${csrfField(csrf)}<button type="submit" class="${key.isActive ? "danger" : "secondary"}">${key.isActive ? "Deactivate" : "Activate"}</button></form>
<form method="post" action="/keys/${key.id}/delete" data-confirm="Delete the key ${key.name}? The edge refuses it from now on. This cannot be undone; its recorded usage stays.">${csrfField(csrf)}<button type="submit" class="danger">Delete</button></form>
</div></div>
<div class="card"><h2>Edit</h2>
<form method="post" action="/keys/${key.id}">${csrfField(csrf)}
<div class="field"><label for="k-name">Name</label><input id="k-name" name="name" value="${key.name}">${fieldError(errors, "name")}</div>
<div class="field"><label for="k-desc">Description</label><input id="k-desc" name="description" value="${key.description ?? ""}">${fieldError(errors, "description")}</div>
${expiryField(expiryInput(key.expiresAt), errors, "Expires (UTC; blank: never)")}
<input type="hidden" name="expiresWas" value="${expiryInput(key.expiresAt)}">
${limitFields(
  Object.fromEntries(Object.entries(key.rateLimits).map(([k, n]) => [k, String(n)])),
  errors,
  "default",
)}
<p class="muted small">Blank resets a window to the default limit.</p>
${fieldError(errors, "(body)")}
<button type="submit">Save</button></form></div>
</div>`,
  );
}

/** A user's page: who they are, a form to change that, their keys, and deleting them. */
function userPage(
  csrf: string,
  { user, keys, more }: { user: UserView; keys: ApiKeyView[]; more: boolean },
  opts: { notice?: string; errors?: Record<string, string[]>; values?: Record<string, string> } = {},
) {
  const errors = opts.errors ?? {};
  const v = opts.values ?? {};
  const count = more ? `${keys.length}+` : String(keys.length);
  const keysWord = keys.length === 1 && !more ? "key" : "keys";
  return page(
    { title: user.name, section: "/keys", csrf },
    html`<p><a href="/keys">« Keys</a></p>
<h1>${user.name} <span class="muted">${user.email}</span></h1>
${noticeBox(opts.notice)}
<div class="grid">
<div class="card"><h2>User</h2><dl class="facts">
<dt>Id</dt><dd>${user.id}</dd><dt>Email</dt><dd>${user.email}</dd><dt>Created</dt><dd>${time(user.createdAt)}</dd>
<dt>Keys</dt><dd>${count} (<a href="/keys?userId=${user.id}">list, new key</a>)</dd>
<dt>Usage</dt><dd><a href="/usage?userId=${user.id}">requests, errors, busiest keys and endpoints</a></dd>
</dl>
<div class="actions spaced">
<form method="post" action="/users/${user.id}/delete" data-confirm="Delete ${user.name} and their ${count} ${keysWord}? The edge refuses ${keysWord === "key" ? "it" : "them"} from now on. This cannot be undone; their recorded usage stays.">${csrfField(csrf)}<button type="submit" class="danger">Delete user and ${keysWord}</button></form>
</div></div>
<div class="card"><h2>Edit</h2>
<form method="post" action="/users/${user.id}" id="edit-user">${csrfField(csrf)}
<div class="field"><label for="u-name">Name</label><input id="u-name" name="name" value="${v.name ?? user.name}" required>${fieldError(errors, "name")}</div>
<div class="field"><label for="u-email">Email</label><input id="u-email" name="email" type="email" value="${v.email ?? user.email}" required>${fieldError(errors, "email")}</div>
<button type="submit">Save</button></form></div>
</div>
<h2>Keys</h2>
${keysTable(csrf, keys, new Map([[user.id, user.name]]))}
${more ? html`<p><a href="/keys?userId=${user.id}">All of ${user.name}'s keys »</a></p>` : ""}`,
  );
}

const KEY_NOTICES: Record<string, string> = {
  saved: "Key saved.",
  activated: "Key activated.",
  deactivated: "Key deactivated: the edge refuses it from now on.",
  user: "User added.",
  "user-saved": "User saved.",
  "user-deleted": "User deleted, with their keys: the edge refuses them from now on.",
  "key-deleted": "Key deleted: the edge refuses it from now on.",
};

/** Users and keys: list, create (plaintext once), rotate, activate/deactivate, limits, usage charts. */
export function createKeyPages({ keys, clock }: PageDeps): Hono<ConsoleEnv> {
  const routes = new Hono<ConsoleEnv>();

  async function listData(filter: { userId?: string; search?: string } = {}, cursor?: string) {
    const uid = filter.userId && /^\d+$/.test(filter.userId) ? Number(filter.userId) : undefined;
    const search = filter.search?.trim() || undefined;
    const [users, list] = await Promise.all([
      keys.listUsers({ limit: 100 }),
      keys
        .listKeys({ userId: uid, search, cursor: cursor || undefined, limit: 50 })
        .catch((err: unknown) => ({ items: [], nextCursor: null, error: refusal(err, "search").text })),
    ]);
    return {
      users: users.items,
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
        c.get("csrf"),
        await listData(
          { userId: c.req.query("userId"), search: c.req.query("search") },
          c.req.query("cursor"),
        ),
        { notice },
      ),
    );
  });

  routes.post("/users", async (c) => {
    const form = await c.req.parseBody();
    const values = { userName: field(form, "name"), email: field(form, "email") };
    try {
      await keys.createUser({ name: values.userName, email: values.email });
    } catch (err) {
      const userErrors = refusal(err, "email", [400, 409]).byField;
      return c.html(keysPage(c.get("csrf"), await listData(), { userErrors, values }), 400);
    }
    return c.redirect("/keys?done=user", 303);
  });

  /** The first page of a user's keys, as many as the keys page shows. */
  async function userPageData(id: number) {
    const [user, list] = await Promise.all([keys.getUser(id), keys.listKeys({ userId: id, limit: 50 })]);
    return { user, keys: list.items, more: list.nextCursor !== null };
  }

  routes.get("/users/:id{[0-9]+}", async (c) => {
    const data = await userPageData(Number(c.req.param("id")));
    return c.html(userPage(c.get("csrf"), data, { notice: KEY_NOTICES[c.req.query("done") ?? ""] }));
  });

  routes.post("/users/:id{[0-9]+}", async (c) => {
    const id = Number(c.req.param("id"));
    const form = await c.req.parseBody();
    const values = { name: field(form, "name"), email: field(form, "email") };
    try {
      await keys.updateUser(id, values);
    } catch (err) {
      const errors = refusal(err, "email", [400, 409]).byField;
      return c.html(userPage(c.get("csrf"), await userPageData(id), { errors, values }), 400);
    }
    return c.redirect(`/users/${id}?done=user-saved`, 303);
  });

  routes.post("/users/:id{[0-9]+}/delete", async (c) => {
    await keys.deleteUser(Number(c.req.param("id")));
    return c.redirect("/keys?done=user-deleted", 303);
  });

  routes.post("/keys", async (c) => {
    const form = await c.req.parseBody();
    const values = Object.fromEntries(
      ["userId", "name", "description", "expiresAt", "minute", "hour", "day"].map((k) => [k, field(form, k)]),
    );
    let created: ApiKeyView;
    try {
      created = await keys.createKey({
        userId: Number(values.userId),
        name: values.name as string,
        ...(values.description && { description: values.description }),
        ...(values.expiresAt && { expiresAt: expiryFromForm(values.expiresAt) }),
        rateLimits: limitsFrom(form, undefined) as { minute?: number; hour?: number; day?: number },
      });
    } catch (err) {
      const keyErrors = refusal(err, "userId", [400, 404]).byField;
      // The list as it was before the form was sent; the form keeps the user it names.
      return c.html(keysPage(c.get("csrf"), await listData(), { keyErrors, values }), 400);
    }
    // Rendered, not redirected: the plaintext must not travel in a URL or be shown twice.
    return c.html(keysPage(c.get("csrf"), await listData(), { created, notice: "Key created." }));
  });

  routes.get("/keys/:id{[0-9]+}", async (c) => {
    const id = Number(c.req.param("id"));
    const range = rangeOf(c.req.query("range"));
    const data = await keyPageData(id, range);
    return c.html(keyPage(c.get("csrf"), data, range, { notice: KEY_NOTICES[c.req.query("done") ?? ""] }));
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
      const data = await keyPageData(id, "24h");
      return c.html(keyPage(c.get("csrf"), data, "24h", { errors }), 400);
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
      keyPage(c.get("csrf"), await keyPageData(created.id, "24h", created), "24h", {
        created,
        notice: "Key rotated: the old key keeps working for the grace period.",
      }),
    );
  });

  return routes;
}
