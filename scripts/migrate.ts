// `pnpm db:migrate`: apply prisma/migrations to DATABASE_URL (default: the local apimon
// database), in DATABASE_SCHEMA if set. The same code as the Docker migration job.
import { runMigrateCli } from "@apimon/db";

runMigrateCli().catch((error: unknown) => {
  process.stderr.write(`migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
