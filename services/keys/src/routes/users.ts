import type { PrismaClient } from "@apimon/db";
import {
  type AppEnv,
  adminErrorResponses,
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
import { createUserSchema, idParamSchema, listUsersQuerySchema } from "../schemas";
import { userSchema, userView } from "../views";

export interface UserRoutesDeps {
  prisma: PrismaClient;
}

const tags = ["Users"];

/** `/users`: the owners of API keys. */
export function createUserRoutes({ prisma }: UserRoutesDeps): OpenAPIHono<AppEnv> {
  const routes = new OpenAPIHono<AppEnv>();

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
          413: "Request body larger than 64 KiB",
        }),
      },
    },
    async (c) => {
      const body = await readJson(c, createUserSchema);
      // A duplicate email fails on users_email_key: 409, mapped with the other database errors.
      const user = await prisma.user.create({ data: body });
      c.get("logger").info({ userId: user.id }, "user created");
      return c.json(userView(user), 201);
    },
  );

  describeListRoute(
    routes,
    {
      path: "/",
      summary: "List users",
      tags,
      query: listUsersQuerySchema,
      item: userSchema,
      page: "A page of users, by id",
    },
    async (c, { cursor, limit }) => {
      const rows = await prisma.user.findMany({
        where: cursor === undefined ? {} : { id: { gt: cursor } },
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
      const { id } = parseOr400(idParamSchema, c.req.param(), "path");
      const user = await prisma.user.findUnique({ where: { id } });
      if (!user) throw notFound("User not found");
      return c.json(userView(user));
    },
  );

  return routes;
}
