// One-shot job (`pnpm keys:republish`): enqueues every key's current state again, so that the
// keys service's relay publishes each one signed. Run it once after giving the keys service its
// KEY_CHANGES_SIGNING_SECRET and before giving it to the edges (see README, "Signed key changes").
import { ConfigError, databaseEnv, parseEnv } from "@apimon/config";
import { createPrismaClient } from "@apimon/db";
import { enqueueAllKeyStates } from "./outbox";

async function main(): Promise<void> {
  const config = parseEnv(databaseEnv);
  const prisma = createPrismaClient({
    connectionString: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
  });
  try {
    const keys = await enqueueAllKeyStates(prisma);
    process.stdout.write(`enqueued the current state of ${keys} keys; the keys service publishes them\n`);
  } finally {
    await prisma.$disconnect();
  }
}

main().catch((error) => {
  const detail =
    error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error);
  process.stderr.write(`keys:republish failed: ${detail}\n`);
  process.exit(1);
});
