import { type Alert, type Prisma, type PrismaClient, recordAudits } from "@apimon/db";
import {
  type AppEnv,
  type AuditActor,
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
  readOptionalJson,
  readResponses,
  readsOnly,
  toPage,
} from "@apimon/http";
import { counter, type Registry } from "@apimon/observability";
import type { Context } from "hono";
import type { AlertLog } from "../alert-log";
import { alertAcknowledged } from "../domain/audit-entries";
import { endpointFilter } from "../domain/endpoints";
import { activeSilences, silencedAt, silenceFor } from "../domain/silences";
import type { Tx } from "../notifications";
import {
  acknowledgeManySchema,
  acknowledgeSchema,
  activeAlertsQuerySchema,
  historyQuerySchema,
  idParamSchema,
  MAX_ACKNOWLEDGE_IDS,
  MAX_RANGE_DAYS,
} from "../schemas";
import {
  acknowledgedManySchema,
  activeCountsSchema,
  activeCountsView,
  alertDetailSchema,
  alertDetailView,
  alertSchema,
  alertView,
} from "../views";

const tags = ["Alerts"];

/** Most recent timeline events and deliveries shown with an alert. */
export const DETAIL_LIMIT = 500;

export interface AlertRoutesDeps {
  prisma: PrismaClient;
  alertLog: AlertLog;
  clock: () => Date;
  registry?: Registry;
}

/**
 * `/alerts`: active alerts, history, one alert with its timeline and deliveries, and
 * acknowledgement. Lists are newest first, paginated by id.
 */
