import type { NewOperatorView, OperatorView } from "@apimon/client";
import { operatorRoles } from "@apimon/config";
import { MAX_PAGE_SIZE } from "@apimon/http";
import { Hono } from "hono";
import { html } from "hono/html";
import { type ConsoleEnv, field, type PageDeps, refusal } from "../context";
import {
  badge,
  csrfField,
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

const OPERATOR_NOTICES: Record<string, string> = {
  revoked: "Token revoked: it no longer works, in the console or the APIs.",
};

/** The address of the changes an operator's token made. */
export const changesBy = (operatorId: number) => withParams("/activity", { operatorId: String(operatorId) });

/** A new operator's token, shown once on the answer to the form, with a copy button. */
function tokenCard(created: NewOperatorView) {
  return html`<div class="card" id="new-operator"><h2>The new token (shown once)</h2>
<p class="muted">Copy it now and hand it to ${created.name}: only its hash is stored, it cannot be shown again. It signs in to this console and calls the admin APIs as <code>Authorization: Bearer …</code>.</p>
<div class="secret"><code id="operator-token">${created.token}</code><button type="button" data-copy="operator-token">Copy</button></div>
<p class="small">Operator #${created.id} · ${created.name} · ${created.role} · prefix <code>${created.tokenPrefix}</code></p></div>`;
}

function operatorRow(signedIn: SignedIn, op: OperatorView) {
  const yourself = signedIn.operator?.id === op.id;
  const revoke =
    op.revokedAt === null && mayChange(signedIn)
      ? html`<form method="post" action="/operators/${op.id}/revoke" data-confirm="${
          yourself
            ? "Revoke your own token? You are signed out at once."
            : `Revoke ${op.name}'s token? It stops working at once, in the console and the APIs; ${op.name} stays listed.`
        }">${csrfField(signedIn)}<button type="submit" class="danger">Revoke</button></form>`
      : "";
  return html`<tr id="operator-${op.id}" data-operator-id="${op.id}" class="${op.revokedAt === null ? "" : "revoked"}"><td data-label="#">${op.id}</td>
<td data-label="Name">${op.name}${yourself ? html` <span class="muted small">(you)</span>` : ""}</td><td data-label="Role">${op.role}</td>
<td class="mono" data-label="Token">${op.tokenPrefix}…</td><td data-label="Created">${time(op.createdAt)}</td><td data-label="Last used">${time(op.lastUsedAt)}</td>
<td data-label="State">${op.revokedAt === null ? badge("on") : html`${badge("revoked")} ${time(op.revokedAt)}`}</td>
<td><div class="actions"><a class="button secondary" href="${changesBy(op.id)}" title="The changes made with ${op.name}'s token">Changes made</a>
<a class="button secondary" href="${changesOf("operator", op.id)}" title="When ${op.name} was created and revoked">History</a>${revoke}</div></td></tr>`;
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
${noticeBox(opts.notice)}
${opts.created ? tokenCard(opts.created) : ""}
<p class="muted">People and scripts with a token of their own for this console and the admin APIs, beside the stack's admin token. The Activity page names who made each change. Revoking a token stops it at the next request; the operator stays listed.</p>
<div class="grid">
${form}
<div class="card"><h2>Roles</h2><dl class="facts">${operatorRoles.map((r) => html`<dt>${r}</dt><dd>${ROLE_HINTS[r]}</dd>`)}</dl>
${mayChange(signedIn) ? "" : html`<p class="muted small">Only an admin adds or revokes operators.</p>`}</div>
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

/** Operators: who has a token, a new one (its token shown once), and revoking one. */
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
    const notice = Object.hasOwn(OPERATOR_NOTICES, c.req.query("done") ?? "")
      ? OPERATOR_NOTICES[c.req.query("done") as string]
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

  routes.post("/operators/:id{[0-9]+}/revoke", async (c) => {
    const id = Number(c.req.param("id"));
    await keys.revokeOperator(id);
    return c.redirect(`/operators?done=revoked#operator-${id}`, 303);
  });

  return routes;
}
