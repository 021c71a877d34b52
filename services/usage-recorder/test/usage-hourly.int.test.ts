import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPrismaClient, migrate } from "@apimon/db";
import type { UsageEvent } from "@apimon/events";
import { createTestDatabase, makeUsageEvent, repoRoot, type TestDatabase } from "@apimon/testkit";
import { toUsageRow, type UsageRow } from "../src/domain/usage-row";
import { createUsageWriter } from "../src/usage-writer";
import { hourlyDrift } from "./support/hourly";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

function row(at: string, fields: Partial<UsageEvent> = {}): UsageRow {
  return toUsageRow(makeUsageEvent({ occurredAt: at, ...fields }));
}

async function endpointRows(hour: string) {
  return db.prisma.$queryRaw<Record<string, unknown>[]>`
    SELECT user_id, endpoint, method, requests::int, errors::int, client_errors::int,
           rate_limited::int, latency
    FROM usage_hourly_endpoints WHERE hour = ${hour}::timestamptz ORDER BY user_id, endpoint, method`;
}

describe("hourly usage tables", () => {
  it("add each stored request once: by hour, endpoint and user (0 for every key), and by key", async () => {
    const writer = createUsageWriter({ prisma: db.prisma });
    const rows = [
      row("2026-03-01T10:00:00Z", { userId: 1, apiKeyId: 11, statusCode: 200, responseTimeMs: 0.05 }),
      row("2026-03-01T10:20:00Z", { userId: 1, apiKeyId: 11, statusCode: 503, responseTimeMs: 1 }),
      row("2026-03-01T10:59:59.999Z", { userId: 2, apiKeyId: 21, statusCode: 429, responseTimeMs: 1 }),
      row("2026-03-01T10:30:00Z", {
        userId: 2,
        apiKeyId: 21,
        endpoint: "/orders",
        method: "POST",
        statusCode: 404,
        responseTimeMs: 250,
      }),
      row("2026-03-01T11:00:00Z", { userId: 1, apiKeyId: 12, statusCode: 200, responseTimeMs: 10 }),
    ];
    rows[2] = { ...(rows[2] as UsageRow), rateLimited: true };
    // The same event twice in one batch, then the whole batch again (a redelivery).
    expect(await writer.write([...rows, rows[0] as UsageRow])).toEqual({ inserted: 5, duplicates: 1 });
    expect(await writer.write(rows)).toEqual({ inserted: 0, duplicates: 5 });

    // Buckets: 0.05 ms is below 0.1 ms (0); 1 ms is bucket 1 + ⌊8·log2(10)⌋ = 27; 250 ms is
    // 1 + ⌊8·log2(2500)⌋ = 91.
    expect(await endpointRows("2026-03-01T10:00:00Z")).toEqual([
      {
        user_id: 0,
        endpoint: "/orders",
        method: "POST",
        requests: 1,
        errors: 0,
        client_errors: 1,
        rate_limited: 0,
        latency: { "91": 1 },
      },
      {
        user_id: 0,
        endpoint: "/users/:id",
        method: "GET",
        requests: 3,
        errors: 1,
        client_errors: 1,
        rate_limited: 1,
        latency: { "0": 1, "27": 2 },
      },
      {
        user_id: 1,
        endpoint: "/users/:id",
        method: "GET",
        requests: 2,
        errors: 1,
        client_errors: 0,
        rate_limited: 0,
        latency: { "0": 1, "27": 1 },
      },
      {
        user_id: 2,
        endpoint: "/orders",
        method: "POST",
        requests: 1,
        errors: 0,
        client_errors: 1,
        rate_limited: 0,
        latency: { "91": 1 },
      },
      {
        user_id: 2,
        endpoint: "/users/:id",
        method: "GET",
        requests: 1,
        errors: 0,
        client_errors: 1,
        rate_limited: 1,
        latency: { "27": 1 },
      },
    ]);
    expect(
      await db.prisma.$queryRaw`
        SELECT hour, api_key_id, user_id, requests::int, errors::int, client_errors::int,
               rate_limited::int, latency
        FROM usage_hourly_keys
        WHERE hour >= '2026-03-01' AND hour < '2026-03-02' ORDER BY hour, api_key_id`,
    ).toEqual([
      {
        hour: new Date("2026-03-01T10:00:00Z"),
        api_key_id: 11,
        user_id: 1,
        requests: 2,
        errors: 1,
        client_errors: 0,
        rate_limited: 0,
        latency: { "0": 1, "27": 1 },
      },
      {
        hour: new Date("2026-03-01T10:00:00Z"),
        api_key_id: 21,
        user_id: 2,
        requests: 2,
        errors: 0,
        client_errors: 2,
        rate_limited: 1,
        latency: { "27": 1, "91": 1 },
      },
      {
        hour: new Date("2026-03-01T11:00:00Z"),
        api_key_id: 12,
        user_id: 1,
        requests: 1,
        errors: 0,
        client_errors: 0,
        rate_limited: 0,
        latency: { "54": 1 },
      },
    ]);

    // A later batch adds to the same hour's rows, histograms merged bucket by bucket.
    await writer.write([row("2026-03-01T10:45:00Z", { userId: 1, apiKeyId: 11, responseTimeMs: 1 })]);
    expect((await endpointRows("2026-03-01T10:00:00Z"))[2]).toMatchObject({
      user_id: 1,
      requests: 3,
      latency: { "0": 1, "27": 2 },
    });
    expect(
      await db.prisma.$queryRaw`
        SELECT requests::int, latency FROM usage_hourly_keys
        WHERE hour = '2026-03-01T10:00:00Z' AND api_key_id = 11`,
    ).toEqual([{ requests: 3, latency: { "0": 1, "27": 2 } }]);
    expect(await hourlyDrift(db.prisma)).toEqual([]);
  });

  it("lose nothing when writers add to the same hours at once", async () => {
    const clients = Array.from({ length: 4 }, () => createPrismaClient({ connectionString: db.url }));
    const writers = clients.map((prisma) => createUsageWriter({ prisma }));
    const batch = (w: number, b: number) =>
      Array.from({ length: 100 }, (_, i) =>
        row(new Date(Date.UTC(2026, 3, 1, (w + b + i) % 3, i % 60)).toISOString(), {
          // A key belongs to one user.
          userId: 1 + (((w + b + i) % 6) % 3),
          apiKeyId: 1 + ((w + b + i) % 6),
          endpoint: `/e${(w * b + i) % 5}`,
          responseTimeMs: (i * 7) % 900,
          statusCode: i % 9 === 0 ? 500 : 200,
        }),
      );
    // Each writer's batches touch the rows in a different order; all of them every hour.
    const results = await Promise.all(
      writers.map(async (writer, w) => {
        let inserted = 0;
        for (let b = 0; b < 15; b++) inserted += (await writer.write(batch(w, b).reverse())).inserted;
        return inserted;
      }),
    ).finally(() => Promise.all(clients.map((c) => c.$disconnect())));
    expect(results).toEqual([1500, 1500, 1500, 1500]);
    const [sum] = await db.prisma.$queryRaw<{ requests: number; errors: number }[]>`
      SELECT sum(requests)::int AS requests, sum(errors)::int AS errors FROM usage_hourly_endpoints
      WHERE user_id = 0 AND hour >= '2026-04-01' AND hour < '2026-04-02'`;
    expect(sum).toEqual({ requests: 6000, errors: 4 * 15 * 12 });
    expect(await hourlyDrift(db.prisma)).toEqual([]);
  });

  // The migration that makes the tables, and the one that gives a key's hours their 4xx, 429s and
  // latency histogram.
  it.each(["_usage_hourly", "_usage_hourly_key_latency"])(
    "start from the requests already stored when the migration ending in %s runs",
    async (suffix) => {
      const migrations = path.join(repoRoot, "prisma", "migrations");
      const names = (await readdir(migrations)).sort();
      const own = names.find((name) => name.endsWith(suffix));
      expect(own).toBeDefined();
      const before = await mkdtemp(path.join(tmpdir(), "apimon-migrations-"));
      const older = await createTestDatabase({ migrate: false });
      try {
        for (const name of names.filter((n) => n < (own as string) || n === "migration_lock.toml")) {
          await cp(path.join(migrations, name), path.join(before, name), { recursive: true });
        }
        await migrate({ connectionString: older.url, migrationsDir: before });
        await createUsageWriter({ prisma: older.prisma }).write(
          Array.from({ length: 50 }, (_, i) =>
            row(new Date(Date.UTC(2026, 4, 1, i % 4, i)).toISOString(), {
              userId: 1 + (i % 2),
              apiKeyId: 1 + (i % 5),
              responseTimeMs: i * 3,
              statusCode: i % 10 === 0 ? 502 : i % 7 === 0 ? 429 : 200,
            }),
          ),
        );
        const tablesBefore = await older.prisma.$queryRaw<{ t: string | null }[]>`
        SELECT to_regclass('usage_hourly_endpoints')::text AS t`;
        expect(tablesBefore).toEqual([{ t: suffix === "_usage_hourly" ? null : "usage_hourly_endpoints" }]);

        expect((await migrate({ connectionString: older.url })).applied).toEqual(
          names.filter((n) => n >= (own as string) && n !== "migration_lock.toml"),
        );
        const [sum] = await older.prisma.$queryRaw<{ requests: number }[]>`
        SELECT sum(requests)::int AS requests FROM usage_hourly_endpoints WHERE user_id = 0`;
        expect(sum).toEqual({ requests: 50 });
        expect(await hourlyDrift(older.prisma)).toEqual([]);
      } finally {
        await rm(before, { recursive: true, force: true });
        await older.drop();
      }
    },
  );
});
