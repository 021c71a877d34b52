import type { ApiKeyView, UserView } from "@apimon/client";
import { Hono } from "hono";
import { html } from "hono/html";
import { type ConsoleEnv, field, type PageDeps, refusal } from "../context";
import {
  csrfField,
  errorBox,
  fieldError,
  mayChange,
  noticeBox,
  page,
  type SignedIn,
  time,
  withParams,
} from "../views/layout";
import { changesOf } from "./activity";
import { KEYS_PER_PAGE, keyFormValues, keysTable, newKeyFields, newKeyInput, plaintextCard } from "./keys";

/** Users a page of the users list shows; as many as a page of the keys list. */
const USERS_PER_PAGE = 50;

const USER_NOTICES: Record<string, string> = {
  user: "User added: create their first key below.",
  "user-saved": "User saved.",
  "user-deleted": "User deleted, with their keys: the edge refuses them from now on.",
};

/** What the users page shows: a page of users found by the keys API's search. */
interface UsersPageData {
  users: UserView[];
  nextCursor: string | null;
  search?: string;
  cursor?: string;
  /** The keys API's refusal of the search, shown instead of the list. */
  error?: string;
}

function usersTable(data: UsersPageData) {
  if (data.users.length === 0) {
    return html`<div class="card muted">${data.search ? `No user has “${data.search}” in their name or email.` : "No users yet."}</div>`;
  }
  return html`<div class="table"><table class="stack"><thead><tr><th>#</th><th>Name</th><th>Email</th><th>Created</th></tr></thead><tbody>${data.users.map(
    (u) =>
      html`<tr data-user-id="${u.id}"><td class="whole" data-label="#"><a href="/users/${u.id}">${u.id}</a></td><td data-label="Name"><a href="/users/${u.id}">${u.name}</a></td><td data-label="Email">${u.email}</td><td data-label="Created">${time(u.createdAt)}</td></tr>`,
  )}</tbody></table></div>`;
}

/** The users, found by name or email and paged with the API's cursor; a form to add one. */
function usersPage(
  signedIn: SignedIn,
  data: UsersPageData,
  opts: { notice?: string; errors?: Record<string, string[]>; values?: Record<string, string> } = {},
) {
  const errors = opts.errors ?? {};
  const v = opts.values ?? {};
  return page(
    { title: "Users", section: "/users", signedIn },
    html`<h1>Users</h1>
${noticeBox(opts.notice)}
<form class="filters" method="get" action="/users">
<div><label for="f-search">Name or email contains</label><input id="f-search" name="search" value="${data.search ?? ""}" placeholder="ada, @example.com"></div>
<div><button type="submit">Find</button></div></form>
${errorBox(data.error)}
${data.error ? "" : usersTable(data)}
<div class="pager">${data.cursor ? html`<a class="button secondary" href="${withParams("/users", { search: data.search })}">« First page</a>` : ""}
${data.nextCursor ? html`<a class="button secondary" href="${withParams("/users", { search: data.search, cursor: data.nextCursor })}">Next page »</a>` : ""}</div>
${
  // The card beside the form says what a user's page changes: a viewer has neither.
  mayChange(signedIn)
    ? html`<div class="grid">
<div class="card"><h2>Add user</h2>
<form method="post" action="/users" id="create-user">${csrfField(signedIn)}
<div class="field"><label for="u-name">Name</label><input id="u-name" name="name" value="${v.name ?? ""}" required>${fieldError(errors, "name")}</div>
<div class="field"><label for="u-email">Email</label><input id="u-email" name="email" type="email" value="${v.email ?? ""}" required>${fieldError(errors, "email")}</div>
<button type="submit">Add user</button></form></div>
<div class="card"><h2>Keys of a user</h2>
<p class="muted">A user's page lists their keys and creates one for them, with the plaintext shown once; it also changes their name or email, shows their usage, and deletes them with their keys.</p></div>
</div>`
    : ""
}`,
  );
}

/** What a user's page shows: the user and the first page of their keys. */
interface UserPageData {
  user: UserView;
  keys: ApiKeyView[];
  /** They have more keys than the page shows. */
  more: boolean;
}

