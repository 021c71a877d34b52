import type { NewOperatorView, OperatorView, UpdateOperatorInput } from "@apimon/client";
import { type OperatorRole, operatorRoles } from "@apimon/config";
import { MAX_PAGE_SIZE } from "@apimon/http";
import { type Context, Hono } from "hono";
import { html } from "hono/html";
import { type ConsoleEnv, field, type PageDeps, refusal } from "../context";
import {
  badge,
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

/** What each role may do, as the form and the list say it. */
const ROLE_HINTS: Record<(typeof operatorRoles)[number], string> = {
  admin: "everything the admin token may do, operators included",
  viewer: "reads only: every page, no change",
};

const OPERATOR_NOTICES = {
  revoked: "Token revoked: it no longer works, in the console or the APIs.",
  role: "Role changed: it holds from the operator's next request, in the console and the APIs; their token stays the same.",
  renamed:
    "Operator renamed: the changes they make from now on carry the new name; earlier ones keep the old.",
} as const;

/** The address of the changes an operator's token made. */
export const changesBy = (operatorId: number) => withParams("/activity", { operatorId: String(operatorId) });

/** A new operator's token, shown once on the answer to the form, with a copy button. */
function tokenCard(created: NewOperatorView) {
  return html`<div class="card" id="new-operator"><h2>The new token (shown once)</h2>
<p class="muted">Copy it now and hand it to ${created.name}: only its hash is stored, it cannot be shown again. It signs in to this console and calls the admin APIs as <code>Authorization: Bearer …</code>.</p>
<div class="secret"><code id="operator-token">${created.token}</code><button type="button" data-copy="operator-token">Copy</button></div>
<p class="small">Operator #${created.id} · ${created.name} · ${created.role} · prefix <code>${created.tokenPrefix}</code></p></div>`;
}

/**
 * The role of an active operator as a form that changes it, for an admin: changing your own can
 * only make you a viewer (you are an admin to see the form), so that asks first.
 */
function roleForm(signedIn: SignedIn, op: OperatorView, yourself: boolean) {
  const confirm = yourself
    ? "Make yourself a viewer? From your next page you may only read; another admin can make you an admin again."
    : undefined;
  return html`<form method="post" action="/operators/${op.id}/role" class="inline role"${confirm ? html` data-confirm="${confirm}"` : ""}>${csrfField(signedIn)}<label class="visually-hidden" for="role-${op.id}">Role of ${op.name}</label><select id="role-${op.id}" name="role">${operatorRoles.map(
    (r) => html`<option value="${r}" ${r === op.role ? "selected" : ""}>${r}</option>`,
  )}</select><button type="submit" class="secondary">Change role</button></form>`;
}

/** Another name for an active operator, behind a Rename button (the row stays short until then). */
function renameForm(signedIn: SignedIn, op: OperatorView) {
  return html`<details class="rename"><summary class="button secondary">Rename</summary><form method="post" action="/operators/${op.id}/rename" class="inline">${csrfField(signedIn)}<label class="visually-hidden" for="name-${op.id}">New name of ${op.name}</label><input id="name-${op.id}" name="name" value="${op.name}" required><button type="submit">Save name</button></form></details>`;
}

function operatorRow(signedIn: SignedIn, op: OperatorView) {
  const yourself = signedIn.operator?.id === op.id;
  const changeable = op.revokedAt === null && mayChange(signedIn);
  const revoke = changeable
    ? html`<form method="post" action="/operators/${op.id}/revoke" data-confirm="${
        yourself
          ? "Revoke your own token? You are signed out at once."
          : `Revoke ${op.name}'s token? It stops working at once, in the console and the APIs; ${op.name} stays listed.`
      }">${csrfField(signedIn)}<button type="submit" class="danger">Revoke</button></form>`
    : "";
  return html`<tr id="operator-${op.id}" data-operator-id="${op.id}" class="${op.revokedAt === null ? "" : "revoked"}"><td class="whole" data-label="#">${op.id}</td>
<td data-label="Name">${op.name}${yourself ? html` <span class="muted small">(you)</span>` : ""}</td><td data-label="Role">${changeable ? roleForm(signedIn, op, yourself) : op.role}</td>
<td class="mono whole" data-label="Token">${op.tokenPrefix}…</td><td data-label="Created">${time(op.createdAt)}</td><td data-label="Last used">${time(op.lastUsedAt)}</td>
<td data-label="State">${op.revokedAt === null ? badge("on") : html`${badge("revoked")} ${time(op.revokedAt)}`}</td>
<td><div class="actions"><a class="button secondary" href="${changesBy(op.id)}" title="The changes made with ${op.name}'s token">Changes made</a>
<a class="button secondary" href="${changesOf("operator", op.id)}" title="When ${op.name} was created, changed and revoked">History</a>${changeable ? renameForm(signedIn, op) : ""}${revoke}</div></td></tr>`;
}

