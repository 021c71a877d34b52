import { lockRowForUpdate, type Prisma, type PrismaClient, recordAudit, type User } from "@apimon/db";
import {
  type AppEnv,
  adminErrorResponses,
  auditActor,
  BODY_TOO_LARGE,
  deleteResponses,
  describeListRoute,
  describeRoute,
  jsonBody,
  jsonResponse,
  notFound,
  OpenAPIHono,
  parseOr400,
  readJson,
  toPage,
} from "@apimon/http";
import type { Context } from "hono";
import { keyDeleted, userCreated, userDeleted, userUpdated } from "../domain/audit-entries";
import { changeKeys, enqueueKeyTombstone, type Tx } from "../outbox";
import { createUserSchema, idParamSchema, listUsersQuerySchema, updateUserSchema } from "../schemas";
import { userSchema, userView } from "../views";

export interface UserRoutesDeps {
  prisma: PrismaClient;
  /** Called once a change of keys and its outbox rows have committed (main.ts: wake the relay). */
  onKeyChangesQueued?: () => void;
}

const tags = ["Users"];

/**
 * The user's row, locked until the transaction ends, so that what it was before a change (for
 * the audit row) cannot go stale under a concurrent one. Null when there is no such user.
 */
async function lockedUser(tx: Tx, id: number): Promise<User | null> {
  return (await lockRowForUpdate(tx, "users", id)) ? tx.user.findUnique({ where: { id } }) : null;
}

/** `/users`: the owners of API keys. */
export function createUserRoutes({
  prisma,
  onKeyChangesQueued = () => {},
}: UserRoutesDeps): OpenAPIHono<AppEnv> {
  const routes = new OpenAPIHono<AppEnv>();
  const pathId = (c: Context) => parseOr400(idParamSchema, c.req.param(), "path").id;

  describeRoute(
    routes,
    {
      method: "post",
      path: "/",
      summary: "Create a user",
      tags,
      request: { body: jsonBody(createUserSchema) },
      responses: {
        201: jsonResponse(userSchema, "Created"),
        ...adminErrorResponses({
          400: "Invalid body (`errors` lists the fields)",
          409: "A user with this email already exists",
          413: BODY_TOO_LARGE,
        }),
      },
    },
    async (c) => {
      const body = await readJson(c, createUserSchema);
      // A duplicate email fails on users_email_key: 409, mapped with the other database errors.
      const user = await prisma.$transaction(async (tx) => {
        const created = await tx.user.create({ data: body });
        await recordAudit(tx, auditActor(c), userCreated(created));
        return created;
      });
      c.get("logger").info({ userId: user.id }, "user created");
      return c.json(userView(user), 201);
    },
  );

  describeListRoute(
    routes,
    {
      path: "/",
      summary: "List users",
      description:
        "`ids=3,7,12`: only those users (up to 100; ids of deleted users are left out). " +
        "`search`: users whose name or email contains it (any case).",
      tags,
      query: listUsersQuerySchema,
      item: userSchema,
      page: "A page of users, by id",
    },
    async (c, { cursor, limit, ids, search }) => {
      const filters: Prisma.UserWhereInput[] = [];
      if (cursor !== undefined) filters.push({ id: { gt: cursor } });
      if (ids !== undefined) filters.push({ id: { in: ids } });
      if (search !== undefined) {
        filters.push({
          OR: [
            { name: { contains: search, mode: "insensitive" } },
            { email: { contains: search, mode: "insensitive" } },
          ],
        });
      }
      const rows = await prisma.user.findMany({
        where: { AND: filters },
        orderBy: { id: "asc" },
        take: limit + 1,
      });
      const page = toPage(rows, limit);
      return c.json({ items: page.items.map(userView), nextCursor: page.nextCursor });
    },
  );

  describeRoute(
    routes,
    {
      method: "get",
      path: "/{id}",
      summary: "Get a user",
      tags,
      request: { params: idParamSchema },
      responses: {
        200: jsonResponse(userSchema, "The user"),
        ...adminErrorResponses({ 400: "Invalid path (`errors` lists the fields)", 404: "User not found" }),
      },
    },
    async (c) => {
      const user = await prisma.user.findUnique({ where: { id: pathId(c) } });
      if (!user) throw notFound("User not found");
      return c.json(userView(user));
    },
  );

  describeRoute(
    routes,
    {
      method: "patch",
      path: "/{id}",
      summary: "Update a user",
      description: "Changes the user's email or name; their keys are not affected.",
      tags,
      request: { params: idParamSchema, body: jsonBody(updateUserSchema) },
      responses: {
        200: jsonResponse(userSchema, "The updated user"),
        ...adminErrorResponses({
          400: "Invalid path or body (`errors` lists the fields)",
          404: "User not found",
          409: "Another user has this email",
          413: BODY_TOO_LARGE,
        }),
      },
    },
    async (c) => {
      const id = pathId(c);
      const body = await readJson(c, updateUserSchema);
      // An email another user has fails on users_email_key (409).
      const user = await prisma.$transaction(async (tx) => {
        const before = await lockedUser(tx, id);
        if (!before) throw notFound("User not found");
        const updated = await tx.user.update({ where: { id }, data: body });
        // Setting the values the user already had changes nothing, and leaves no audit row.
        const entry = userUpdated(before, updated);
        if (entry) await recordAudit(tx, auditActor(c), entry);
        return updated;
      });
      c.get("logger").info({ userId: id, changed: Object.keys(body) }, "user updated");
      return c.json(userView(user));
    },
  );

  describeRoute(
    routes,
    {
      method: "delete",
      path: "/{id}",
      summary: "Delete a user and every key of theirs",
      description:
        "Deletes the user's API keys with them, in one transaction; the edge stops accepting each key " +
        "as soon as it reads its tombstone. Their recorded usage and alerts stay.",
      tags,
      request: { params: idParamSchema },
      responses: deleteResponses("User not found"),
    },
    async (c) => {
      const id = pathId(c);
      const keyIds = await changeKeys(prisma, onKeyChangesQueued, async (tx) => {
        // The user first, then their keys, the order in which creating or rotating a key takes
        // them: a key made meanwhile either committed before this lock (and is deleted below,
        // with its tombstone) or waits for it and then finds no user.
        const user = await lockedUser(tx, id);
        if (!user) throw notFound("User not found");
        const keys = await tx.$queryRaw<{ id: number; key_hash: string; key_prefix: string; name: string }[]>`
          select id, key_hash, key_prefix, name from api_keys where user_id = ${id} order by id for update`;
        for (const key of keys) await enqueueKeyTombstone(tx, key.key_hash);
        // The keys go with the user (on delete cascade). Each gets its own audit row, so that a
        // key's history ends with its deletion.
        await tx.user.delete({ where: { id } });
        const actor = auditActor(c);
        await recordAudit(tx, actor, userDeleted(user, keys.length));
        for (const key of keys) {
          await recordAudit(
            tx,
            actor,
            keyDeleted(
              { id: key.id, name: key.name, keyPrefix: key.key_prefix, userId: id },
              { withUser: true },
            ),
          );
        }
        return keys.map((key) => key.id);
      });
      c.get("logger").info({ userId: id, keyIds }, "user deleted with their keys");
      return c.body(null, 204);
    },
  );

  return routes;
}
