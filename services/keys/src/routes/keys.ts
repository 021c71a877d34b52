import { type ApiKey, lockRowForUpdate, type Prisma, type PrismaClient, recordAudit } from "@apimon/db";
import {
  type AppEnv,
  adminErrorResponses,
  auditActor,
  BODY_TOO_LARGE,
  badRequest,
  conflict,
  deleteResponses,
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
  toPage,
} from "@apimon/http";
import { displayPrefix, generateApiKey, hashApiKey } from "@apimon/key-registry";
import type { Context } from "hono";
import { z } from "zod";
import { keyCreated, keyDeleted, keyRotated, keyUpdated } from "../domain/audit-entries";
import { expiryAfterRotation, isKeyUsable, type RateLimits } from "../domain/key-policy";
import { changeKeys, enqueueKeyState, enqueueKeyTombstone, type Tx } from "../outbox";
import {
  createKeySchema,
  idParamSchema,
  listKeysQuerySchema,
  rotateKeySchema,
  updateKeySchema,
} from "../schemas";
import { keySchema, keySummaryView, keyView, newKeySchema, rotatedKeySchema } from "../views";

export interface KeyRoutesDeps {
  prisma: PrismaClient;
  keyHashSecret: string;
  /** Grace period of a rotation that names none. */
  graceSeconds: number;
  /** The limits of a window without an override. */
  defaults: RateLimits;
  clock: () => Date;
  /** Called once a change and its outbox rows have committed (main.ts: wake the relay). */
  onKeyChangesQueued?: () => void;
}

const tags = ["API keys"];
/** The plaintext key is in the body: no cache may keep it. */
const noStore = { "Cache-Control": z.literal("no-store") };

/** Keys the edge accepts at `now`; the query form of isKeyUsable. */
function usableAt(now: Date): Prisma.ApiKeyWhereInput {
  return { isActive: true, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] };
}

/**
 * The key's row, locked until the transaction ends: a concurrent change waits, so that what the
 * key was before this one (for the checks and the audit row) cannot go stale. Null when there is
 * no such key.
 */
async function lockedKey(tx: Tx, id: number): Promise<ApiKey | null> {
  return (await lockRowForUpdate(tx, "api_keys", id)) ? tx.apiKey.findUnique({ where: { id } }) : null;
}

/**
 * `/keys`: create, list, read, update, rotate and delete API keys. Every change writes the
 * key's new state (or a tombstone) to the outbox in the same transaction, so the registry
 * topic that the edge reads can neither miss a change nor announce one that rolled back; its
 * audit row is written in that transaction too.
 */
