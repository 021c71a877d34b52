import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { appendFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTestDatabase, type TestDatabase } from "@apimon/testkit";
import { Client } from "pg";
import {
  createPrismaClient,
  dropDatabase,
  MIGRATION_ADVISORY_LOCK_KEY,
  type MigrateOptions,
  MigrationError,
  migrate,
  readMigrations,
  runMigrateCli,
  withDatabaseName,
} from "../src";
import { diagnoseMigrationHistory, MIGRATIONS_DIR, prismaMigrateDeploy } from "./support/schema-engine-cli";

const INIT = "20261127000000_init";
/** Every migration of prisma/migrations, in order (INIT first): what a full run applies. */
const ALL = readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function migrationRows(url: string, schema = "public") {
  return withClient(url, async (client) => {
    const { rows } = await client.query(
      `SELECT * FROM ${schema}."_prisma_migrations" ORDER BY started_at, migration_name`,
    );
    return rows as Array<{
      id: string;
      checksum: string;
      finished_at: Date | null;
      migration_name: string;
      logs: string | null;
      rolled_back_at: Date | null;
      started_at: Date;
      applied_steps_count: number;
    }>;
  });
}

async function migrationError(promise: Promise<unknown>): Promise<MigrationError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MigrationError) return error;
    throw error;
  }
  throw new Error("expected a MigrationError");
}