export function createAlertRoutes({
  prisma,
  alertLog,
  clock,
  registry,
}: AlertRoutesDeps): OpenAPIHono<AppEnv> {
  const routes = new OpenAPIHono<AppEnv>();
  const pathId = (c: Context) => parseOr400(idParamSchema, c.req.param(), "path").id;
  const acknowledged = counter(registry, "alerts_acknowledged_total", "Alerts acknowledged through the API");

  /** Each open alert's silence, from the silences active now; resolved alerts have none. */
  async function silencer(): Promise<(alert: Alert) => number | null> {
    const active = await activeSilences(prisma, clock());
    return (alert) =>
      active.length === 0 || alert.status === "resolved" ? null : (silenceFor(alert, active)?.id ?? null);
  }

  /**
   * Acknowledges the firing alerts among `rows` (locked by the caller, which judged the others),
   * each with its timeline event. Acknowledging twice is harmless: the first acknowledgement stands.
   */
  async function acknowledgeLocked(
    tx: Tx,
    rows: readonly { id: number; status: string }[],
    body: { by?: string; note?: string },
    now: Date,
    actor: AuditActor,
  ): Promise<Alert[]> {
    const ids = rows.filter((r) => r.status === "firing").map((r) => r.id);
    if (ids.length === 0) return [];
    await tx.alert.updateMany({
      where: { id: { in: ids } },
      data: {
        status: "acknowledged",
        acknowledgedAt: now,
        acknowledgedBy: body.by ?? null,
        ackNote: body.note ?? null,
      },
    });
    const alerts = await tx.alert.findMany({ where: { id: { in: ids } }, orderBy: { id: "asc" } });
    await tx.alertEvent.createMany({
      data: alerts.map((alert) => ({
        alertId: alert.id,
        kind: "acknowledged" as const,
        severity: alert.severity,
        actor: body.by ?? null,
        note: body.note ?? null,
        occurredAt: now,
      })),
    });
    await recordAudits(tx, actor, alerts.map(alertAcknowledged));
    return alerts;
  }

  const filtered = (
    query: Pick<Prisma.AlertWhereInput, "type" | "severity" | "apiKeyId"> & { endpoint?: string },
  ) => ({
    type: query.type,
    severity: query.severity,
    apiKeyId: query.apiKeyId,
    ...(query.endpoint !== undefined && { endpoint: endpointFilter(query.endpoint) }),
  });

  /** A page of the alerts `where` selects, newest first. */
  async function newestFirst(
    where: Prisma.AlertWhereInput,
    { cursor, limit }: { cursor?: number; limit: number },
  ) {
    const [rows, silencedBy] = await Promise.all([
      prisma.alert.findMany({
        where: { ...where, ...(cursor !== undefined && { id: { lt: cursor } }) },
        orderBy: { id: "desc" },
        take: limit + 1,
      }),
      silencer(),
    ]);
    const page = toPage(rows, limit);
    return { items: page.items.map((a) => alertView(a, silencedBy(a))), nextCursor: page.nextCursor };
  }

  async function detail(id: number, { masked = false } = {}) {
    const alert = await prisma.alert.findUnique({ where: { id } });
    if (!alert) throw notFound("Alert not found");
    const [events, deliveries, silencedBy] = await Promise.all([
      prisma.alertEvent.findMany({ where: { alertId: id }, orderBy: { id: "desc" }, take: DETAIL_LIMIT }),
      // With the grouped messages that named it after another alert.
      prisma.notificationDelivery.findMany({
        where: { OR: [{ alertId: id }, { otherAlertIds: { has: id } }] },
        orderBy: { id: "desc" },
        take: DETAIL_LIMIT,
      }),
      silencer(),
    ]);
    return alertDetailView(alert, silencedBy(alert), events.reverse(), deliveries.reverse(), { masked });
  }

  describeListRoute(
    routes,
    {
      path: "/",
      summary: "List active alerts (firing or acknowledged)",
      tags,
      query: activeAlertsQuerySchema,
      item: alertSchema,
      page: "A page of alerts, newest first",
    },
    async (c, query) => {
      const where: Prisma.AlertWhereInput = {
        ...filtered(query),
        status: query.status ?? { in: ["firing", "acknowledged"] },
      };
      return c.json(await newestFirst(where, query));
    },
  );

  // Before /:id, which would take "counts" for an id.
  describeRoute(
    routes,
    {
      method: "get",
      path: "/counts",
      summary:
        "Count the active alerts (firing or acknowledged) by severity, status and type, and those a silence holds back",
      tags,
      responses: { 200: jsonResponse(activeCountsSchema, "The counts"), ...adminErrorResponses({}) },
    },
    async (c) => {
      const [rows, [held]] = await Promise.all([
        prisma.alert.groupBy({
          by: ["severity", "status", "type"],
          where: { status: { in: ["firing", "acknowledged"] } },
          _count: { _all: true },
        }),
        prisma.$queryRaw<{ count: number }[]>`
          SELECT count(*)::int AS count FROM alerts
          WHERE status IN ('firing', 'acknowledged') AND ${silencedAt(clock())}`,
      ]);
      return c.json(
        activeCountsView(
          rows.map((r) => ({ ...r, count: r._count._all })),
          held?.count ?? 0,
        ),
      );
    },
  );

  describeListRoute(
    routes,
    {
      path: "/history",
      summary: "List alerts opened in a date range, any status (resolved included)",
      description: `The range may span at most ${MAX_RANGE_DAYS} days; without one, every alert.`,
      tags,
      query: historyQuerySchema,
      item: alertSchema,
      page: "A page of alerts, newest first",
      invalidQuery: "Invalid query, or `from` not before `to` (`errors` lists the fields)",
    },
    async (c, query) => {
      const where: Prisma.AlertWhereInput = {
        ...filtered(query),
        status: query.status,
        createdAt: { gte: query.from, lt: query.to },
      };
      return c.json(await newestFirst(where, query));
    },
  );

  describeRoute(
    routes,
    {
      method: "get",
      path: "/{id}",
      summary: "Get an alert with its timeline and notification deliveries",
      tags,
      request: { params: idParamSchema },
      responses: readResponses(alertDetailSchema, "The alert", "Alert not found"),
    },
    async (c) => c.json(await detail(pathId(c), { masked: readsOnly(c) })),
  );

  describeRoute(
    routes,
    {
      method: "post",
      path: "/acknowledge",
      summary: "Acknowledge several alerts at once (stops their reminders and the escalation policy)",
      description:
        `Up to ${MAX_ACKNOWLEDGE_IDS} ids, in one transaction, with one \`by\` and \`note\` for all. ` +
        "Answers every id in one of four lists: acknowledged now, acknowledged before (that acknowledgement " +
        "stands), resolved, and not found. Nothing is refused for its state, so a list read a moment ago " +
        "can be acknowledged whatever became of some of its alerts since.",
      tags,
      request: { body: jsonBody(acknowledgeManySchema) },
      responses: {
        200: jsonResponse(acknowledgedManySchema, "What became of each id"),
        ...adminErrorResponses({
          400: "Invalid body (`errors` lists the fields)",
          413: BODY_TOO_LARGE,
        }),
      },
    },
    async (c) => {
      const { ids, ...body } = await readJson(c, acknowledgeManySchema);
      const wanted = [...new Set(ids)].sort((a, b) => a - b);
      const now = clock();
      const { rows, changed } = await prisma.$transaction(async (tx) => {
        // Locked in id order, as every other path locks at most one alert: no deadlock between two
        // of these, and each row is ordered against its signals and the scheduler as above.
        const rows = await tx.$queryRaw<{ id: number; status: string }[]>`
          SELECT id, status::text AS status FROM alerts WHERE id = ANY(${wanted}::int[]) ORDER BY id FOR UPDATE`;
        return { rows, changed: await acknowledgeLocked(tx, rows, body, now, auditActor(c)) };
      });
      for (const alert of changed) {
        acknowledged.inc();
        alertLog.acknowledged(alert);
      }
      const status = new Map(rows.map((r) => [r.id, r.status]));
      const where = (state: string | undefined) => wanted.filter((id) => status.get(id) === state);
      return c.json({
        acknowledged: where("firing"),
        alreadyAcknowledged: where("acknowledged"),
        resolved: where("resolved"),
        notFound: where(undefined),
      });
    },
  );

  describeRoute(
    routes,
    {
      method: "post",
      path: "/{id}/acknowledge",
      summary: "Acknowledge an alert (stops reminders and the escalation policy)",
      description:
        "The body may be omitted. Acknowledging an acknowledged alert changes nothing; a resolved one is a 409. " +
        "Later firing signals keep counting into the acknowledged alert.",
      tags,
      request: { params: idParamSchema, body: jsonBody(acknowledgeSchema, undefined, false) },
      responses: {
        200: jsonResponse(alertDetailSchema, "The alert"),
        ...adminErrorResponses({
          400: "Invalid path or body (`errors` lists the fields)",
          404: "Alert not found",
          409: "Alert is resolved and cannot be acknowledged",
          413: BODY_TOO_LARGE,
        }),
      },
    },
    async (c) => {
      const id = pathId(c);
      const body = await readOptionalJson(c, acknowledgeSchema);
      const now = clock();
      const changed = await prisma.$transaction(async (tx) => {
        // The row lock orders this against signals and the scheduler: a reminder either went out
        // before the acknowledgement, or finds the alert acknowledged.
        const [row] = await tx.$queryRaw<{ id: number; status: string }[]>`
        SELECT id, status::text AS status FROM alerts WHERE id = ${id} FOR UPDATE`;
        if (!row) throw notFound("Alert not found");
        if (row.status === "resolved") throw conflict("Alert is resolved and cannot be acknowledged");
        return acknowledgeLocked(tx, [row], body, now, auditActor(c));
      });
      for (const alert of changed) {
        acknowledged.inc();
        alertLog.acknowledged(alert);
      }
      return c.json(await detail(id));
    },
  );

  return routes;
}