export function createKeyRoutes({
  prisma,
  keyHashSecret,
  graceSeconds,
  defaults,
  clock,
  onKeyChangesQueued = () => {},
}: KeyRoutesDeps): OpenAPIHono<AppEnv> {
  const routes = new OpenAPIHono<AppEnv>();
  const pathId = (c: Context) => parseOr400(idParamSchema, c.req.param(), "path").id;
  /** A key's expiry from a body: null for never, a time only if it lies ahead of the service's clock. */
  function futureExpiry(value: string | null): Date | null {
    if (value === null) return null;
    const at = new Date(value);
    if (at.getTime() <= clock().getTime()) {
      throw badRequest("Invalid body", [{ field: "expiresAt", message: "must be in the future" }]);
    }
    return at;
  }
  const change = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => changeKeys(prisma, onKeyChangesQueued, fn);

  describeRoute(
    routes,
    {
      method: "post",
      path: "/",
      summary: "Create an API key",
      description:
        "`expiresAt` must lie in the future. The answer is the only one that carries the plaintext key.",
      tags,
      request: { body: jsonBody(createKeySchema) },
      responses: {
        201: jsonResponse(newKeySchema, "Created", noStore),
        ...adminErrorResponses({
          400: "Invalid body (`errors` lists the fields), or `expiresAt` not in the future",
          404: "User not found",
          409: "The user was deleted concurrently; try again",
          413: BODY_TOO_LARGE,
        }),
      },
    },
    async (c) => {
      const body = await readJson(c, createKeySchema);
      const expiresAt = futureExpiry(body.expiresAt ?? null);
      const plaintext = generateApiKey();
      const key = await change(async (tx) => {
        const owner = await tx.user.findUnique({ where: { id: body.userId }, select: { id: true } });
        if (!owner) throw notFound("User not found");
        const created = await tx.apiKey.create({
          data: {
            userId: body.userId,
            name: body.name,
            description: body.description ?? null,
            keyHash: hashApiKey(keyHashSecret, plaintext),
            keyPrefix: displayPrefix(plaintext),
            rateLimitMinute: body.rateLimits?.minute ?? null,
            rateLimitHour: body.rateLimits?.hour ?? null,
            rateLimitDay: body.rateLimits?.day ?? null,
            expiresAt,
          },
        });
        await enqueueKeyState(tx, created);
        await recordAudit(tx, auditActor(c), keyCreated(created));
        return created;
      });
      c.get("logger").info({ keyId: key.id, userId: key.userId, prefix: key.keyPrefix }, "api key created");
      // The only response that ever carries the plaintext: keep it out of every cache.
      c.header("Cache-Control", "no-store");
      return c.json({ key: plaintext, ...keySummaryView(key, defaults, clock()) }, 201);
    },
  );

  describeListRoute(
    routes,
    {
      path: "/",
      summary: "List API keys",
      description:
        "`active=true`: the keys the edge accepts now (active and unexpired); `false`: the others. " +
        "`ids=3,7,12`: only those keys (up to 100; ids of deleted keys are left out). " +
        "`search`: keys whose name contains it (any case) or whose prefix starts with it (`ak_Xy12`).",
      tags,
      query: listKeysQuerySchema,
      item: keySchema,
      page: "A page of keys, by id",
    },
    async (c, query) => {
      const now = clock();
      const filters: Prisma.ApiKeyWhereInput[] = [];
      if (query.cursor !== undefined) filters.push({ id: { gt: query.cursor } });
      if (query.userId !== undefined) filters.push({ userId: query.userId });
      if (query.ids !== undefined) filters.push({ id: { in: query.ids } });
      if (query.active === "true") filters.push(usableAt(now));
      if (query.active === "false") filters.push({ NOT: usableAt(now) });
      if (query.search !== undefined) {
        filters.push({
          OR: [
            { name: { contains: query.search, mode: "insensitive" } },
            { keyPrefix: { startsWith: query.search } },
          ],
        });
      }
      const rows = await prisma.apiKey.findMany({
        where: { AND: filters },
        orderBy: { id: "asc" },
        take: query.limit + 1,
      });
      const page = toPage(rows, query.limit);
      return c.json({
        items: page.items.map((key) => keyView(key, defaults, now)),
        nextCursor: page.nextCursor,
      });
    },
  );

  describeRoute(
    routes,
    {
      method: "get",
      path: "/{id}",
      summary: "Get an API key with its usage",
      tags,
      request: { params: idParamSchema },
      responses: readResponses(keySchema, "The key", "API key not found"),
    },
    async (c) => {
      const key = await prisma.apiKey.findUnique({ where: { id: pathId(c) } });
      if (!key) throw notFound("API key not found");
      return c.json(keyView(key, defaults, clock()));
    },
  );

  describeRoute(
    routes,
    {
      method: "patch",
      path: "/{id}",
      summary: "Update an API key",
      description:
        "A `rateLimits` window set to null goes back to the default limit. `expiresAt` must lie in the " +
        "future, or be null for a key that never expires (also the way to keep a rotated key working).",
      tags,
      request: { params: idParamSchema, body: jsonBody(updateKeySchema) },
      responses: {
        200: jsonResponse(keySchema, "The updated key"),
        ...adminErrorResponses({
          400: "Invalid path or body (`errors` lists the fields), or `expiresAt` not in the future",
          404: "API key not found",
          413: BODY_TOO_LARGE,
        }),
      },
    },
    async (c) => {
      const id = pathId(c);
      const body = await readJson(c, updateKeySchema);
      const expiresAt = body.expiresAt === undefined ? undefined : futureExpiry(body.expiresAt);
      // undefined leaves a column as it is; null (description, a window's limit) clears it.
      const key = await change(async (tx) => {
        const before = await lockedKey(tx, id);
        if (!before) throw notFound("API key not found");
        const updated = await tx.apiKey.update({
          where: { id },
          data: {
            name: body.name,
            description: body.description,
            isActive: body.isActive,
            expiresAt,
            rateLimitMinute: body.rateLimits?.minute,
            rateLimitHour: body.rateLimits?.hour,
            rateLimitDay: body.rateLimits?.day,
          },
        });
        await enqueueKeyState(tx, updated);
        // Setting the values the key already had changes nothing, and leaves no audit row.
        const entry = keyUpdated(before, updated);
        if (entry) await recordAudit(tx, auditActor(c), entry);
        return updated;
      });
      c.get("logger").info({ keyId: key.id, changed: Object.keys(body) }, "api key updated");
      return c.json(keyView(key, defaults, clock()));
    },
  );

  describeRoute(
    routes,
    {
      method: "post",
      path: "/{id}/rotate",
      summary: "Rotate an API key",
      description:
        "Issues a successor with the same name, limits and expiry. The old key keeps working for " +
        "`gracePeriodSeconds` (default KEY_ROTATION_GRACE_SECONDS), or until its own expiry if sooner. " +
        "The body may be omitted.",
      tags,
      request: { params: idParamSchema, body: jsonBody(rotateKeySchema, undefined, false) },
      responses: {
        201: jsonResponse(rotatedKeySchema, "The successor", noStore),
        ...adminErrorResponses({
          400: "Invalid path or body (`errors` lists the fields)",
          404: "API key not found",
          409: "The key is inactive or expired, or was already rotated",
          413: BODY_TOO_LARGE,
        }),
      },
    },
    async (c) => {
      const id = pathId(c);
      const body = await readOptionalJson(c, rotateKeySchema);
      const grace = body.gracePeriodSeconds ?? graceSeconds;
      const now = clock();
      const plaintext = generateApiKey();
      const key = await change(async (tx) => {
        // The owner first, as deleting a user takes them (user, then keys), so that the two
        // cannot deadlock. Then the key's row, so that the usability check below cannot race a
        // concurrent deactivation, and so that this key's outbox rows commit in id order (the
        // relay relies on it).
        await tx.$queryRaw`
          select u.id from users u join api_keys k on k.user_id = u.id where k.id = ${id} for key share of u`;
        const old = await lockedKey(tx, id);
        if (!old) throw notFound("API key not found");
        if (!isKeyUsable(old, now)) throw conflict("API key is inactive or expired and cannot be rotated");
        // The successor keeps the key's policy (name, limits, expiry); only the secret changes.
        // rotated_from_id is unique, so of two concurrent rotations the second fails here (409).
        const successor = await tx.apiKey.create({
          data: {
            userId: old.userId,
            name: old.name,
            description: old.description,
            keyHash: hashApiKey(keyHashSecret, plaintext),
            keyPrefix: displayPrefix(plaintext),
            rateLimitMinute: old.rateLimitMinute,
            rateLimitHour: old.rateLimitHour,
            rateLimitDay: old.rateLimitDay,
            expiresAt: old.expiresAt,
            rotatedFromId: old.id,
          },
        });
        const retiring = await tx.apiKey.update({
          where: { id: old.id },
          data: { expiresAt: expiryAfterRotation(old.expiresAt, now, grace) },
        });
        await enqueueKeyState(tx, successor);
        await enqueueKeyState(tx, retiring);
        const actor = auditActor(c);
        await recordAudit(tx, actor, keyRotated(old, retiring, successor, grace));
        await recordAudit(tx, actor, keyCreated(successor, old.id));
        return successor;
      });
      c.get("logger").info(
        { keyId: key.id, rotatedFromId: id, prefix: key.keyPrefix, graceSeconds: grace },
        "api key rotated",
      );
      c.header("Cache-Control", "no-store");
      return c.json(
        { key: plaintext, ...keySummaryView(key, defaults, clock()), rotatedFromId: key.rotatedFromId },
        201,
      );
    },
  );

  describeRoute(
    routes,
    {
      method: "delete",
      path: "/{id}",
      summary: "Delete an API key",
      description: "The edge stops accepting the key as soon as it reads the tombstone.",
      tags,
      request: { params: idParamSchema },
      responses: deleteResponses("API key not found"),
    },
    async (c) => {
      const id = pathId(c);
      await change(async (tx) => {
        const deleted = await tx.apiKey.delete({ where: { id } });
        await enqueueKeyTombstone(tx, deleted.keyHash);
        await recordAudit(tx, auditActor(c), keyDeleted(deleted));
      });
      c.get("logger").info({ keyId: id }, "api key deleted");
      return c.body(null, 204);
    },
  );

  return routes;
}