describe("migration runner", () => {
  const databases: TestDatabase[] = [];
  let scratch: string;

  async function emptyDatabase(): Promise<TestDatabase> {
    const db = await createTestDatabase({ migrate: false });
    databases.push(db);
    return db;
  }

  /** A private copy of prisma/migrations that a test may edit. */
  async function migrationsCopy(): Promise<string> {
    const dir = await mkdtemp(path.join(scratch, "migrations-"));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    return dir;
  }

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), "apimon-migrate-"));
  });

  afterAll(async () => {
    await Promise.all(databases.map((db) => db.drop()));
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("applies pending migrations once: a second run applies nothing", async () => {
    const db = await emptyDatabase();

    expect(ALL[0]).toBe(INIT);
    expect(await migrate({ connectionString: db.url })).toEqual({ applied: ALL, alreadyApplied: [] });
    expect(await migrate({ connectionString: db.url })).toEqual({ applied: [], alreadyApplied: ALL });
    expect(await migrationRows(db.url)).toHaveLength(ALL.length);
  });

  it("keeps Prisma's _prisma_migrations bookkeeping, which Prisma's engine reads as in sync", async () => {
    const db = await emptyDatabase();
    await migrate({ connectionString: db.url });

    const columns = await withClient(db.url, async (client) => {
      const { rows } = await client.query(`
        SELECT column_name, data_type, character_maximum_length AS length, is_nullable, column_default
          FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`);
      return rows;
    });
    // The table exactly as Prisma's schema engine creates it.
    expect(columns).toEqual([
      {
        column_name: "id",
        data_type: "character varying",
        length: 36,
        is_nullable: "NO",
        column_default: null,
      },
      {
        column_name: "checksum",
        data_type: "character varying",
        length: 64,
        is_nullable: "NO",
        column_default: null,
      },
      {
        column_name: "finished_at",
        data_type: "timestamp with time zone",
        length: null,
        is_nullable: "YES",
        column_default: null,
      },
      {
        column_name: "migration_name",
        data_type: "character varying",
        length: 255,
        is_nullable: "NO",
        column_default: null,
      },
      { column_name: "logs", data_type: "text", length: null, is_nullable: "YES", column_default: null },
      {
        column_name: "rolled_back_at",
        data_type: "timestamp with time zone",
        length: null,
        is_nullable: "YES",
        column_default: null,
      },
      {
        column_name: "started_at",
        data_type: "timestamp with time zone",
        length: null,
        is_nullable: "NO",
        column_default: "now()",
      },
      {
        column_name: "applied_steps_count",
        data_type: "integer",
        length: null,
        is_nullable: "NO",
        column_default: "0",
      },
    ]);

    const file = await readFile(path.join(MIGRATIONS_DIR, INIT, "migration.sql"));
    const [row] = await migrationRows(db.url);
    expect(row).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      checksum: createHash("sha256").update(file).digest("hex"),
      finished_at: expect.any(Date),
      migration_name: INIT,
      logs: null,
      rolled_back_at: null,
      started_at: expect.any(Date),
      applied_steps_count: 1,
    });
    expect(row?.finished_at?.getTime()).toBeGreaterThanOrEqual(row?.started_at.getTime() ?? Number.NaN);

    expect(await diagnoseMigrationHistory(db.url)).toEqual({
      editedMigrationNames: [],
      failedMigrationNames: [],
      hasMigrationsTable: true,
      history: null,
    });
  });

  it("takes over a database that `prisma migrate deploy` migrated, and hands one over to it", async () => {
    const dir = await migrationsCopy();
    // Named to sort after every real migration, whatever migrations come later.
    const second = "99990101000000_second";
    await mkdir(path.join(dir, second));
    await writeFile(path.join(dir, second, "migration.sql"), `CREATE TABLE "second" ("id" INTEGER);\n`);

    const byPrisma = await emptyDatabase();
    await mkdir(path.join(scratch, "first-only"));
    const firstOnly = path.join(scratch, "first-only", "migrations");
    await cp(MIGRATIONS_DIR, firstOnly, { recursive: true });
    expect(await prismaMigrateDeploy(byPrisma.url, firstOnly)).toEqual(ALL);
    expect(await migrate({ connectionString: byPrisma.url, migrationsDir: dir })).toEqual({
      applied: [second],
      alreadyApplied: ALL,
    });

    const byUs = await emptyDatabase();
    await migrate({ connectionString: byUs.url, migrationsDir: firstOnly });
    expect(await prismaMigrateDeploy(byUs.url, dir)).toEqual([second]);
    expect(await diagnoseMigrationHistory(byUs.url, dir)).toMatchObject({
      editedMigrationNames: [],
      history: null,
    });

    const rows = await Promise.all([migrationRows(byPrisma.url), migrationRows(byUs.url)]);
    const shape = (r: Awaited<ReturnType<typeof migrationRows>>[number]) => ({
      name: r.migration_name,
      checksum: r.checksum,
      steps: r.applied_steps_count,
      finished: r.finished_at !== null,
      logs: r.logs,
    });
    expect(rows[0].map(shape)).toEqual(rows[1].map(shape));
  });

  it("refuses to run when an applied migration was edited, as Prisma would see it", async () => {
    const db = await emptyDatabase();
    const dir = await migrationsCopy();
    await migrate({ connectionString: db.url, migrationsDir: dir });

    // Line endings alone do not count as an edit (git on Windows), for Prisma and for us.
    const sqlFile = path.join(dir, INIT, "migration.sql");
    const original = await readFile(sqlFile, "utf8");
    await writeFile(sqlFile, original.replaceAll("\n", "\r\n"));
    expect(await migrate({ connectionString: db.url, migrationsDir: dir })).toEqual({
      applied: [],
      alreadyApplied: ALL,
    });

    await writeFile(sqlFile, `${original}\nCREATE TABLE "sneaky" ("id" INTEGER);\n`);
    const error = await migrationError(migrate({ connectionString: db.url, migrationsDir: dir }));

    expect(error.code).toBe("CHECKSUM_MISMATCH");
    expect(error.message).toMatch(new RegExp(`^migration ${INIT} was modified after it was applied`));
    expect((await diagnoseMigrationHistory(db.url, dir)).editedMigrationNames).toEqual([INIT]);
  });

  it("rolls a failing migration back whole, records it as failed and refuses to go on until resolved", async () => {
    const db = await emptyDatabase();
    const dir = await migrationsCopy();
    // Named to sort after every real migration, whatever migrations come later.
    const broken = "99990101000000_broken";
    await mkdir(path.join(dir, broken));
    const sqlFile = path.join(dir, broken, "migration.sql");
    await writeFile(
      sqlFile,
      `CREATE TABLE "half" ("id" INTEGER);\nALTER TABLE "nowhere" ADD COLUMN "x" INTEGER;\n`,
    );

    const failure = await migrationError(migrate({ connectionString: db.url, migrationsDir: dir }));
    expect(failure.code).toBe("MIGRATION_FAILED");
    expect(failure.message).toContain(`migration ${broken} failed and was rolled back`);
    expect(failure.message).toContain(`relation "nowhere" does not exist`);

    // The earlier migrations stay applied; nothing of the broken one is left behind.
    expect(
      await withClient(db.url, async (c) => (await c.query(`SELECT to_regclass('half') AS t`)).rows),
    ).toEqual([{ t: null }]);
    const rows = await migrationRows(db.url);
    expect(rows.map((r) => [r.migration_name, r.finished_at !== null, r.applied_steps_count])).toEqual([
      ...ALL.map((name) => [name, true, 1]),
      [broken, false, 0],
    ]);
    expect(rows[ALL.length]?.logs).toContain("SQLSTATE 42P01");
    expect((await diagnoseMigrationHistory(db.url, dir)).failedMigrationNames).toEqual([broken]);

    // Fixing the file is not enough: the failure must be resolved explicitly, as with Prisma.
    await writeFile(sqlFile, `CREATE TABLE "half" ("id" INTEGER);\n`);
    const refusal = await migrationError(migrate({ connectionString: db.url, migrationsDir: dir }));
    expect(refusal.code).toBe("FAILED_MIGRATION_IN_DATABASE");
    expect(refusal.message).toContain(`migration ${broken} failed earlier and was not resolved`);

    // `prisma migrate resolve --rolled-back` does exactly this.
    await withClient(db.url, (c) =>
      c.query(`UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = $1`, [broken]),
    );
    expect(await migrate({ connectionString: db.url, migrationsDir: dir })).toEqual({
      applied: [broken],
      alreadyApplied: ALL,
    });
  });

  it("applies once when several instances start together", async () => {
    const db = await emptyDatabase();

    const results = await Promise.all(Array.from({ length: 4 }, () => migrate({ connectionString: db.url })));

    expect(results.flatMap((r) => r.applied)).toEqual(ALL);
    expect(results.filter((r) => r.alreadyApplied.length === ALL.length)).toHaveLength(3);
    expect(await migrationRows(db.url)).toHaveLength(ALL.length);
  });

  it("waits for Prisma's advisory lock, and gives up after lockTimeoutMs", async () => {
    const db = await emptyDatabase();
    await withClient(db.url, async (holder) => {
      await holder.query("SELECT pg_advisory_lock($1)", [MIGRATION_ADVISORY_LOCK_KEY]);
      const error = await migrationError(migrate({ connectionString: db.url, lockTimeoutMs: 200 }));
      expect(error.code).toBe("LOCK_TIMEOUT");

      const waiting = migrate({ connectionString: db.url });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await holder.query("SELECT pg_advisory_unlock($1)", [MIGRATION_ADVISORY_LOCK_KEY]);
      expect(await waiting).toEqual({ applied: ALL, alreadyApplied: [] });
    });
  });

  it("migrates into a given Postgres schema, which the Prisma client then uses", async () => {
    const db = await emptyDatabase();
    const options: MigrateOptions = { connectionString: db.url, schema: "tenant_a" };
    expect((await migrate(options)).applied).toEqual(ALL);
    // The url's ?schema= (Prisma's convention) means the same.
    expect(await migrate({ connectionString: `${db.url}?schema=tenant_a` })).toEqual({
      applied: [],
      alreadyApplied: ALL,
    });

    const tables = await withClient(db.url, async (c) => {
      const { rows } = await c.query(
        `SELECT table_schema, table_name FROM information_schema.tables
          WHERE table_schema IN ('public', 'tenant_a')`,
      );
      return rows as { table_schema: string; table_name: string }[];
    });
    // Everything went into tenant_a, nothing into public.
    expect([...new Set(tables.map((t) => t.table_schema))]).toEqual(["tenant_a"]);
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(["_prisma_migrations", "api_keys", "api_usage", "alerts", "counted_events"]),
    );

    const prisma = createPrismaClient({ connectionString: db.url, schema: "tenant_a" });
    try {
      const user = await prisma.user.create({ data: { email: "t@example.com", name: "T" } });
      await prisma.alert.create({
        data: {
          fingerprint: "f",
          type: "usage_spike",
          severity: "warning",
          message: "m",
          observedValue: 2.5,
          threshold: 2,
        },
      });
      expect(await prisma.$queryRaw`SELECT email FROM users`).toEqual([{ email: user.email }]);
    } finally {
      await prisma.$disconnect();
    }
  });

  it("migrates a second schema of the same database, whose search indexes use the one pg_trgm", async () => {
    const db = await emptyDatabase();
    expect((await migrate({ connectionString: db.url, schema: "tenant_a" })).applied).toEqual(ALL);
    expect((await migrate({ connectionString: db.url, schema: "tenant_b" })).applied).toEqual(ALL);

    const prisma = createPrismaClient({ connectionString: db.url, schema: "tenant_b" });
    try {
      await prisma.user.create({ data: { email: "ada@example.com", name: "Ada Lovelace" } });
      const found = await prisma.user.findMany({
        where: { name: { contains: "LOVEL", mode: "insensitive" } },
      });
      expect(found.map((u) => u.email)).toEqual(["ada@example.com"]);
    } finally {
      await prisma.$disconnect();
    }
    // The planner can answer the search from tenant_b's trigram index (told not to scan the table).
    const plan = await withClient(db.url, async (c) => {
      await c.query("SET search_path TO tenant_b");
      await c.query("SET enable_seqscan TO off");
      const { rows } = await c.query("EXPLAIN SELECT id FROM users WHERE name ILIKE '%lovel%'");
      return rows.map((row: { "QUERY PLAN": string }) => row["QUERY PLAN"]).join("\n");
    });
    expect(plan).toContain("Bitmap Index Scan on users_name_trgm_idx");
  });

  it("reads DATABASE_URL, DATABASE_SCHEMA and MIGRATIONS_DIR in the CLI", async () => {
    const db = await emptyDatabase();
    const env = { DATABASE_URL: db.url, DATABASE_SCHEMA: "cli", MIGRATIONS_DIR, LOG_LEVEL: "silent" };

    expect(await runMigrateCli(env)).toEqual({ applied: ALL, alreadyApplied: [] });
    expect((await migrationRows(db.url, "cli")).map((r) => r.migration_name)).toEqual(ALL);
  });

  it("creates the database first when asked to and it does not exist", async () => {
    const server = await emptyDatabase();
    const name = `${server.name}_new`;
    const url = withDatabaseName(server.url, name);
    try {
      await expect(migrate({ connectionString: url })).rejects.toMatchObject({ code: "3D000" });
      expect(await migrate({ connectionString: url, createDatabase: true })).toEqual({
        applied: ALL,
        alreadyApplied: [],
      });
    } finally {
      await dropDatabase(server.url, name);
    }
  });

  it("rejects a folder that is not a PostgreSQL migrations folder", async () => {
    const dir = await mkdtemp(path.join(scratch, "not-migrations-"));
    expect((await migrationError(readMigrations(dir))).code).toBe("INVALID_MIGRATIONS_DIR");
    await appendFile(path.join(dir, "migration_lock.toml"), 'provider = "sqlite"\n');
    expect((await migrationError(readMigrations(dir))).message).toContain('names provider "sqlite"');
  });
});
