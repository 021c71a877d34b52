import { lockRowForUpdate, type Prisma, type PrismaClient, recordAudit, type Silence } from "@apimon/db";
import {
  type AppEnv,
  adminErrorResponses,
  auditActor,
  BODY_TOO_LARGE,
  badRequest,
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
import { silenceCreated, silenceEnded, silenceUpdated } from "../domain/audit-entries";
import { openAlertsMatched } from "../domain/silences";
import type { Tx } from "../notifications";
import {
  checkSilenceRange,
  createSilenceSchema,
  idParamSchema,
  MAX_SILENCE_DAYS,
  silencesQuerySchema,
  updateSilenceSchema,
} from "../schemas";
import { silenceSchema, silenceView } from "../views";

const tags = ["Silences"];

export interface SilenceRoutesDeps {
  prisma: PrismaClient;
  clock: () => Date;
}

/** The silence, its row locked until the transaction ends (changes to one are serialised). */
async function lockedSilence(tx: Tx, id: number): Promise<Silence> {
  if (!(await lockRowForUpdate(tx, "silences", id))) throw notFound("Silence not found");
  return tx.silence.findUniqueOrThrow({ where: { id } });
}

/** The silences as the API gives them, each not yet over with the open alerts it matches. */
async function silenceViews(prisma: PrismaClient, silences: Silence[], now: Date) {
  const matched = await openAlertsMatched(
    prisma,
    silences.map((s) => s.id),
  );
  return silences.map((s) => silenceView(s, now, matched));
}

/**
 * `/alerts/silences`: matchers and a time range that hold back the notifications of the open
 * alerts they match (opening, escalation, reminders, the escalation policy, resolution). The
 * alerts are recorded as usual. An alert that opened silenced is notified when its silence
 * ends, if it still fires unacknowledged; reminders held back go out then too (the scheduler's
 * next pass, every ALERTS_SCHEDULER_MS).
 */
export function createSilenceRoutes({ prisma, clock }: SilenceRoutesDeps): OpenAPIHono<AppEnv> {
  const routes = new OpenAPIHono<AppEnv>();
  const pathId = (c: Context) => parseOr400(idParamSchema, c.req.param(), "path").id;

  describeRoute(
    routes,
    {
      method: "post",
      path: "/",
      summary: "Create a silence",
      description:
        "Each matcher left out matches any value; a silence with none holds back every alert's notifications " +
        `(a maintenance window). It lasts from \`startsAt\` (default now) to \`endsAt\`, at most ${MAX_SILENCE_DAYS} days. ` +
        "`endpoint` is written as alerts give it, e.g. `GET /api/users/:id`; a `*` in it stands for any run of " +
        "characters: `GET /api/billing/*` matches every GET route under /api/billing, `* /api/billing/*` every " +
        "method's. The answer's `openAlertsMatched` says how many open alerts it matches now.",
      tags,
      request: { body: jsonBody(createSilenceSchema) },
      responses: {
        201: jsonResponse(silenceSchema, "Created"),
        ...adminErrorResponses({
          400: "Invalid body, or an end not in the future, not after the start or too far off (`errors` lists the fields)",
          413: BODY_TOO_LARGE,
        }),
      },
    },
    async (c) => {
      const body = await readJson(c, createSilenceSchema);
      const now = clock();
      const errors = checkSilenceRange(body, now);
      if (errors.length > 0) throw badRequest("Invalid body", errors);
      const silence = await prisma.$transaction(async (tx) => {
        const created = await tx.silence.create({
          data: {
            type: body.type ?? null,
            apiKeyId: body.apiKeyId ?? null,
            endpoint: body.endpoint ?? null,
            clientIp: body.clientIp ?? null,
            comment: body.comment,
            createdBy: body.createdBy ?? null,
            startsAt: body.startsAt ?? now,
            endsAt: body.endsAt,
          },
        });
        await recordAudit(tx, auditActor(c), silenceCreated(created, now));
        return created;
      });
      c.get("logger").info(
        { silenceId: silence.id, startsAt: silence.startsAt, endsAt: silence.endsAt },
        "silence created",
      );
      const [view] = await silenceViews(prisma, [silence], now);
      return c.json(view, 201);
    },
  );

  describeListRoute(
    routes,
    {
      path: "/",
      summary: "List silences",
      description: "Without `state`, the silences not yet over: active and pending.",
      tags,
      query: silencesQuerySchema,
      item: silenceSchema,
      page: "A page of silences, newest first",
    },
    async (c, query) => {
      const now = clock();
      const byState: Record<string, Prisma.SilenceWhereInput> = {
        active: { startsAt: { lte: now }, endsAt: { gt: now } },
        pending: { startsAt: { gt: now } },
        expired: { endsAt: { lte: now } },
      };
      const rows = await prisma.silence.findMany({
        where: {
          ...(query.state ? byState[query.state] : { endsAt: { gt: now } }),
          ...(query.cursor !== undefined && { id: { lt: query.cursor } }),
        },
        orderBy: { id: "desc" },
        take: query.limit + 1,
      });
      const page = toPage(rows, query.limit);
      return c.json({ items: await silenceViews(prisma, page.items, now), nextCursor: page.nextCursor });
    },
  );

  describeRoute(
    routes,
    {
      method: "get",
      path: "/{id}",
      summary: "Get a silence",
      tags,
      request: { params: idParamSchema },
      responses: readResponses(silenceSchema, "The silence", "Silence not found"),
    },
    async (c) => {
      const silence = await prisma.silence.findUnique({ where: { id: pathId(c) } });
      if (!silence) throw notFound("Silence not found");
      const [view] = await silenceViews(prisma, [silence], clock());
      return c.json(view);
    },
  );

  describeRoute(
    routes,
    {
      method: "patch",
      path: "/{id}",
      summary: "Extend, shorten or re-word a silence",
      description:
        "A new `endsAt` (in the future, after the start, at most " +
        `${MAX_SILENCE_DAYS} days from the later of the start and now) or \`comment\`. The matchers stay: ` +
        "end the silence and create another to change what it matches. A silence already over is a 409.",
      tags,
      request: { params: idParamSchema, body: jsonBody(updateSilenceSchema) },
      responses: {
        200: jsonResponse(silenceSchema, "The silence"),
        ...adminErrorResponses({
          400: "Invalid path or body, or an end not in the future, not after the start or too far off (`errors` lists the fields)",
          404: "Silence not found",
          409: "The silence is over",
          413: BODY_TOO_LARGE,
        }),
      },
    },
    async (c) => {
      const id = pathId(c);
      const body = await readJson(c, updateSilenceSchema);
      const now = clock();
      const silence = await prisma.$transaction(async (tx) => {
        const current = await lockedSilence(tx, id);
        if (current.endsAt <= now) throw conflict("Silence is over: create a new one");
        if (body.endsAt !== undefined) {
          const errors = checkSilenceRange({ startsAt: current.startsAt, endsAt: body.endsAt }, now);
          if (errors.length > 0) throw badRequest("Invalid body", errors);
        }
        const updated = await tx.silence.update({
          where: { id },
          data: { endsAt: body.endsAt, comment: body.comment },
        });
        // A change to what it already was is not a change: no audit row (see domain/audit-entries.ts).
        const entry = silenceUpdated(current, updated);
        if (entry) await recordAudit(tx, auditActor(c), entry);
        return updated;
      });
      c.get("logger").info(
        { silenceId: id, changed: Object.keys(body), endsAt: silence.endsAt },
        "silence updated",
      );
      const [view] = await silenceViews(prisma, [silence], now);
      return c.json(view);
    },
  );

  describeRoute(
    routes,
    {
      method: "delete",
      path: "/{id}",
      summary: "End a silence now",
      description:
        "Sets `endsAt` to now (a pending silence then never starts) and answers the silence; one already " +
        "over is answered unchanged. Silences are kept as history.",
      tags,
      request: { params: idParamSchema },
      responses: readResponses(silenceSchema, "The silence, over", "Silence not found"),
    },
    async (c) => {
      const id = pathId(c);
      const now = clock();
      const ended = await prisma.$transaction(async (tx) => {
        const current = await lockedSilence(tx, id);
        if (current.endsAt <= now) return { silence: current, changed: false };
        const silence = await tx.silence.update({
          where: { id },
          data: { endsAt: now, ...(current.startsAt > now && { startsAt: now }) },
        });
        await recordAudit(tx, auditActor(c), silenceEnded(current, silence));
        return { silence, changed: true };
      });
      if (ended.changed) c.get("logger").info({ silenceId: id }, "silence ended");
      const [view] = await silenceViews(prisma, [ended.silence], now);
      return c.json(view);
    },
  );

  return routes;
}
