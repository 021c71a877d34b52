import { randomUUID } from "node:crypto";
import { Prisma } from "../src";
import { useTestDatabase } from "./support/database";
import { failure } from "./support/failure";

// Every model written and read through the generated client on a freshly migrated database.

async function prismaErrorCode(promise: Promise<unknown>): Promise<string> {
  const error = await failure(promise);
  if (error instanceof Prisma.PrismaClientKnownRequestError) return error.code;
  throw error;
}

describe("database models through the Prisma client", () => {
  const db = useTestDatabase();

  async function createUser(email = `${randomUUID()}@example.com`) {
    return db.prisma.user.create({ data: { email, name: "Ada" } });
  }

  async function createKey(userId: number, overrides: Partial<Prisma.ApiKeyUncheckedCreateInput> = {}) {
    return db.prisma.apiKey.create({
      data: {
        userId,
        name: "ci",
        keyHash: randomUUID().replaceAll("-", ""),
        keyPrefix: "ak_1234",
        ...overrides,
      },
    });
  }

  describe("users and API keys", () => {
    it("stores a key as hash and prefix with the spec's defaults", async () => {
      const user = await createUser();
      const key = await createKey(user.id, { description: "deploys", rateLimitMinute: 10 });

      expect(key).toEqual({
        id: expect.any(Number),
        userId: user.id,
        name: "ci",
        description: "deploys",
        keyHash: expect.stringMatching(/^[0-9a-f]{32}$/),
        keyPrefix: "ak_1234",
        isActive: true,
        usageCount: 0n,
        lastUsed: null,
        expiresAt: null,
        rateLimitMinute: 10,
        rateLimitHour: null,
        rateLimitDay: null,
        rotatedFromId: null,
        createdAt: expect.any(Date),
        updatedAt: expect.any(Date),
      });
    });

    it("rejects a second user with the same email and a second key with the same hash (P2002)", async () => {
      const user = await createUser("dup@example.com");
      expect(await prismaErrorCode(createUser("dup@example.com"))).toBe("P2002");
      await createKey(user.id, { keyHash: "same-hash" });
      expect(await prismaErrorCode(createKey(user.id, { keyHash: "same-hash" }))).toBe("P2002");
    });

    it("counts usage in a BigInt beyond 2^53", async () => {
      const key = await createKey((await createUser()).id, { usageCount: 2n ** 53n });
      const lastUsed = new Date("2026-01-02T03:04:05.678Z");
      const updated = await db.prisma.apiKey.update({
        where: { id: key.id },
        data: { usageCount: { increment: 3n }, lastUsed },
      });
      expect(updated.usageCount).toBe(2n ** 53n + 3n);
      expect(updated.lastUsed).toEqual(lastUsed);
    });

    it("links a rotated key to its predecessor, once, and survives the predecessor's deletion", async () => {
      const user = await createUser();
      const old = await createKey(user.id);
      const next = await createKey(user.id, { rotatedFromId: old.id });

      expect(
        await db.prisma.apiKey.findUnique({ where: { id: old.id }, select: { rotatedTo: true } }),
      ).toEqual({
        rotatedTo: next,
      });
      expect(await prismaErrorCode(createKey(user.id, { rotatedFromId: old.id }))).toBe("P2002");

      await db.prisma.apiKey.delete({ where: { id: old.id } });
      expect((await db.prisma.apiKey.findUniqueOrThrow({ where: { id: next.id } })).rotatedFromId).toBeNull();
    });

    it("deletes a user's keys with the user", async () => {
      const user = await createUser();
      await createKey(user.id);
      await createKey(user.id);
      expect(await db.prisma.apiKey.count({ where: { userId: user.id } })).toBe(2);

      await db.prisma.user.delete({ where: { id: user.id } });

      expect(await db.prisma.apiKey.count({ where: { userId: user.id } })).toBe(0);
    });
  });

  describe("api usage", () => {
    it("records each event once however often it is delivered (createMany skipDuplicates)", async () => {
      const occurredAt = new Date("2026-03-04T05:06:07.089Z");
      const events = Array.from({ length: 3 }, (_, i) => ({
        eventId: randomUUID(),
        userId: 1,
        apiKeyId: 42,
        endpoint: "/users/:id",
        method: "GET",
        statusCode: 200 + i,
        responseTime: 0.125,
        rateLimited: i === 2,
        createdAt: occurredAt,
      }));

      expect(await db.prisma.apiUsage.createMany({ data: events, skipDuplicates: true })).toEqual({
        count: 3,
      });
      expect(await db.prisma.apiUsage.createMany({ data: events, skipDuplicates: true })).toEqual({
        count: 0,
      });
      expect(
        await db.prisma.apiUsage.createMany({
          data: [...events, { ...events[0], eventId: randomUUID() } as (typeof events)[number]],
          skipDuplicates: true,
        }),
      ).toEqual({ count: 1 });

      const rows = await db.prisma.apiUsage.findMany({ where: { apiKeyId: 42 }, orderBy: { id: "asc" } });
      expect(rows).toHaveLength(4);
      expect(rows[0]).toEqual({ id: expect.any(BigInt), ...events[0] });
      expect(rows[2]?.rateLimited).toBe(true);
    });

    it("lands rows in the default partition until day partitions exist", async () => {
      const rows = await db.prisma.$queryRaw<Array<{ partition: string; rows: bigint }>>`
        SELECT tableoid::regclass::text AS partition, count(*) AS rows FROM api_usage GROUP BY 1`;
      expect(rows).toEqual([{ partition: "api_usage_default", rows: 4n }]);
    });
  });

  describe("alerts", () => {
    const base = {
      fingerprint: "response_time:key=7:/users/:id",
      type: "response_time",
      severity: "warning",
      apiKeyId: 7,
      endpoint: "/users/:id",
      message: "p95 response time 1.4 s over 1.0 s",
      observedValue: 1.4,
      threshold: 1.0,
    } as const;

    it("keeps at most one open alert per fingerprint, and any number of resolved ones", async () => {
      const first = await db.prisma.alert.create({ data: base });
      expect(first).toMatchObject({
        status: "firing",
        occurrences: 1,
        acknowledgedAt: null,
        resolvedAt: null,
      });

      expect(await prismaErrorCode(db.prisma.alert.create({ data: base }))).toBe("P2002");
      await db.prisma.alert.update({
        where: { id: first.id },
        data: { status: "acknowledged", acknowledgedBy: "ops" },
      });
      expect(await prismaErrorCode(db.prisma.alert.create({ data: base }))).toBe("P2002");

      await db.prisma.alert.update({
        where: { id: first.id },
        data: { status: "resolved", resolvedAt: new Date() },
      });
      const second = await db.prisma.alert.create({
        data: { ...base, severity: "critical", observedValue: 2.5 },
      });
      await db.prisma.alert.update({
        where: { id: second.id },
        data: { status: "resolved", resolvedAt: new Date() },
      });
      await db.prisma.alert.create({ data: base });

      expect(
        await db.prisma.alert.groupBy({
          by: ["status"],
          where: { fingerprint: base.fingerprint },
          _count: true,
          orderBy: { status: "asc" },
        }),
      ).toEqual([
        { status: "firing", _count: 1 },
        { status: "resolved", _count: 2 },
      ]);
    });

    it("stores every alert type the spec names", async () => {
      const types = [
        "response_time",
        "error_rate",
        "usage_spike",
        "unauthorized_access",
        "rate_limit_approaching",
      ] as const;
      for (const type of types) {
        await db.prisma.alert.create({ data: { ...base, type, fingerprint: `${type}:all` } });
      }
      const stored = await db.prisma.alert.findMany({
        where: { fingerprint: { endsWith: ":all" } },
        select: { type: true },
      });
      expect(stored.map((a) => a.type).sort()).toEqual([...types].sort());
    });
  });

  describe("alert settings", () => {
    const thresholds = {
      response_time: { warning: 1.0, critical: 2.0 },
      error_rate: { warning: 0.05, critical: 0.1 },
      usage_spike: { warning: 2.0, critical: 3.0 },
    };

    it("is one row of JSON settings, created or replaced by upsert", async () => {
      const escalation = { afterSeconds: 900, to: ["oncall@example.com"] };
      const create = { alertThresholds: thresholds, repeatIntervalSeconds: 3600, escalation };
      await db.prisma.alertSettings.upsert({ where: { id: 1 }, create, update: create });
      await db.prisma.alertSettings.upsert({
        where: { id: 1 },
        create,
        update: { repeatIntervalSeconds: 600 },
      });

      expect(await db.prisma.alertSettings.findMany()).toEqual([
        {
          id: 1,
          alertThresholds: thresholds,
          repeatIntervalSeconds: 600,
          // A row written before grouping existed groups by the default.
          groupIntervalSeconds: 300,
          escalation,
          updatedAt: expect.any(Date),
        },
      ]);
    });

    it("refuses a second row", async () => {
      await expect(
        db.prisma.alertSettings.create({
          data: { id: 2, alertThresholds: thresholds, repeatIntervalSeconds: 1, escalation: {} },
        }),
      ).rejects.toThrow(/alert_settings_single_row/);
    });
  });

  describe("notification channels and deliveries", () => {
    it("logs every attempt per channel, with the defaults and cascades of a channel", async () => {
      const channel = await db.prisma.notificationChannel.create({
        data: { name: "ops hook", type: "webhook", target: "http://127.0.0.1:9/hook", secret: "s3cret" },
      });
      expect(channel).toMatchObject({ minSeverity: "warning", enabled: true, secret: "s3cret" });
      const alert = await db.prisma.alert.create({
        data: {
          fingerprint: "error_rate:key=9",
          type: "error_rate",
          severity: "critical",
          message: "12% errors",
          observedValue: 0.12,
          threshold: 0.1,
        },
      });

      const attempt = (n: number, status: "failed" | "retrying" | "succeeded", alertId: number | null) =>
        db.prisma.notificationDelivery.create({
          data: { deliveryId: randomUUID(), alertId, channelId: channel.id, attempt: n, status },
        });
      await attempt(1, "retrying", alert.id);
      const last = await attempt(2, "succeeded", alert.id);
      await attempt(1, "succeeded", null); // the channel's test message
      await db.prisma.notificationDelivery.update({
        where: { id: last.id },
        data: { responseCode: 200, latencyMs: 35 },
      });

      expect(
        await db.prisma.alert.findUniqueOrThrow({
          where: { id: alert.id },
          select: {
            deliveries: {
              select: { attempt: true, status: true, responseCode: true },
              orderBy: { id: "asc" },
            },
          },
        }),
      ).toEqual({
        deliveries: [
          { attempt: 1, status: "retrying", responseCode: null },
          { attempt: 2, status: "succeeded", responseCode: 200 },
        ],
      });
      expect(typeof last.id).toBe("bigint");
      expect(
        await prismaErrorCode(
          db.prisma.notificationDelivery.create({
            data: { deliveryId: last.deliveryId, channelId: channel.id, attempt: 3, status: "pending" },
          }),
        ),
      ).toBe("P2002");

      await db.prisma.alert.delete({ where: { id: alert.id } });
      expect(await db.prisma.notificationDelivery.count({ where: { channelId: channel.id } })).toBe(1);
      await db.prisma.notificationChannel.delete({ where: { id: channel.id } });
      expect(await db.prisma.notificationDelivery.count({ where: { channelId: channel.id } })).toBe(0);
    });
  });

  describe("outbox", () => {
    it("keeps messages in id order, with null payloads as tombstones, until published", async () => {
      const headers = { "content-type": "application/json" };
      await db.prisma.outbox.create({
        data: { topic: "keys.changes.v1", messageKey: "h1", payload: { active: true }, headers },
      });
      await db.prisma.outbox.create({
        data: { topic: "keys.changes.v1", messageKey: "h1", payload: Prisma.DbNull },
      });

      const unpublished = await db.prisma.outbox.findMany({
        where: { publishedAt: null },
        orderBy: { id: "asc" },
      });
      expect(
        unpublished.map(({ messageKey, payload, headers }) => ({ messageKey, payload, headers })),
      ).toEqual([
        { messageKey: "h1", payload: { active: true }, headers },
        { messageKey: "h1", payload: null, headers: null },
      ]);
      expect((unpublished[1]?.id ?? 0n) > (unpublished[0]?.id ?? 0n)).toBe(true);

      await db.prisma.outbox.updateMany({ where: { publishedAt: null }, data: { publishedAt: new Date() } });
      expect(await db.prisma.outbox.count({ where: { publishedAt: null } })).toBe(0);
    });
  });

  describe("consumer offsets", () => {
    it("stores the next offset per group, topic and partition, as an exact BigInt", async () => {
      const id = { groupId: "key-stats", topic: "usage.events.v1", partition: 3 };
      const at = (nextOffset: bigint) =>
        db.prisma.consumerOffset.upsert({
          where: { groupId_topic_partition: id },
          create: { ...id, nextOffset },
          update: { nextOffset },
        });
      await at(10n);
      await at(2n ** 62n + 1n);
      await db.prisma.consumerOffset.create({ data: { ...id, partition: 4, nextOffset: 0n } });

      expect(
        await db.prisma.consumerOffset.findMany({
          orderBy: { partition: "asc" },
          select: { partition: true, nextOffset: true },
        }),
      ).toEqual([
        { partition: 3, nextOffset: 2n ** 62n + 1n },
        { partition: 4, nextOffset: 0n },
      ]);
    });
  });
});
