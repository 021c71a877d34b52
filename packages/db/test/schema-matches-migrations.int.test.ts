import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTestDatabase, type TestDatabase } from "@apimon/testkit";
import { Client } from "pg";
import { runSchemaEngineCli, SCHEMA_FILE } from "./support/schema-engine-cli";

// The proof that prisma/migrations and prisma/schema.prisma describe the same database: a
// database migrated by our runner is diffed against schema.prisma by Prisma 7.10's own schema
// engine (`migrate diff --from-config-datasource --to-schema --exit-code`). Prisma ignores what
// it cannot express, so the last tests pin those SQL-only objects down from pg_catalog: they
// must exist, and nothing else Prisma would not see may.

const EMPTY_MIGRATION = "-- This is an empty migration.";

describe("prisma/migrations and prisma/schema.prisma", () => {
  let db: TestDatabase;
  let pg: Client;
  let scratch: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    scratch = await mkdtemp(path.join(tmpdir(), "apimon-schema-"));
  });

  afterAll(async () => {
    await pg?.end();
    await db?.drop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const query = async <T extends Record<string, unknown>>(sql: string): Promise<T[]> =>
    (await pg.query<T>(sql)).rows;

  it("describe the same database, as Prisma's schema engine sees it", async () => {
    const result = await runSchemaEngineCli(["--url", db.url, "--exit-code"]);
    if (result.code !== 0) {
      throw new Error(
        "prisma/schema.prisma and prisma/migrations differ. What would bring the migrated database to " +
          `schema.prisma:\n${result.stdout}${result.stderr}\n` +
          "Write it as a migration with `pnpm --filter @apimon/db schema:diff --create <name>`.",
      );
    }
    expect(result).toEqual({ code: 0, stdout: `${EMPTY_MIGRATION}\n`, stderr: "" });
  });

  it("would catch a field added to schema.prisma without a migration", async () => {
    const schema = await readFile(SCHEMA_FILE, "utf8");
    const drifted = schema.replace(/^(model User \{\n)/m, "$1  nickname String?\n");
    expect(drifted).not.toBe(schema);
    const file = path.join(scratch, "schema.prisma");
    await writeFile(file, drifted);

    const result = await runSchemaEngineCli(["--url", db.url, "--schema-file", file, "--exit-code"]);

    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/ALTER TABLE "users" ADD COLUMN\s+"nickname" TEXT;/);
  });

  it("would catch a migration that changes the database without schema.prisma", async () => {
    const other = await createTestDatabase();
    try {
      const client = new Client({ connectionString: other.url });
      await client.connect();
      await client.query(`ALTER TABLE "alerts" ADD COLUMN "runbook_url" TEXT`);
      await client.query(`CREATE INDEX "api_keys_name_idx" ON "api_keys" ("name")`);
      await client.end();

      const result = await runSchemaEngineCli(["--url", other.url, "--exit-code"]);

      expect(result.code).toBe(2);
      expect(result.stdout).toContain(`DROP COLUMN "runbook_url"`);
      expect(result.stdout).toContain(`DROP INDEX "api_keys_name_idx"`);
    } finally {
      await other.drop();
    }
  });

  it.each([
    ["api_usage", "created_at"],
    ["counted_events", "occurred_at"],
  ])(
    "partitions %s by range of %s, with a default partition for rows no day partition takes",
    async (table, column) => {
      expect(
        await query(`
        SELECT pt.partstrat AS strategy, a.attname AS column
          FROM pg_partitioned_table pt
          JOIN pg_class c ON c.oid = pt.partrelid
          JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
         WHERE c.relname = '${table}'`),
      ).toEqual([{ strategy: "r", column }]);
      expect(
        await query(`
        SELECT c.relname AS partition, pg_get_expr(c.relpartbound, c.oid) AS bound
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = '${table}'::regclass`),
      ).toEqual([{ partition: `${table}_default`, bound: "DEFAULT" }]);
    },
  );

  it("holds the CHECK constraints Prisma cannot express: alert_settings' single row, a silence's range", async () => {
    expect(
      await query(`
        SELECT conrelid::regclass::text AS "table", conname AS name, pg_get_constraintdef(oid) AS definition
          FROM pg_constraint WHERE contype = 'c' AND connamespace = 'public'::regnamespace
         ORDER BY 1, 2`),
    ).toEqual([
      { table: "alert_settings", name: "alert_settings_single_row", definition: "CHECK ((id = 1))" },
      { table: "silences", name: "silences_range_check", definition: "CHECK ((ends_at >= starts_at))" },
    ]);
  });

  it("holds nothing that Prisma does not see beyond those allow-listed objects", async () => {
    // Tables: the diff above accounts for every ordinary table (Prisma would drop an unknown one);
    // partitions, views, functions, triggers, rules, policies and inheritance it would not see.
    expect(
      await query(`
        SELECT c.relname AS name, c.relkind AS kind
          FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace
           AND (c.relkind IN ('v', 'm', 'f') OR (c.relkind IN ('r', 'p') AND c.relispartition))
         ORDER BY 1`),
    ).toEqual([
      { name: "api_usage_default", kind: "r" },
      { name: "counted_events_default", kind: "r" },
    ]);
    expect(
      await query(`SELECT inhrelid::regclass::text AS child, inhparent::regclass::text AS parent
                     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                    WHERE c.relkind IN ('r', 'p') ORDER BY 1`),
    ).toEqual([
      { child: "api_usage_default", parent: "api_usage" },
      { child: "counted_events_default", parent: "counted_events" },
    ]);
    // Functions of our own: the hourly usage tables' trigger, latency buckets and the merge of
    // two histograms. pg_trgm's
    // belong to the extension, which schema.prisma names.
    expect(
      await query(`
        SELECT proname FROM pg_proc p
         WHERE pronamespace = 'public'::regnamespace
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
         ORDER BY 1`),
    ).toEqual([
      { proname: "usage_hourly_add" },
      { proname: "usage_latency_bucket" },
      { proname: "usage_latency_merge" },
    ]);
    expect(await query("SELECT extname FROM pg_extension ORDER BY 1")).toEqual([
      { extname: "pg_trgm" },
      { extname: "plpgsql" },
    ]);
    expect(
      await query(`SELECT tgrelid::regclass::text AS "table", tgname FROM pg_trigger WHERE NOT tgisinternal`),
    ).toEqual([{ table: "api_usage", tgname: "usage_hourly_add" }]);
    // Index options: the BRIN index summarizes each block range as the next one fills.
    expect(
      await query(`
        SELECT c.relname AS name, c.reloptions AS options FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('i', 'I') AND c.reloptions IS NOT NULL
           AND NOT c.relispartition
         ORDER BY 1`),
    ).toEqual([{ name: "api_usage_created_at_idx", options: ["autosummarize=on"] }]);
    expect(
      await query(`SELECT rulename FROM pg_rules WHERE schemaname = 'public'
                   UNION ALL SELECT policyname FROM pg_policies WHERE schemaname = 'public'`),
    ).toEqual([]);
    // Every sequence belongs to an autoincrement column.
    expect(
      await query(`
        SELECT s.relname FROM pg_class s
         WHERE s.relkind = 'S' AND s.relnamespace = 'public'::regnamespace
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = s.oid AND d.deptype = 'a')`),
    ).toEqual([]);
  });
});
