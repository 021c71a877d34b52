import type { PrismaClient } from "@apimon/db";
import { alertSeverities, alertTypes } from "@apimon/events";
import {
  type AppEnv,
  adminErrorResponses,
  badRequest,
  describeRoute,
  jsonResponse,
  OpenAPIHono,
  readQuery,
} from "@apimon/http";
import { countsByKey, fillDays } from "../domain/report";
import { DEFAULT_REPORT_DAYS, MAX_RANGE_DAYS, reportQuerySchema } from "../schemas";
import { reportSchema } from "../views";

/** Keys listed in `byApiKey`, the busiest first. */
export const REPORT_TOP_KEYS = 50;
/** Endpoints listed in `byEndpoint`, the noisiest first. */
export const REPORT_TOP_ENDPOINTS = 20;

const STATUSES = ["firing", "acknowledged", "resolved"] as const;

interface Durations {
  count: number;
  mean: number | null;
  median: number | null;
}

/**
 * `/alerts/report`: the alerts opened in [from, to) (default: the last 30 days), counted by
 * type, severity, status, API key, endpoint and UTC day, with the mean and median time to acknowledge
 * (acknowledgement − opening, by the service's clock) and to resolve (resolution − first
 * signal, by the detector's clock), in seconds.
 */
export function createReportRoutes({
  prisma,
  clock,
}: {
  prisma: PrismaClient;
  clock: () => Date;
}): OpenAPIHono<AppEnv> {
  const routes = new OpenAPIHono<AppEnv>();

  describeRoute(
    routes,
    {
      method: "get",
      path: "/",
      summary: "Counts and response times of the alerts opened in a date range",
      description:
        `Default range: the last ${DEFAULT_REPORT_DAYS} days; at most ${MAX_RANGE_DAYS}. Time to acknowledge is ` +
        "acknowledgement − opening; time to resolve is resolution − first signal.",
      tags: ["Alerts"],
      request: { query: reportQuerySchema },
      responses: {
        200: jsonResponse(reportSchema, "The report"),
        ...adminErrorResponses({
          400: `Invalid query, \`from\` not before \`to\`, or a range of more than ${MAX_RANGE_DAYS} days (\`errors\` lists the fields)`,
        }),
      },
    },
    async (c) => {
      const query = readQuery(c, reportQuerySchema);
      const to = query.to ?? clock();
      const from = query.from ?? new Date(to.getTime() - DEFAULT_REPORT_DAYS * 86_400_000);
      if (from >= to) {
        // Only one end given, on the wrong side of the other's default.
        throw badRequest("Invalid query", [{ field: "from", message: "must be before to" }]);
      }
      if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * 86_400_000) {
        // `from` alone, longer ago than that (the query's checks cover both ends given).
        throw badRequest("Invalid query", [
          { field: "from", message: `the range may span at most ${MAX_RANGE_DAYS} days` },
        ]);
      }
      const [byType, bySeverity, byStatus, byKey, byEndpoint, byDay, durations] = await Promise.all([
        prisma.$queryRaw<{ key: string; count: number }[]>`
        SELECT type::text AS key, count(*)::int AS count FROM alerts
        WHERE created_at >= ${from} AND created_at < ${to} GROUP BY type`,
        prisma.$queryRaw<{ key: string; count: number }[]>`
        SELECT severity::text AS key, count(*)::int AS count FROM alerts
        WHERE created_at >= ${from} AND created_at < ${to} GROUP BY severity`,
        prisma.$queryRaw<{ key: string; count: number }[]>`
        SELECT status::text AS key, count(*)::int AS count FROM alerts
        WHERE created_at >= ${from} AND created_at < ${to} GROUP BY status`,
        prisma.$queryRaw<{ api_key_id: number | null; count: number }[]>`
        SELECT api_key_id, count(*)::int AS count FROM alerts
        WHERE created_at >= ${from} AND created_at < ${to}
        GROUP BY api_key_id ORDER BY count(*) DESC, api_key_id NULLS LAST LIMIT ${REPORT_TOP_KEYS}`,
        prisma.$queryRaw<
          {
            endpoint: string;
            count: number;
            response_time: number;
            error_rate: number;
            resolved_unacknowledged: number;
          }[]
        >`
        SELECT endpoint, count(*)::int AS count,
               count(*) FILTER (WHERE type = 'response_time')::int AS response_time,
               count(*) FILTER (WHERE type = 'error_rate')::int AS error_rate,
               count(*) FILTER (WHERE status = 'resolved' AND acknowledged_at IS NULL)::int
                 AS resolved_unacknowledged
        FROM alerts
        WHERE created_at >= ${from} AND created_at < ${to} AND endpoint IS NOT NULL
        GROUP BY endpoint ORDER BY count(*) DESC, endpoint LIMIT ${REPORT_TOP_ENDPOINTS}`,
        prisma.$queryRaw<{ day: string; type: string; severity: string; count: number }[]>`
        SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, type::text AS type,
               severity::text AS severity, count(*)::int AS count FROM alerts
        WHERE created_at >= ${from} AND created_at < ${to} GROUP BY 1, 2, 3`,
        prisma.$queryRaw<{ kind: string; count: number; mean: number | null; median: number | null }[]>`
        WITH d AS (
          SELECT extract(epoch FROM acknowledged_at - created_at)::float8 AS ack,
                 extract(epoch FROM resolved_at - first_seen_at)::float8 AS res
          FROM alerts WHERE created_at >= ${from} AND created_at < ${to}
        )
        SELECT 'ack' AS kind, count(ack)::int AS count, avg(ack) AS mean,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY ack) AS median FROM d
        UNION ALL
        SELECT 'res', count(res)::int, avg(res), percentile_cont(0.5) WITHIN GROUP (ORDER BY res) FROM d`,
      ]);
      const duration = (
        kind: string,
      ): { count: number; meanSeconds: number | null; medianSeconds: number | null } => {
        const row: Durations | undefined = durations.find((d) => d.kind === kind);
        return { count: row?.count ?? 0, meanSeconds: row?.mean ?? null, medianSeconds: row?.median ?? null };
      };
      const types = countsByKey(alertTypes, byType);
      return c.json({
        from: from.toISOString(),
        to: to.toISOString(),
        total: Object.values(types).reduce((a, b) => a + b, 0),
        byType: types,
        bySeverity: countsByKey(alertSeverities, bySeverity),
        byStatus: countsByKey(STATUSES, byStatus),
        byApiKey: byKey.map((k) => ({ apiKeyId: k.api_key_id, count: k.count })),
        byEndpoint: byEndpoint.map((e) => ({
          endpoint: e.endpoint,
          count: e.count,
          responseTime: e.response_time,
          errorRate: e.error_rate,
          resolvedUnacknowledged: e.resolved_unacknowledged,
        })),
        byDay: fillDays(from, to, byDay, alertTypes, alertSeverities),
        timeToAcknowledge: duration("ack"),
        timeToResolve: duration("res"),
      });
    },
  );

  return routes;
}
