import { randomUUID } from "node:crypto";
import {
  lockRowForUpdate,
  type NotificationChannel,
  type NotificationDelivery,
  type PrismaClient,
  recordAudit,
} from "@apimon/db";
import { attemptDeliveryId } from "@apimon/events";
import {
  type AppEnv,
  adminErrorResponses,
  auditActor,
  BODY_TOO_LARGE,
  badRequest,
  deleteResponses,
  describeListRoute,
  describeRoute,
  type FieldError,
  HttpError,
  INVALID_PATH,
  jsonBody,
  jsonResponse,
  notFound,
  OpenAPIHono,
  paginationQuery,
  parseOr400,
  readJson,
  readResponses,
  readsOnly,
  toPage,
} from "@apimon/http";
import type { Context } from "hono";
import { z } from "zod";
import {
  channelCreated,
  channelDeleted,
  channelUpdated,
  escalationChannelRemoved,
} from "../domain/audit-entries";
import { testJob } from "../domain/jobs";
import { enqueueJobs, type Tx } from "../notifications";
import {
  checkChannelTarget,
  createChannelSchema,
  idParamSchema,
  NAME_MAX,
  updateChannelSchema,
} from "../schemas";
import { lockSettings, readSettings, writeSettings } from "../settings";
import { channelSchema, channelView, deliveryView, testDeliverySchema } from "../views";

const tags = ["Notification channels"];

export interface ChannelRoutesDeps {
  prisma: PrismaClient;
  clock: () => Date;
  consoleUrl: string;
  /** How long a test waits for the notifier's final delivery record before answering 504. */
  testTimeoutMs: number;
  /** How often a test looks for that record. */
  testPollMs?: number;
  /** Called after a test job was committed to the outbox (wakes the relay). */
  onJobsQueued?: () => void;
}

const listQuerySchema = z.object(paginationQuery).strict();

const FINAL: ReadonlySet<NotificationDelivery["status"]> = new Set(["succeeded", "failed"]);

/** The channel, its row locked until the transaction ends (changes to one are serialised). */
async function lockedChannel(tx: Tx, id: number): Promise<NotificationChannel> {
  if (!(await lockRowForUpdate(tx, "notification_channels", id))) throw notFound("Channel not found");
  return tx.notificationChannel.findUniqueOrThrow({ where: { id } });
}

/**
 * The users `userIds` names that do not exist, each named by its place (`userIds.2`), so that a
 * mistyped id is refused rather than kept and never matched. A user the channel holds already
 * (`held`) stays allowed after it is deleted, so that the channel can still be edited; it just
 * matches nothing any more.
 */
async function unknownUsers(
  tx: Tx,
  userIds: readonly number[],
  held: readonly number[] = [],
): Promise<FieldError[]> {
  const named = userIds.filter((id) => !held.includes(id));
  if (named.length === 0) return [];
  const found = new Set(
    (await tx.user.findMany({ where: { id: { in: named } }, select: { id: true } })).map((u) => u.id),
  );
  return userIds.flatMap((id, i) =>
    held.includes(id) || found.has(id) ? [] : [{ field: `userIds.${i}`, message: `no user with id ${id}` }],
  );
}

/**
 * `/alerts/channels`: notification channels (email, slack, webhook) with a minimum severity,
 * and `POST /:id/test`, which sends a test message through the notifier and answers with the
 * notifier's delivery record.
 */
