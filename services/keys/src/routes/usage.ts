import type { PrismaClient } from "@apimon/db";
import {
  type AppEnv,
  adminErrorResponses,
  badRequest,
  describeRoute,
  jsonResponse,
  notFound,
  OpenAPIHono,
  parseOr400,
  readQuery,
} from "@apimon/http";
import {
  bucketRange,
  fillBuckets,
  MAX_BUCKETS,
  manyKeysBucketRange,
  summaryRange,
} from "../domain/usage-range";
import { idParamSchema, keyUsageQuerySchema, usageQuerySchema, usageSummaryQuerySchema } from "../schemas";
import type { UsageQueries } from "../usage-queries";
import { keyUsageSchema, usageSchema, usageSummarySchema } from "../views";

export interface UsageRoutesDeps {
  prisma: PrismaClient;
  queries: UsageQueries;
  clock: () => Date;
}

/**
 * Usage reports from api_usage: `/keys/:id/usage` and `/usage` (the requests, errors and response
 * times of a key, of a user's keys or of every key, per minute, hour or day) and `/usage/summary`
 * (totals, busiest keys and endpoints).
 */
export function createUsageRoutes({ prisma, queries, clock }: UsageRoutesDeps): OpenAPIHono<AppEnv> {
  const routes = new OpenAPIHono<AppEnv>();

  describeRoute(
    routes,
    {
      method: "get",
      path: "/keys/{id}/usage",
      summary: "A key's usage per minute, hour or day",
      description:
        "Requests, errors and response-time percentiles per bucket: by hour or day from the hourly " +
        "usage tables, with percentiles estimated from their latency histograms; by minute from the " +
        "recorded requests (api_usage). Buckets are aligned to UTC: `from` is rounded down and `to` up to the " +
        "granularity, and the answer gives the range it covers. Every bucket of the range is " +
        `listed, empty ones with zeros; at most ${MAX_BUCKETS} buckets. \`from\` defaults to \`to\` minus 24 hours, \`to\` to now.`,
      tags: ["Usage"],
      request: { params: idParamSchema, query: keyUsageQuerySchema },
      responses: {
        200: jsonResponse(keyUsageSchema, "The key's usage"),
        ...adminErrorResponses({
          400: `Invalid path or query, \`from\` not before \`to\`, or more than ${MAX_BUCKETS} buckets`,
          404: "API key not found",
        }),
      },
    },
    async (c) => {
      const { id } = parseOr400(idParamSchema, c.req.param(), "path");
      const query = readQuery(c, keyUsageQuerySchema);
      const range = bucketRange(query, clock());
      if (!range.ok) throw badRequest("Invalid query", range.errors);
      const key = await prisma.apiKey.findUnique({ where: { id }, select: { id: true } });
      if (!key) throw notFound("API key not found");
      const { from, to, granularity, starts } = range.value;
      const rows = await queries.buckets({ keyId: id }, { from, to, granularity });
      return c.json({
        keyId: id,
        from: from.toISOString(),
        to: to.toISOString(),
        granularity,
        buckets: fillBuckets(starts, rows),
      });
    },
  );

  describeRoute(
    routes,
    {
      method: "get",
      path: "/usage",
      summary: "Usage of every key, or of one user's keys, per minute, hour or day",
      description:
        "The buckets of `/keys/{id}/usage` over every key's requests, or over the keys of `userId` " +
        "(deleted keys' recorded requests included). By hour or day it reads the hourly usage tables, " +
        "with percentiles estimated from their latency histograms; by minute, the recorded requests. " +
        `The range, once rounded out to whole buckets, is at most 31 days, and at most ${MAX_BUCKETS} buckets.`,
      tags: ["Usage"],
      request: { query: usageQuerySchema },
      responses: {
        200: jsonResponse(usageSchema, "The usage"),
        ...adminErrorResponses({
          400: `Invalid query, \`from\` not before \`to\`, a range over 31 days, or more than ${MAX_BUCKETS} buckets`,
        }),
      },
    },
    async (c) => {
      const query = readQuery(c, usageQuerySchema);
      const range = manyKeysBucketRange(query, clock());
      if (!range.ok) throw badRequest("Invalid query", range.errors);
      const { from, to, granularity, starts } = range.value;
      const rows = await queries.buckets({ userId: query.userId }, { from, to, granularity });
      return c.json({
        from: from.toISOString(),
        to: to.toISOString(),
        granularity,
        ...(query.userId !== undefined && { userId: query.userId }),
        buckets: fillBuckets(starts, rows),
      });
    },
  );

  describeRoute(
    routes,
    {
      method: "get",
      path: "/usage/summary",
      summary: "Account-wide usage summary",
      description:
        "Totals, error rate, busiest keys and busiest endpoints over a span of at most 31 days " +
        "(default: the last 24 hours), optionally of one user's keys; `errorRate` is errors / requests, " +
        "`limit` the entries in topKeys and in topEndpoints.",
      tags: ["Usage"],
      request: { query: usageSummaryQuerySchema },
      responses: {
        200: jsonResponse(usageSummarySchema, "The summary"),
        ...adminErrorResponses({ 400: "Invalid query, `from` not before `to`, or a span over 31 days" }),
      },
    },
    async (c) => {
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
    },
  );

  return routes;
}
