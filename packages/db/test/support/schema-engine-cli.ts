import { execFile } from "node:child_process";
import path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "../../../..");
export const SCHEMA_FILE = path.join(REPO_ROOT, "prisma/schema.prisma");
export const MIGRATIONS_DIR = path.join(REPO_ROOT, "prisma/migrations");

const TSX_CLI = require.resolve("tsx/cli");
const DIFF_CLI = path.join(REPO_ROOT, "packages/db/src/tooling/schema-diff-cli.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs packages/db/src/tooling/schema-diff-cli.ts (Prisma 7.10's schema engine, WebAssembly) in a
 * child process: the engine's glue is an ES module, which Jest's CommonJS runtime cannot load.
 */
export function runSchemaEngineCli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TSX_CLI, DIFF_CLI, ...args],
      { cwd: REPO_ROOT, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Prisma's `migrate status` view of a database's `_prisma_migrations` against a migrations folder. */
export async function diagnoseMigrationHistory(
  url: string,
  migrationsDir = MIGRATIONS_DIR,
): Promise<{
  editedMigrationNames: string[];
  failedMigrationNames: string[];
  hasMigrationsTable: boolean;
  history: unknown;
}> {
  const result = await runSchemaEngineCli(["--url", url, "--diagnose", "--migrations-dir", migrationsDir]);
  if (result.code !== 0) throw new Error(`schema engine failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** `prisma migrate deploy`, by Prisma's engine: the names of the migrations it applied. */
export async function prismaMigrateDeploy(url: string, migrationsDir = MIGRATIONS_DIR): Promise<string[]> {
  const result = await runSchemaEngineCli(["--url", url, "--deploy", "--migrations-dir", migrationsDir]);
  if (result.code !== 0) throw new Error(`schema engine failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout);
}
