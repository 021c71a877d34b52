// Prisma's migrate diff / status, offline, with Prisma 7.10's own schema engine (see
// schema-engine.ts). `pnpm --filter @apimon/db schema:diff -- [options]`:
//
//   (no option)          apply prisma/migrations to a scratch database, then print the SQL
//                        that would bring it to prisma/schema.prisma (empty: they agree)
//   --create <name>      ...and write that SQL as prisma/migrations/<timestamp>_<name>/migration.sql:
//                        the way to author a migration after editing schema.prisma
//   --url <url>          diff this database instead of a scratch one (nothing is migrated)
//   --schema <name>      the Postgres schema (default: the url's ?schema=, else public)
//   --schema-file <path> another Prisma schema (default prisma/schema.prisma)
//   --migrations-dir <path>
//   --exit-code          exit 2 when there is a difference, like `prisma migrate diff --exit-code`
//   --diagnose           print Prisma's diagnosis of _prisma_migrations (`migrate status`) as JSON
//   --deploy             apply the migrations with Prisma's engine (`migrate deploy`) and print
//                        their names as JSON; with --url only
//
// The scratch database lives on DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres)
// and is dropped afterwards.
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { createDatabase, dropDatabase } from "../databases";
import { DEFAULT_MIGRATIONS_DIR, migrate, resolveSchema } from "../migrate";
import { openSchemaEngine } from "./schema-engine";

const DEFAULT_SCHEMA_FILE = path.resolve(__dirname, "../../../../prisma/schema.prisma");

function timestamp(date = new Date()): string {
  return date.toISOString().replace(/[-:T]/g, "").replace(/\..*$/, "");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      schema: { type: "string" },
      "schema-file": { type: "string" },
      "migrations-dir": { type: "string" },
      create: { type: "string" },
      "exit-code": { type: "boolean", default: false },
      diagnose: { type: "boolean", default: false },
      deploy: { type: "boolean", default: false },
    },
  });
  const schemaFile = path.resolve(values["schema-file"] ?? DEFAULT_SCHEMA_FILE);
  const migrationsDir = path.resolve(values["migrations-dir"] ?? DEFAULT_MIGRATIONS_DIR);
  const serverUrl = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

  let url = values.url;
  let scratch: string | undefined;
  if (url === undefined) {
    scratch = `apimon_schema_diff_${process.pid}_${randomBytes(4).toString("hex")}`;
    url = await createDatabase(serverUrl, scratch);
  }
  const schema = resolveSchema(url, values.schema);
  try {
    if (scratch !== undefined) await migrate({ connectionString: url, schema, migrationsDir });
    const engine = await openSchemaEngine({ connectionString: url, schema, schemaFile });
    try {
      if (values.deploy) {
        if (scratch !== undefined) throw new Error("--deploy needs --url");
        process.stdout.write(`${JSON.stringify(await engine.applyMigrations(migrationsDir))}\n`);
        return 0;
      }
      if (values.diagnose) {
        process.stdout.write(`${JSON.stringify(await engine.diagnoseMigrationHistory(migrationsDir))}\n`);
        return 0;
      }
      const { differs, script } = await engine.diffDatabaseToSchema();
      process.stdout.write(script);
      if (values.create !== undefined) {
        if (!differs) {
          process.stderr.write("schema.prisma and the migrations agree: no migration to create\n");
          return 0;
        }
        const dir = path.join(migrationsDir, `${timestamp()}_${values.create}`);
        await mkdir(dir);
        await writeFile(path.join(dir, "migration.sql"), script);
        process.stderr.write(`wrote ${path.relative(process.cwd(), dir)}/migration.sql\n`);
        return 0;
      }
      return values["exit-code"] && differs ? 2 : 0;
    } finally {
      engine.close();
    }
  } finally {
    if (scratch !== undefined) await dropDatabase(serverUrl, scratch);
  }
}

main().then(
  // exit() because the engine's adapter keeps a connection pool open.
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