function operatorsTable(signedIn: SignedIn, operators: OperatorView[], id: string, empty: string) {
  if (operators.length === 0) return html`<div class="card muted" id="${id}">${empty}</div>`;
  return html`<div class="table"><table class="stack operators" id="${id}"><thead><tr><th>#</th><th>Name</th><th>Role</th><th>Token</th><th>Created</th><th>Last used</th><th>State</th><th></th></tr></thead>
<tbody>${operators.map((op) => operatorRow(signedIn, op))}</tbody></table></div>`;
}

/** What the operators page shows. */
interface OperatorsPageData {
  active: OperatorView[];
  revoked: OperatorView[];
  /** There are more operators than the page lists. */
  more: boolean;
}

function operatorsPage(
  signedIn: SignedIn,
  data: OperatorsPageData,
  opts: {
    notice?: string;
    /** The API's refusal of a change to one operator, said above the lists. */
    error?: string;
    created?: NewOperatorView;
    errors?: Record<string, string[]>;
    values?: Record<string, string>;
  } = {},
) {
  const errors = opts.errors ?? {};
  const role = opts.values?.role ?? "viewer";
  const form = mayChange(signedIn)
    ? html`<div class="card"><h2>New operator</h2>
<form method="post" action="/operators" id="create-operator">${csrfField(signedIn)}
<div class="field"><label for="op-name">Name</label><input id="op-name" name="name" value="${opts.values?.name ?? ""}" required placeholder="alice, deploy-bot">${fieldError(errors, "name")}</div>
<div class="field"><label for="op-role">Role</label><select id="op-role" name="role">${operatorRoles.map(
        (r) => html`<option value="${r}" ${r === role ? "selected" : ""}>${r}: ${ROLE_HINTS[r]}</option>`,
      )}</select>${fieldError(errors, "role")}</div>
${fieldError(errors, "(body)")}
<button type="submit">Create operator</button></form></div>`
    : "";
  return page(
    { title: "Operators", section: "/operators", signedIn },
    html`<h1>Operators</h1>
${noticeBox(opts.notice)}${errorBox(opts.error)}
${opts.created ? tokenCard(opts.created) : ""}
<p class="muted">People and scripts with a token of their own for this console and the admin APIs, beside the stack's admin token. The Activity page names who made each change. A changed role holds from the operator's next request, with the same token. Revoking a token stops it at the next request; the operator stays listed.</p>
<div class="grid">
${form}
<div class="card"><h2>Roles</h2><dl class="facts">${operatorRoles.map((r) => html`<dt>${r}</dt><dd>${ROLE_HINTS[r]}</dd>`)}</dl>
${mayChange(signedIn) ? "" : html`<p class="muted small">Only an admin adds, changes or revokes operators.</p>`}</div>
</div>
<h2>Active</h2>
${operatorsTable(signedIn, data.active, "active-operators", "No operators yet: the admin token is the only one.")}
<h2>Revoked</h2>
${operatorsTable(signedIn, data.revoked, "revoked-operators", "No token revoked.")}
${data.more ? html`<p class="muted small">The first ${MAX_PAGE_SIZE * OPERATOR_PAGES} operators are listed.</p>` : ""}`,
  );
}

