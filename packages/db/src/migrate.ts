import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { Client } from "pg";

// Applies prisma/migrations the way `prisma migrate deploy` does, without Prisma's native schema
// engine (the Prisma 7 CLI downloads it and fails offline). The bookkeeping is Prisma's own: the
// same `_prisma_migrations` table, one row per migration with a uuid, the sha256 of migration.sql,
// started_at / finished_at / applied_steps_count and the error in `logs` on failure. So
// `prisma migrate deploy` / `migrate status` keep working on a database migrated here, and the
// other way round (packages/db/test/migrate.int.test.ts checks this with Prisma's engine).
//
// One difference, on purpose: each migration runs inside a transaction together with its
// finished_at update, so a failed migration leaves no half-applied schema behind. Consequence:
// a migration.sql must not contain its own BEGIN/COMMIT nor statements that refuse to run in a
// transaction (CREATE INDEX CONCURRENTLY, ALTER TYPE ... ADD VALUE before PG 12).

/** The repository's prisma/migrations, from src/ (tsx, Jest) and from dist/ (node) alike. */
export const DEFAULT_MIGRATIONS_DIR = path.resolve(__dirname, "../../../prisma/migrations");

/**
 * Prisma's own advisory lock key (prisma-engines, postgres flavour): holding the same lock makes
 * this runner and `prisma migrate deploy` exclude each other too.
 */
export const MIGRATION_ADVISORY_LOCK_KEY = 72707369;

/** The table exactly as Prisma's schema engine creates it on PostgreSQL. */
const MIGRATIONS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** What the runner reports; a pino logger fits. */
export interface MigrateLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface MigrateOptions {
  connectionString: string;
  /** Postgres schema to migrate (created if missing); the connection's search_path otherwise. */
  schema?: string;
  /** Folder in Prisma's format: `<name>/migration.sql` + `migration_lock.toml`. */
  migrationsDir?: string;
  logger?: MigrateLogger;
  /** How long to wait for another runner (or `prisma migrate deploy`) to finish. */
  lockTimeoutMs?: number;
  /** Create the database when it does not exist yet (as `prisma migrate deploy` does). */
  createDatabase?: boolean;
}

export interface MigrateResult {
  /** Migrations applied by this run, in order. */
  applied: string[];
  /** Migrations that were already applied before this run. */
  alreadyApplied: string[];
}

export type MigrationErrorCode =
  | "INVALID_MIGRATIONS_DIR"
  | "LOCK_TIMEOUT"
  | "FAILED_MIGRATION_IN_DATABASE"
  | "CHECKSUM_MISMATCH"
  | "MIGRATION_FAILED";

/** A migration problem that an operator must look at; `message` says what and how. */
export class MigrationError extends Error {
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "MigrationError";
  }
}

export interface LocalMigration {
  name: string;
  script: string;
  /** sha256 (hex) of migration.sql's bytes, as Prisma records it. */
  checksum: string;
  /** Checksums this file also matches: its LF and CRLF line-ending variants (Prisma accepts both). */
  acceptedChecksums: ReadonlySet<string>;
}

interface MigrationRow {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
}

function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The Postgres schema to use: the explicit option, else the url's `?schema=` (Prisma's own
 * convention, so that `prisma migrate deploy` and this runner agree on the same url), else none
 * (the server's search_path, normally public).
 */
export function resolveSchema(connectionString: string, schema?: string): string | undefined {
  if (schema !== undefined && schema !== "") return schema;
  try {
    return new URL(connectionString).searchParams.get("schema") ?? undefined;
  } catch {
    return undefined;
  }
}

/** Reads a migrations folder in Prisma's format, ordered by name like Prisma does. */
export async function readMigrations(migrationsDir: string): Promise<LocalMigration[]> {
  let lock: string;
  try {
    lock = await readFile(path.join(migrationsDir, "migration_lock.toml"), "utf8");
  } catch (error) {
    throw new MigrationError(
      "INVALID_MIGRATIONS_DIR",
      `${migrationsDir} is not a Prisma migrations folder (no readable migration_lock.toml)`,
      { cause: error },
    );
  }
  const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(lock)?.[1];
  if (provider !== "postgresql") {
    throw new MigrationError(
      "INVALID_MIGRATIONS_DIR",
      `${migrationsDir}/migration_lock.toml names provider "${provider ?? "(none)"}", expected "postgresql"`,
    );
  }
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const migrations: LocalMigration[] = [];
  for (const name of names) {
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(migrationsDir, name, "migration.sql"));
    } catch (error) {
      throw new MigrationError("INVALID_MIGRATIONS_DIR", `migration ${name} has no migration.sql`, {
        cause: error,
      });
    }
    const script = bytes.toString("utf8");
    const lf = script.replaceAll("\r\n", "\n");
    migrations.push({
      name,
      script,
      checksum: sha256Hex(bytes),
      acceptedChecksums: new Set([sha256Hex(bytes), sha256Hex(lf), sha256Hex(lf.replaceAll("\n", "\r\n"))]),
    });
  }
  return migrations;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const pgError = error as Error & { code?: string; position?: string; detail?: string; hint?: string };
  return [
    pgError.message,
    pgError.code && `SQLSTATE ${pgError.code}`,
    pgError.position && `at character ${pgError.position}`,
    pgError.detail && `detail: ${pgError.detail}`,
    pgError.hint && `hint: ${pgError.hint}`,
  ]
    .filter(Boolean)
    .join("\n");
}

