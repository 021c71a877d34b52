import type { PrismaClient } from "@apimon/db";
import { type AppEnv, notFound, parseOr400, readJson, readQuery, toPage } from "@apimon/http";
import { Hono } from "hono";
import { createUserSchema, idParamSchema, listUsersQuerySchema } from "../schemas";
import { userView } from "../views";

export interface UserRoutesDeps {
  prisma: PrismaClient;
}

/** `/users`: the owners of API keys. */
export function createUserRoutes({ prisma }: UserRoutesDeps): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  routes.post("/", async (c) => {
    const body = await readJson(c, createUserSchema);
    // A duplicate email fails on users_email_key: 409, mapped with the other database errors.
    const user = await prisma.user.create({ data: body });
    c.get("logger").info({ userId: user.id }, "user created");
    return c.json(userView(user), 201);
  });

  routes.get("/", async (c) => {
    const { cursor, limit } = readQuery(c, listUsersQuerySchema);
    const rows = await prisma.user.findMany({
      where: cursor === undefined ? {} : { id: { gt: cursor } },
      orderBy: { id: "asc" },
      take: limit + 1,
    });
    const page = toPage(rows, limit);
    return c.json({ items: page.items.map(userView), nextCursor: page.nextCursor });
  });

  routes.get("/:id", async (c) => {
    const { id } = parseOr400(idParamSchema, c.req.param(), "path");
    const user = await prisma.user.findUnique({ where: { id } });
    if (!user) throw notFound("User not found");
    return c.json(userView(user));
  });

  return routes;
}
