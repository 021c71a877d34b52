import { lockRowForUpdate, newOperatorToken, type Prisma, type PrismaClient, recordAudit } from "@apimon/db";
import {
  type AppEnv,
  adminErrorResponses,
  auditActor,
  BODY_TOO_LARGE,
  conflict,
  describeListRoute,
  describeRoute,
  jsonBody,
  jsonResponse,
  notFound,
  OpenAPIHono,
  parseOr400,
  readJson,
  readResponses,
  toPage,
} from "@apimon/http";
import type { Context } from "hono";
import { operatorCreated, operatorRevoked, operatorUpdated } from "../domain/audit-entries";
import {
  createOperatorSchema,
  idParamSchema,
  listOperatorsQuerySchema,
  updateOperatorSchema,
} from "../schemas";
import { callerSchema, newOperatorSchema, operatorSchema, operatorView } from "../views";

const tags = ["Operators"];

/**
 * `/operators`: people and scripts with an admin API token of their own, beside the admin token.
 * Each token is shown once, when it is made, and kept only as its SHA-256; revoking it keeps the
 * operator's row, so that the audit log's rows keep naming who made them. The keys and alerts
 * services both admit these tokens; a viewer's may only read.
 */
export function createOperatorRoutes({ prisma }: { prisma: PrismaClient }): OpenAPIHono<AppEnv> {
  const routes = new OpenAPIHono<AppEnv>();
  const pathId = (c: Context) => parseOr400(idParamSchema, c.req.param(), "path").id;

  // Before `/{id}`, which would take "me" for an id.
  describeRoute(
    routes,
    {
      method: "get",
      path: "/me",
      summary: "Who this token belongs to",
      description:
        "The operator whose token the request carries, or null for the admin token, and what it may do.",
      tags,
      responses: { 200: jsonResponse(callerSchema, "The caller"), ...adminErrorResponses({}) },
    },
    (c) => {
      const operator = c.get("operator") ?? null;
      return c.json({
        operator: operator && { id: operator.id, name: operator.name, role: operator.role },
        role: operator?.role ?? "admin",
      });
    },
  );

  describeRoute(
    routes,
    {
      method: "post",
      path: "/",
      summary: "Make an operator and its token",
      description:
        "The answer's `token` is the only time the token is shown. `role`: `viewer` (the default) may only " +
        "read; `admin` may do everything the admin token may, operators included.",
      tags,
      request: { body: jsonBody(createOperatorSchema) },
      responses: {
        201: jsonResponse(newOperatorSchema, "Created; the token is in `token`"),
        ...adminErrorResponses({ 400: "Invalid body (`errors` lists the fields)", 413: BODY_TOO_LARGE }),
      },
    },
    async (c) => {
      const body = await readJson(c, createOperatorSchema);
      const { token, tokenHash, tokenPrefix } = newOperatorToken();
      const operator = await prisma.$transaction(async (tx) => {
        const created = await tx.operator.create({ data: { ...body, tokenHash, tokenPrefix } });
        await recordAudit(tx, auditActor(c), operatorCreated(created));
        return created;
      });
      c.get("logger").info({ operatorId: operator.id, role: operator.role }, "operator created");
      return c.json({ ...operatorView(operator), token }, 201);
    },
  );

  describeListRoute(
    routes,
    {
      path: "/",
      summary: "List operators",
      description: "By id; `revoked=false` lists only the operators whose token works.",
      tags,
      query: listOperatorsQuerySchema,
      item: operatorSchema,
      page: "A page of operators, by id",
    },
    async (c, { cursor, limit, revoked }) => {
      const where: Prisma.OperatorWhereInput = {
        ...(cursor !== undefined && { id: { gt: cursor } }),
        ...(revoked !== undefined && { revokedAt: revoked === "true" ? { not: null } : null }),
      };
      const rows = await prisma.operator.findMany({ where, orderBy: { id: "asc" }, take: limit + 1 });
      const page = toPage(rows, limit);
      return c.json({ items: page.items.map(operatorView), nextCursor: page.nextCursor });
    },
  );

  describeRoute(
    routes,
    {
      method: "get",
      path: "/{id}",
      summary: "Get an operator",
      tags,
      request: { params: idParamSchema },
      responses: readResponses(operatorSchema, "The operator", "Operator not found"),
    },
    async (c) => {
      const operator = await prisma.operator.findUnique({ where: { id: pathId(c) } });
      if (!operator) throw notFound("Operator not found");
      return c.json(operatorView(operator));
    },
  );

  describeRoute(
    routes,
    {
      method: "patch",
      path: "/{id}",
      summary: "Rename an operator or change its role",
      description:
        "The token stays the same; a new role holds from its next request, on both services. " +
        "A revoked operator cannot be changed (409).",
      tags,
      request: { params: idParamSchema, body: jsonBody(updateOperatorSchema) },
      responses: {
        200: jsonResponse(operatorSchema, "The operator, changed"),
        ...adminErrorResponses({
          400: "Invalid path or body (`errors` lists the fields)",
          404: "Operator not found",
          409: "The operator's token is revoked",
          413: BODY_TOO_LARGE,
        }),
      },
    },
    async (c) => {
      const id = pathId(c);
      const body = await readJson(c, updateOperatorSchema);
      const operator = await prisma.$transaction(async (tx) => {
        if (!(await lockRowForUpdate(tx, "operators", id))) throw notFound("Operator not found");
        const before = await tx.operator.findUniqueOrThrow({ where: { id } });
        if (before.revokedAt !== null)
          throw conflict("Operator's token is revoked: make a new operator instead");
        const updated = await tx.operator.update({ where: { id }, data: body });
        // Setting the values it already had changes nothing, and leaves no audit row.
        const entry = operatorUpdated(before, updated);
        if (entry) await recordAudit(tx, auditActor(c), entry);
        return updated;
      });
      c.get("logger").info(
        { operatorId: id, changed: Object.keys(body), role: operator.role },
        "operator updated",
      );
      return c.json(operatorView(operator));
    },
  );

  describeRoute(
    routes,
    {
      method: "post",
      path: "/{id}/revoke",
      summary: "Revoke an operator's token",
      description:
        "The token stops working at the next request, on both services. The operator stays listed, " +
        "with `revokedAt`; revoking it again changes nothing.",
      tags,
      request: { params: idParamSchema },
      responses: {
        200: jsonResponse(operatorSchema, "The operator, revoked"),
        ...adminErrorResponses({
          400: "Invalid path (`errors` lists the fields)",
          404: "Operator not found",
        }),
      },
    },
    async (c) => {
      const id = pathId(c);
      const { operator, changed } = await prisma.$transaction(async (tx) => {
        if (!(await lockRowForUpdate(tx, "operators", id))) throw notFound("Operator not found");
        const before = await tx.operator.findUniqueOrThrow({ where: { id } });
        if (before.revokedAt !== null) return { operator: before, changed: false };
        const revoked = await tx.operator.update({ where: { id }, data: { revokedAt: new Date() } });
        await recordAudit(tx, auditActor(c), operatorRevoked(revoked));
        return { operator: revoked, changed: true };
      });
      if (changed) c.get("logger").info({ operatorId: id }, "operator token revoked");
      return c.json(operatorView(operator));
    },
  );

  return routes;
}