async function acquireLock(client: Client, lockTimeoutMs: number): Promise<void> {
  // lock_timeout bounds the wait for the advisory lock; reset afterwards so that it does not
  // apply to the migrations' own statements.
  await client.query(`SET lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_ADVISORY_LOCK_KEY]);
  } catch (error) {
    if ((error as { code?: string }).code === "55P03") {
      throw new MigrationError(
        "LOCK_TIMEOUT",
        `another migration run held the migration lock for more than ${lockTimeoutMs} ms`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    await client.query("RESET lock_timeout");
  }
}

/**
 * Applies pending migrations in name order, each in its own transaction, under Prisma's
 * advisory lock, keeping Prisma's `_prisma_migrations` bookkeeping. Idempotent. Refuses to
 * start when an applied migration's file changed or an earlier migration failed.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const migrationsDir = options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const logger = options.logger;
  const schema = resolveSchema(options.connectionString, options.schema);
  const local = await readMigrations(migrationsDir);

  const client = await connect(options.connectionString, options.createDatabase ?? false, logger);
  try {
    await acquireLock(client, options.lockTimeoutMs ?? 60_000);
    try {
      if (schema !== undefined) {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
        await client.query(`SET search_path TO ${quoteIdent(schema)}`);
      }
      await client.query(MIGRATIONS_TABLE_DDL);
      const { rows } = await client.query<MigrationRow>(
        `SELECT id, checksum, migration_name, finished_at, rolled_back_at, logs
           FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
      );
      const live = rows.filter((r) => r.rolled_back_at === null);

      const failed = live.filter((r) => r.finished_at === null);
      if (failed.length > 0) {
        throw new MigrationError(
          "FAILED_MIGRATION_IN_DATABASE",
          `migration ${failed.map((r) => r.migration_name).join(", ")} failed earlier and was not resolved, so no ` +
            "migration is applied. Fix the cause, then mark it rolled back " +
            "(`prisma migrate resolve --rolled-back <name>`, or " +
            `UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE id = '<id>') and run again.\n` +
            failed.map((r) => `${r.migration_name} (${r.id}): ${r.logs ?? "no log"}`).join("\n"),
        );
      }

      const localByName = new Map(local.map((m) => [m.name, m]));
      const appliedNames = new Set<string>();
      for (const row of live) {
        appliedNames.add(row.migration_name);
        const file = localByName.get(row.migration_name);
        if (file === undefined) {
          // A newer release migrated this database (e.g. during a rollback of the service).
          logger?.warn({ migration: row.migration_name }, "applied migration not found locally");
        } else if (!file.acceptedChecksums.has(row.checksum)) {
          throw new MigrationError(
            "CHECKSUM_MISMATCH",
            `migration ${row.migration_name} was modified after it was applied ` +
              `(recorded checksum ${row.checksum}, file ${file.checksum}). Applied migrations are ` +
              "immutable: restore the file and put the change in a new migration.",
          );
        }
      }

      const alreadyApplied = local.filter((m) => appliedNames.has(m.name)).map((m) => m.name);
      const pending = local.filter((m) => !appliedNames.has(m.name));
      const applied: string[] = [];
      for (const migration of pending) {
        await applyOne(client, migration);
        applied.push(migration.name);
        logger?.info({ migration: migration.name }, "migration applied");
      }
      logger?.info(
        { applied: applied.length, alreadyApplied: alreadyApplied.length, schema },
        applied.length > 0 ? "database migrated" : "database already up to date",
      );
      return { applied, alreadyApplied };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_ADVISORY_LOCK_KEY]).catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
}

async function connect(connectionString: string, createIfMissing: boolean, logger?: MigrateLogger) {
  const open = async () => {
    const client = new Client({ connectionString });
    // An idle client that loses its connection emits 'error'; without a listener it would
    // crash the process instead of failing the pending query.
    client.on("error", () => {});
    await client.connect();
    return client;
  };
  try {
    return await open();
  } catch (error) {
    if (!createIfMissing || (error as { code?: string }).code !== "3D000") throw error;
  }
  const url = new URL(connectionString);
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = "/postgres";
  const admin = new Client({ connectionString: url.toString() });
  admin.on("error", () => {});
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(database)}`);
    logger?.info({ database }, "database created");
  } catch (error) {
    // 42P04: another instance created it meanwhile.
    if ((error as { code?: string }).code !== "42P04") throw error;
  } finally {
    await admin.end().catch(() => {});
  }
  return open();
}

async function applyOne(client: Client, migration: LocalMigration): Promise<void> {
  const id = randomUUID();
  // The row is committed before the migration runs, as Prisma does: if the process dies
  // mid-way, the unfinished row makes the next run stop instead of guessing.
  await client.query(
    `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
     VALUES ($1, $2, $3, now(), 0)`,
    [id, migration.checksum, migration.name],
  );
  try {
    await client.query("BEGIN");
    // No parameters: the simple query protocol runs the whole multi-statement script.
    await client.query(migration.script);
    await client.query(
      `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
      [id],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    const log = describeError(error);
    await client.query(`UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1`, [id, log]).catch(() => {});
    throw new MigrationError(
      "MIGRATION_FAILED",
      `migration ${migration.name} failed and was rolled back; nothing of it was applied.\n${log}`,
      { cause: error },
    );
  }
}