/** Pages of operators the page reads at most: enough for any team, bounded for any mistake. */
const OPERATOR_PAGES = 5;

/** Operators: who has a token, a new one (its token shown once), changing one's role or name, and revoking one. */
export function createOperatorPages({ keys }: PageDeps): Hono<ConsoleEnv> {
  const routes = new Hono<ConsoleEnv>();

  async function listData(): Promise<OperatorsPageData> {
    const all: OperatorView[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < OPERATOR_PAGES; i++) {
      const list = await keys.listOperators({ cursor, limit: MAX_PAGE_SIZE });
      all.push(...list.items);
      cursor = list.nextCursor ?? undefined;
      if (cursor === undefined) break;
    }
    return {
      active: all.filter((op) => op.revokedAt === null),
      revoked: all.filter((op) => op.revokedAt !== null),
      more: cursor !== undefined,
    };
  }

  routes.get("/operators", async (c) => {
    const done = c.req.query("done") ?? "";
    const notice = Object.hasOwn(OPERATOR_NOTICES, done)
      ? OPERATOR_NOTICES[done as keyof typeof OPERATOR_NOTICES]
      : undefined;
    return c.html(operatorsPage(c.get("signedIn"), await listData(), { notice }));
  });

  routes.post("/operators", async (c) => {
    const form = await c.req.parseBody();
    const values = { name: field(form, "name"), role: field(form, "role") };
    let created: NewOperatorView;
    try {
      created = await keys.createOperator({
        name: values.name,
        role: values.role as (typeof operatorRoles)[number],
      });
    } catch (err) {
      const errors = refusal(err, "(body)").byField;
      return c.html(operatorsPage(c.get("signedIn"), await listData(), { errors, values }), 400);
    }
    // Rendered, not redirected: the token must not travel in a URL or be shown twice.
    return c.html(
      operatorsPage(c.get("signedIn"), await listData(), {
        created,
        notice: `Operator ${created.name} created.`,
      }),
    );
  });

  /**
   * Sends one change of an operator's `what` to the keys API and goes back to their row with
   * `done`; a refusal (revoked meanwhile: 409; a bad value: 400) is said above the lists.
   */
  async function change(
    c: Context<ConsoleEnv>,
    what: "role" | "name",
    patch: UpdateOperatorInput,
    done: keyof typeof OPERATOR_NOTICES,
  ) {
    const id = Number(c.req.param("id"));
    try {
      await keys.updateOperator(id, patch);
    } catch (err) {
      const { text } = refusal(err, what, [400, 409]);
      const data = await listData();
      const name = [...data.active, ...data.revoked].find((op) => op.id === id)?.name;
      const error = `${name ?? `Operator #${id}`}'s ${what} was not changed: ${text}`;
      return c.html(operatorsPage(c.get("signedIn"), data, { error }), 400);
    }
    return c.redirect(`/operators?done=${done}#operator-${id}`, 303);
  }

  routes.post("/operators/:id{[0-9]+}/role", async (c) => {
    const role = field(await c.req.parseBody(), "role") as OperatorRole;
    return change(c, "role", { role }, "role");
  });

  routes.post("/operators/:id{[0-9]+}/rename", async (c) => {
    const name = field(await c.req.parseBody(), "name");
    return change(c, "name", { name }, "renamed");
  });

  routes.post("/operators/:id{[0-9]+}/revoke", async (c) => {
    const id = Number(c.req.param("id"));
    await keys.revokeOperator(id);
    return c.redirect(`/operators?done=revoked#operator-${id}`, 303);
  });

  return routes;
}
