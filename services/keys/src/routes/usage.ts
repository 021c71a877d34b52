import type { PrismaClient } from "@apimon/db";
import { type AppEnv, badRequest, notFound, parseOr400, readQuery } from "@apimon/http";
import { Hono } from "hono";
import { bucketRange, fillBuckets, summaryRange } from "../domain/usage-range";
import { idParamSchema, keyUsageQuerySchema, usageSummaryQuerySchema } from "../schemas";
import type { UsageQueries } from "../usage-queries";

export interface UsageRoutesDeps {
  prisma: PrismaClient;
  queries: UsageQueries;
  clock: () => Date;
}

/**
 * Usage reports from api_usage: `/keys/:id/usage` (a key's requests, errors and response times
 * per minute, hour or day) and `/usage/summary` (totals, busiest keys and endpoints).
 */
export function createUsageRoutes({ prisma, queries, clock }: UsageRoutesDeps): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  routes.get("/keys/:id/usage", async (c) => {
    const { id } = parseOr400(idParamSchema, c.req.param(), "path");
    const query = readQuery(c, keyUsageQuerySchema);
    const range = bucketRange(query, clock());
    if (!range.ok) throw badRequest("Invalid query", range.errors);
    const key = await prisma.apiKey.findUnique({ where: { id }, select: { id: true } });
    if (!key) throw notFound("API key not found");
    const { from, to, granularity, starts } = range.value;
    const rows = await queries.keyBuckets(id, { from, to, granularity });
    return c.json({
      keyId: id,
      from: from.toISOString(),
      to: to.toISOString(),
      granularity,
      buckets: fillBuckets(starts, rows),
    });
  });

  routes.get("/usage/summary", async (c) => {
    const query = readQuery(c, usageSummaryQuerySchema);
    const range = summaryRange(query, clock());
    if (!range.ok) throw badRequest("Invalid query", range.errors);
    const { from, to } = range.value;
    const figures = await queries.summary({ from, to, userId: query.userId, limit: query.limit });
    return c.json({
      from: from.toISOString(),
      to: to.toISOString(),
      ...(query.userId !== undefined && { userId: query.userId }),
      requests: figures.requests,
      errors: figures.errors,
      clientErrors: figures.clientErrors,
      errorRate: figures.requests === 0 ? 0 : figures.errors / figures.requests,
      topKeys: figures.topKeys,
      topEndpoints: figures.topEndpoints,
    });
  });

  return routes;
}
