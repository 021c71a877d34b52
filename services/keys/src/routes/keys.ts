import type { Prisma, PrismaClient } from "@apimon/db";
import {
  type AppEnv,
  badRequest,
  conflict,
  notFound,
  parseOr400,
  readJson,
  readQuery,
  toPage,
} from "@apimon/http";
import { displayPrefix, generateApiKey, hashApiKey } from "@apimon/key-registry";
import { type Context, Hono } from "hono";
import type { z } from "zod";
import { expiryAfterRotation, isKeyUsable, type RateLimits } from "../domain/key-policy";
import { enqueueKeyState, enqueueKeyTombstone } from "../outbox";
import {
  createKeySchema,
  idParamSchema,
  listKeysQuerySchema,
  rotateKeySchema,
  updateKeySchema,
} from "../schemas";
import { keySummaryView, keyView } from "../views";

export interface KeyRoutesDeps {
  prisma: PrismaClient;
  keyHashSecret: string;
  /** Grace period of a rotation that names none. */
  graceSeconds: number;
  /** The limits of a window without an override. */
  defaults: RateLimits;
  clock: () => Date;
}

/** A body whose fields are all optional may be left out entirely (no body, or Content-Length: 0). */
async function readOptionalJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const empty = c.req.raw.body === null || c.req.header("content-length") === "0";
  return empty ? parseOr400(schema, {}, "body") : readJson(c, schema);
}

/** Keys the edge accepts at `now`; the query form of isKeyUsable. */
function usableAt(now: Date): Prisma.ApiKeyWhereInput {
  return { isActive: true, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] };
}

/**
 * `/keys`: create, list, read, update, rotate and delete API keys. Every change writes the
 * key's new state (or a tombstone) to the outbox in the same transaction, so the registry
 * topic that the edge reads can neither miss a change nor announce one that rolled back.
 */
export function createKeyRoutes({
  prisma,
  keyHashSecret,
  graceSeconds,
  defaults,
  clock,
}: KeyRoutesDeps): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  const pathId = (c: Context) => parseOr400(idParamSchema, c.req.param(), "path").id;

  routes.post("/", async (c) => {
    const body = await readJson(c, createKeySchema);
    const expiresAt = body.expiresAt == null ? null : new Date(body.expiresAt);
    if (expiresAt !== null && expiresAt.getTime() <= clock().getTime()) {
      throw badRequest("Invalid body", [{ field: "expiresAt", message: "must be in the future" }]);
    }
    const plaintext = generateApiKey();
    const key = await prisma.$transaction(async (tx) => {
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
      return created;
    });
    c.get("logger").info({ keyId: key.id, userId: key.userId, prefix: key.keyPrefix }, "api key created");
    // The only response that ever carries the plaintext: keep it out of every cache.
    c.header("Cache-Control", "no-store");
    return c.json({ key: plaintext, ...keySummaryView(key, defaults) }, 201);
  });

  routes.get("/", async (c) => {
    const query = readQuery(c, listKeysQuerySchema);
    const now = clock();
    const filters: Prisma.ApiKeyWhereInput[] = [];
    if (query.cursor !== undefined) filters.push({ id: { gt: query.cursor } });
    if (query.userId !== undefined) filters.push({ userId: query.userId });
    if (query.active === "true") filters.push(usableAt(now));
    if (query.active === "false") filters.push({ NOT: usableAt(now) });
    const rows = await prisma.apiKey.findMany({
      where: { AND: filters },
      orderBy: { id: "asc" },
      take: query.limit + 1,
    });
    const page = toPage(rows, query.limit);
    return c.json({ items: page.items.map((key) => keyView(key, defaults)), nextCursor: page.nextCursor });
  });

  routes.get("/:id", async (c) => {
    const key = await prisma.apiKey.findUnique({ where: { id: pathId(c) } });
    if (!key) throw notFound("API key not found");
    return c.json(keyView(key, defaults));
  });

  routes.patch("/:id", async (c) => {
    const id = pathId(c);
    const body = await readJson(c, updateKeySchema);
    // undefined leaves a column as it is; null (description, a window's limit) clears it.
    const key = await prisma.$transaction(async (tx) => {
      const updated = await tx.apiKey.update({
        where: { id },
        data: {
          name: body.name,
          description: body.description,
          isActive: body.isActive,
          rateLimitMinute: body.rateLimits?.minute,
          rateLimitHour: body.rateLimits?.hour,
          rateLimitDay: body.rateLimits?.day,
        },
      });
      await enqueueKeyState(tx, updated);
      return updated;
    });
    c.get("logger").info({ keyId: key.id, changed: Object.keys(body) }, "api key updated");
    return c.json(keyView(key, defaults));
  });

  routes.post("/:id/rotate", async (c) => {
    const id = pathId(c);
    const body = await readOptionalJson(c, rotateKeySchema);
    const grace = body.gracePeriodSeconds ?? graceSeconds;
    const now = clock();
    const plaintext = generateApiKey();
    const key = await prisma.$transaction(async (tx) => {
      // Lock the row first, so that the usability check below cannot race a concurrent
      // deactivation, and so that this key's outbox rows commit in id order (the relay
      // relies on it).
      await tx.$queryRaw`select id from api_keys where id = ${id} for update`;
      const old = await tx.apiKey.findUnique({ where: { id } });
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
      return successor;
    });
    c.get("logger").info(
      { keyId: key.id, rotatedFromId: id, prefix: key.keyPrefix, graceSeconds: grace },
      "api key rotated",
    );
    c.header("Cache-Control", "no-store");
    return c.json(
      { key: plaintext, ...keySummaryView(key, defaults), rotatedFromId: key.rotatedFromId },
      201,
    );
  });

  routes.delete("/:id", async (c) => {
    const id = pathId(c);
    await prisma.$transaction(async (tx) => {
      const deleted = await tx.apiKey.delete({ where: { id } });
      await enqueueKeyTombstone(tx, deleted.keyHash);
    });
    c.get("logger").info({ keyId: id }, "api key deleted");
    return c.body(null, 204);
  });

  return routes;
}
