// One-shot job: apply prisma/migrations to DATABASE_URL (docker compose `migrate` service,
// `pnpm db:migrate`). Run as `node packages/db/dist/migrate-cli.js`; MIGRATIONS_DIR overrides
// where the migrations are (default: the repository's prisma/migrations, found relative to
// this file from src/ and dist/ alike).
import path from "node:path";
import { databaseEnv, type Env, loggingEnv, parseEnv, redactUrl } from "@apimon/config";
import { createLogger } from "@apimon/observability";
import { z } from "zod";
import { isRetriableDbError } from "./errors";
import { DEFAULT_MIGRATIONS_DIR, type MigrateResult, MigrationError, migrate } from "./migrate";

const migrateEnv = {
  ...databaseEnv,
  ...loggingEnv,
  MIGRATIONS_DIR: z.string().optional(),
  /** Wait this long for another instance that is migrating the same database. */
  MIGRATE_LOCK_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  /** Keep retrying this long while the server is unreachable or starting (compose, k8s). */
  MIGRATE_RETRY_FOR_MS: z.coerce.number().int().nonnegative().default(30_000),
};

/**
 * Reads DATABASE_URL, DATABASE_SCHEMA, MIGRATIONS_DIR and migrates, creating the database if
 * missing and retrying while the server is not reachable yet; what the CLI runs.
 */
export async function runMigrateCli(env: Env = process.env): Promise<MigrateResult> {
  const config = parseEnv(migrateEnv, env);
  const logger = createLogger({ service: "migrate", level: config.LOG_LEVEL });
  const migrationsDir =
    config.MIGRATIONS_DIR !== undefined ? path.resolve(config.MIGRATIONS_DIR) : DEFAULT_MIGRATIONS_DIR;
  logger.info(
    { database: redactUrl(config.DATABASE_URL), schema: config.DATABASE_SCHEMA, migrationsDir },
    "migrating",
  );
  const giveUpAt = Date.now() + config.MIGRATE_RETRY_FOR_MS;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await migrate({
          connectionString: config.DATABASE_URL,
          schema: config.DATABASE_SCHEMA,
          migrationsDir,
          lockTimeoutMs: config.MIGRATE_LOCK_TIMEOUT_MS,
          createDatabase: true,
          logger,
        });
      } catch (error) {
        // Safe to retry: each migration is one transaction and the runner is idempotent. A
        // migration that failed is recorded as failed, so retrying it would only be refused.
        const retriable =
          error instanceof MigrationError ? error.code === "LOCK_TIMEOUT" : isRetriableDbError(error);
        if (!retriable || Date.now() >= giveUpAt) throw error;
        const delayMs = Math.min(200 * 2 ** (attempt - 1), 2_000);
        logger.warn({ attempt, delayMs, err: error }, "database not ready, retrying");
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  } finally {
    logger.flush();
  }
}

if (require.main === module) {
  runMigrateCli().catch((error: unknown) => {
    process.stderr.write(`migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
    // exitCode rather than exit(): let the logger's buffered lines reach stdout first.
    process.exitCode = 1;
  });
}
