import type { Prisma, PrismaClient } from "@apimon/db";
import { type AppEnv, describeListRoute, OpenAPIHono, toPage } from "@apimon/http";
import { auditQuerySchema } from "../schemas";
import { auditEventSchema, auditEventView } from "../views";

/**
 * `/audit`: what admins changed through the keys and alerts APIs (users, keys, alert settings,
 * notification channels, silences), when, and from where. Each row was written in its change's
 * transaction. Acknowledgements are on each alert's timeline instead.
 */
export function createAuditRoutes({ prisma }: { prisma: PrismaClient }): OpenAPIHono<AppEnv> {
  const routes = new OpenAPIHono<AppEnv>();
  describeListRoute(
    routes,
    {
      path: "/",
      summary: "List the audit log",
      description:
        "The changes made through the keys and alerts APIs, newest first: users and API keys, alert " +
        "settings, notification channels, silences, operators and alerts acknowledged. `targetType` with `targetId` gives one thing's " +
        "changes (`targetType=key&targetId=42`); `from` and `to` bound `occurredAt`.",
      tags: ["Audit"],
      query: auditQuerySchema,
      item: auditEventSchema,
      page: "A page of changes, newest first",
    },
    async (c, query) => {
      const where: Prisma.AuditEventWhereInput = {
        ...(query.targetType !== undefined && { targetType: query.targetType }),
        ...(query.targetId !== undefined && { targetId: query.targetId }),
        ...(query.action !== undefined && { action: query.action }),
        ...(query.source !== undefined && { source: query.source }),
        ...(query.operatorId !== undefined && { operatorId: query.operatorId }),
        ...((query.from !== undefined || query.to !== undefined) && {
          occurredAt: {
            ...(query.from !== undefined && { gte: query.from }),
            ...(query.to !== undefined && { lt: query.to }),
          },
        }),
        ...(query.cursor !== undefined && { id: { lt: query.cursor } }),
      };
      const rows = await prisma.auditEvent.findMany({
        where,
        orderBy: { id: "desc" },
        take: query.limit + 1,
      });
      const page = toPage(rows, query.limit);
      return c.json({ items: page.items.map(auditEventView), nextCursor: page.nextCursor });
    },
  );
  return routes;
}