/** A user's page: who they are, a form to change that, a new key for them, their keys, and deleting them. */
function userPage(
  signedIn: SignedIn,
  { user, keys, more }: UserPageData,
  opts: {
    notice?: string;
    errors?: Record<string, string[]>;
    values?: Record<string, string>;
    created?: ApiKeyView;
    keyErrors?: Record<string, string[]>;
    keyValues?: Record<string, string>;
  } = {},
) {
  const errors = opts.errors ?? {};
  const v = opts.values ?? {};
  const count = more ? `${keys.length}+` : String(keys.length);
  const keysWord = keys.length === 1 && !more ? "key" : "keys";
  const canChange = mayChange(signedIn);
  return page(
    { title: user.name, section: "/users", signedIn },
    html`<p><a href="/users">« Users</a></p>
<h1>${user.name} <span class="muted">${user.email}</span></h1>
${noticeBox(opts.notice)}
${opts.created ? plaintextCard(opts.created) : ""}
<div class="grid">
<div class="card"><h2>User</h2><dl class="facts">
<dt>Id</dt><dd>${user.id}</dd><dt>Email</dt><dd>${user.email}</dd><dt>Created</dt><dd>${time(user.createdAt)}</dd>
<dt>Keys</dt><dd>${count} (<a href="/keys?userId=${user.id}">in the keys list</a>)</dd>
<dt>Usage</dt><dd><a href="/usage?userId=${user.id}">requests and response times over time, busiest keys and endpoints</a></dd>
${
  // The link opens the channels form filled in for this user, which a viewer could not send.
  canChange
    ? html`<dt>Alerts</dt><dd><a href="/channels?userId=${user.id}#create-channel" id="user-channel">Create a channel for this user</a>: it hears only of alerts about their keys</dd>`
    : ""
}
<dt>Changes</dt><dd><a href="${changesOf("user", user.id)}" id="user-changes">who changed this user, and when</a></dd>
</dl>
${
  canChange
    ? html`<div class="actions spaced">
<form method="post" action="/users/${user.id}/delete" data-confirm="Delete ${user.name} and their ${count} ${keysWord}? The edge refuses ${keysWord === "key" ? "it" : "them"} from now on. This cannot be undone; their recorded usage stays.">${csrfField(signedIn)}<button type="submit" class="danger">Delete user and ${keysWord}</button></form>
</div>`
    : ""
}</div>
${
  // The facts above show the name and email the edit form holds.
  canChange
    ? html`<div class="card"><h2>Edit</h2>
<form method="post" action="/users/${user.id}" id="edit-user">${csrfField(signedIn)}
<div class="field"><label for="u-name">Name</label><input id="u-name" name="name" value="${v.name ?? user.name}" required>${fieldError(errors, "name")}</div>
<div class="field"><label for="u-email">Email</label><input id="u-email" name="email" type="email" value="${v.email ?? user.email}" required>${fieldError(errors, "email")}</div>
<button type="submit">Save</button></form></div>
<div class="card"><h2>New key for ${user.name}</h2>
<form method="post" action="/users/${user.id}/keys" id="create-key">${csrfField(signedIn)}
${newKeyFields(opts.keyValues ?? {}, opts.keyErrors ?? {})}
<button type="submit">Create key</button></form></div>`
    : ""
}
</div>
<h2>Keys</h2>
${keysTable(signedIn, keys, new Map([[user.id, user.name]]))}
${more ? html`<p><a href="/keys?userId=${user.id}">All of ${user.name}'s keys »</a></p>` : ""}`,
  );
}

/** Users: find them, add one, and a page per user with their keys and a new key for them. */
export function createUserPages({ keys }: PageDeps): Hono<ConsoleEnv> {
  const routes = new Hono<ConsoleEnv>();

  async function usersData(query: { search?: string; cursor?: string } = {}): Promise<UsersPageData> {
    const search = query.search?.trim() || undefined;
    const cursor = query.cursor || undefined;
    const list = await keys
      .listUsers({ search, cursor, limit: USERS_PER_PAGE })
      .catch((err: unknown) => ({ items: [], nextCursor: null, error: refusal(err, "search").text }));
    return {
      users: list.items,
      nextCursor: list.nextCursor,
      search,
      cursor,
      error: "error" in list ? list.error : undefined,
    };
  }

  /** The first page of a user's keys, as many as the keys page shows. */
  async function userPageData(id: number): Promise<UserPageData> {
    const [user, list] = await Promise.all([
      keys.getUser(id),
      keys.listKeys({ userId: id, limit: KEYS_PER_PAGE }),
    ]);
    return { user, keys: list.items, more: list.nextCursor !== null };
  }

  routes.get("/users", async (c) => {
    const data = await usersData({ search: c.req.query("search"), cursor: c.req.query("cursor") });
    return c.html(usersPage(c.get("signedIn"), data, { notice: USER_NOTICES[c.req.query("done") ?? ""] }));
  });

  routes.post("/users", async (c) => {
    const form = await c.req.parseBody();
    const values = { name: field(form, "name"), email: field(form, "email") };
    let user: UserView;
    try {
      user = await keys.createUser(values);
    } catch (err) {
      const errors = refusal(err, "email", [400, 409]).byField;
      return c.html(usersPage(c.get("signedIn"), await usersData(), { errors, values }), 400);
    }
    // Their page: where their first key is made.
    return c.redirect(`/users/${user.id}?done=user`, 303);
  });

  routes.get("/users/:id{[0-9]+}", async (c) => {
    const data = await userPageData(Number(c.req.param("id")));
    return c.html(userPage(c.get("signedIn"), data, { notice: USER_NOTICES[c.req.query("done") ?? ""] }));
  });

  routes.post("/users/:id{[0-9]+}", async (c) => {
    const id = Number(c.req.param("id"));
    const form = await c.req.parseBody();
    const values = { name: field(form, "name"), email: field(form, "email") };
    try {
      await keys.updateUser(id, values);
    } catch (err) {
      const errors = refusal(err, "email", [400, 409]).byField;
      return c.html(userPage(c.get("signedIn"), await userPageData(id), { errors, values }), 400);
    }
    return c.redirect(`/users/${id}?done=user-saved`, 303);
  });

  // The key is for the user of the page: the form has no user to choose.
  routes.post("/users/:id{[0-9]+}/keys", async (c) => {
    const id = Number(c.req.param("id"));
    const keyValues = keyFormValues(await c.req.parseBody());
    let created: ApiKeyView;
    try {
      created = await keys.createKey(newKeyInput(id, keyValues));
    } catch (err) {
      // A user deleted meanwhile is a 404: the page cannot be shown, its error page says why.
      const keyErrors = refusal(err, "(body)").byField;
      return c.html(userPage(c.get("signedIn"), await userPageData(id), { keyErrors, keyValues }), 400);
    }
    // Rendered, not redirected: the plaintext must not travel in a URL or be shown twice.
    return c.html(userPage(c.get("signedIn"), await userPageData(id), { created, notice: "Key created." }));
  });

  routes.post("/users/:id{[0-9]+}/delete", async (c) => {
    await keys.deleteUser(Number(c.req.param("id")));
    return c.redirect("/users?done=user-deleted", 303);
  });

  return routes;
}