export function createChannelRoutes({
  prisma,
  clock,
  consoleUrl,
  testTimeoutMs,
  testPollMs = 100,
  onJobsQueued,
}: ChannelRoutesDeps): OpenAPIHono<AppEnv> {
  const routes = new OpenAPIHono<AppEnv>();
  const pathId = (c: Context) => parseOr400(idParamSchema, c.req.param(), "path").id;

  /** The channel's normalised target, or a 400 listing its problems and any `others` found. */
  function checkedTarget(
    channel: Parameters<typeof checkChannelTarget>[0],
    others: FieldError[] = [],
  ): string {
    const checked = checkChannelTarget(channel);
    if ("errors" in checked || others.length > 0) {
      throw badRequest("Invalid body", [...("errors" in checked ? checked.errors : []), ...others]);
    }
    return checked.target;
  }

  describeRoute(
    routes,
    {
      method: "post",
      path: "/",
      summary: "Create a notification channel",
      description:
        "Email targets are comma-separated address lists; slack and webhook targets are http(s) URLs. " +
        "Only webhook channels take a `secret` (for signing). `minSeverity` defaults to warning. " +
        "`alertTypes`, `endpoints` and `userIds` narrow what it hears about (a team's channel: `* /api/billing/*`; " +
        "a customer's: the alerts on the keys of those users, whichever key they rotate to), all of them holding " +
        "at once; left empty, it hears about every alert of its severity, as the escalation policy's channels do. " +
        "Each of `userIds` must be a user that exists. " +
        "Names are unique; without one, a channel is named after its type and target.",
      tags,
      request: { body: jsonBody(createChannelSchema) },
      responses: {
        201: jsonResponse(channelSchema, "Created"),
        ...adminErrorResponses({
          400: "Invalid body, a target or secret that does not fit the type, or a user that does not exist (`errors` lists the fields)",
          409: "Another channel has this name",
          413: BODY_TOO_LARGE,
        }),
      },
    },
    async (c) => {
      const body = await readJson(c, createChannelSchema);
      const channel = await prisma.$transaction(async (tx) => {
        const target = checkedTarget(body, await unknownUsers(tx, body.userIds ?? []));
        const created = await tx.notificationChannel.create({
          data: {
            name: body.name ?? `${body.type} ${target}`.slice(0, NAME_MAX),
            type: body.type,
            target,
            secret: body.secret ?? null,
            minSeverity: body.minSeverity ?? "warning",
            alertTypes: body.alertTypes ?? [],
            endpoints: body.endpoints ?? [],
            userIds: body.userIds ?? [],
            enabled: body.enabled ?? true,
          },
        });
        await recordAudit(tx, auditActor(c), channelCreated(created));
        return created;
      });
      c.get("logger").info({ channelId: channel.id, type: channel.type }, "notification channel created");
      return c.json(channelView(channel), 201);
    },
  );

  describeListRoute(
    routes,
    {
      path: "/",
      summary: "List notification channels",
      tags,
      query: listQuerySchema,
      item: channelSchema,
      page: "A page of channels, by id",
    },
    async (c, query) => {
      const rows = await prisma.notificationChannel.findMany({
        where: query.cursor !== undefined ? { id: { gt: query.cursor } } : {},
        orderBy: { id: "asc" },
        take: query.limit + 1,
      });
      const page = toPage(rows, query.limit);
      const masked = readsOnly(c);
      return c.json({
        items: page.items.map((row) => channelView(row, { masked })),
        nextCursor: page.nextCursor,
      });
    },
  );

  describeRoute(
    routes,
    {
      method: "get",
      path: "/{id}",
      summary: "Get a notification channel",
      tags,
      request: { params: idParamSchema },
      responses: readResponses(channelSchema, "The channel", "Channel not found"),
    },
    async (c) => {
      const channel = await prisma.notificationChannel.findUnique({ where: { id: pathId(c) } });
      if (!channel) throw notFound("Channel not found");
      return c.json(channelView(channel, { masked: readsOnly(c) }));
    },
  );

  describeRoute(
    routes,
    {
      method: "patch",
      path: "/{id}",
      summary: "Update a notification channel",
      description:
        "`secret: null` removes the secret. A new type re-checks the target. `userIds` replaces the users: each " +
        "must exist, except one the channel holds already, which may have been deleted since (it matches nothing).",
      tags,
      request: { params: idParamSchema, body: jsonBody(updateChannelSchema) },
      responses: {
        200: jsonResponse(channelSchema, "The updated channel"),
        ...adminErrorResponses({
          400: "Invalid path or body, a target or secret that does not fit the type, or a newly named user that does not exist (`errors` lists the fields)",
          404: "Channel not found",
          409: "Another channel has this name",
          413: BODY_TOO_LARGE,
        }),
      },
    },
    async (c) => {
      const id = pathId(c);
      const body = await readJson(c, updateChannelSchema);
      const channel = await prisma.$transaction(async (tx) => {
        // Locked, so that the audit log's "from" is what this change replaced.
        const current = await lockedChannel(tx, id);
        const type = body.type ?? current.type;
        // A new type re-checks the stored target and secret, so no change can leave a bad pair.
        const target = checkedTarget(
          {
            type,
            target: body.target ?? current.target,
            secret: body.secret === undefined ? current.secret : body.secret,
          },
          await unknownUsers(tx, body.userIds ?? [], current.userIds),
        );
        const updated = await tx.notificationChannel.update({
          where: { id },
          data: {
            name: body.name,
            type,
            target,
            secret: body.secret,
            minSeverity: body.minSeverity,
            alertTypes: body.alertTypes,
            endpoints: body.endpoints,
            userIds: body.userIds,
            enabled: body.enabled,
          },
        });
        // A change to what it already was is not a change: no audit row (see domain/audit-entries.ts).
        const entry = channelUpdated(current, updated);
        if (entry) await recordAudit(tx, auditActor(c), entry);
        return updated;
      });
      c.get("logger").info({ channelId: id, changed: Object.keys(body) }, "notification channel updated");
      return c.json(channelView(channel));
    },
  );

  describeRoute(
    routes,
    {
      method: "delete",
      path: "/{id}",
      summary: "Delete a notification channel",
      description:
        "Also deletes its delivery records and removes it from the escalation policy; disable it instead to keep them.",
      tags,
      request: { params: idParamSchema },
      responses: deleteResponses("Channel not found"),
    },
    async (c) => {
      const id = pathId(c);
      await prisma.$transaction(async (tx) => {
        const deleted = await tx.notificationChannel.delete({ where: { id } });
        const actor = auditActor(c);
        await recordAudit(tx, actor, channelDeleted(deleted));
        // An escalation policy naming a deleted channel would only confuse whoever reads it. That
        // is a change of the settings too, with its own row, so that their history is complete.
        await lockSettings(tx);
        const { settings, updatedAt } = await readSettings(tx);
        if (updatedAt !== null && settings.escalation.channelIds.includes(id)) {
          const after = {
            ...settings,
            escalation: {
              ...settings.escalation,
              channelIds: settings.escalation.channelIds.filter((x) => x !== id),
            },
          };
          await writeSettings(tx, after);
          const entry = escalationChannelRemoved(settings, after, deleted);
          if (entry) await recordAudit(tx, actor, entry);
        }
      });
      c.get("logger").info({ channelId: id }, "notification channel deleted");
      return c.body(null, 204);
    },
  );

  describeRoute(
    routes,
    {
      method: "post",
      path: "/{id}/test",
      summary: "Send a test message and answer with its delivery records",
      description:
        "Queues a job with reason `test` for the notifier and waits (ALERTS_TEST_TIMEOUT_MS, default 10 s) " +
        "for the notifier's record of its final attempt, which it answers with every attempt's record. " +
        "A failed delivery is a 200 whose records say why; no final record in time is a 504.",
      tags,
      request: { params: idParamSchema },
      responses: {
        200: jsonResponse(testDeliverySchema, "The final delivery record and every attempt"),
        ...adminErrorResponses({
          400: INVALID_PATH,
          404: "Channel not found",
          504: "The notifier did not record a final delivery in time",
        }),
      },
    },
    async (c) => {
      const id = pathId(c);
      const channel = await prisma.notificationChannel.findUnique({ where: { id } });
      if (!channel) throw notFound("Channel not found");
      const deliveryId = randomUUID();
      // Through the outbox like every job, so a test exercises the same path as an alert. A
      // disabled channel can be tested too: that is how one checks it before enabling it.
      await prisma.$transaction((tx) =>
        enqueueJobs(tx, [
          testJob({
            deliveryId,
            channel,
            minSeverity: channel.minSeverity,
            now: clock(),
            alertUrl: `${consoleUrl}/channels/${id}`,
          }),
        ]),
      );
      onJobsQueued?.();
      c.get("logger").info({ channelId: id, deliveryId }, "test notification queued");

      // The notifier records the final attempt under the job's deliveryId and the earlier ones
      // under ids derived from it; the final record is the answer, with every attempt beside it.
      // A failed delivery is still a 200: the records say why.
      const deadline = Date.now() + testTimeoutMs;
      let last: NotificationDelivery | null = null;
      for (;;) {
        last = await prisma.notificationDelivery.findUnique({ where: { deliveryId } });
        if (last && FINAL.has(last.status)) {
          const earlier = Array.from({ length: last.attempt - 1 }, (_, i) =>
            attemptDeliveryId(deliveryId, i + 1),
          );
          const attempts = await prisma.notificationDelivery.findMany({
            where: { deliveryId: { in: [...earlier, deliveryId] } },
            orderBy: { attempt: "asc" },
          });
          return c.json({ ...deliveryView(last), attempts: attempts.map((a) => deliveryView(a)) });
        }
        if (Date.now() >= deadline) break;
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(testPollMs, Math.max(1, deadline - Date.now()))),
        );
      }
      throw new HttpError(
        504,
        `No delivery record for test message ${deliveryId} within ${testTimeoutMs} ms` +
          (last ? ` (last status: ${last.status})` : "; is the notifier running?"),
      );
    },
  );

  return routes;
}
