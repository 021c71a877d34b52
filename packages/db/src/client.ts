import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client";
import { resolveSchema } from "./migrate";

export interface PrismaClientOptions {
  connectionString: string;
  /** Postgres schema holding the tables (tests use one per run); else the url's `?schema=`, else public. */
  schema?: string;
  /** Connections in the pool (pg's default: 10). */
  poolSize?: number;
  /** How long to wait for a new connection before failing (retriable, see isRetriableDbError). */
  connectionTimeoutMs?: number;
}

/**
 * Creates the process's Prisma client on @prisma/adapter-pg (no engine binary). Make ONE per
 * process, in main.ts, and `$disconnect()` it at shutdown: each client owns a connection pool.
 */
export function createPrismaClient(options: PrismaClientOptions): PrismaClient {
  const schema = resolveSchema(options.connectionString, options.schema);
  const adapter = new PrismaPg(
    {
      connectionString: options.connectionString,
      max: options.poolSize,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
      // Raw queries ($queryRaw) resolve unqualified names through search_path; the adapter's
      // `schema` covers the queries Prisma generates.
      ...(schema !== undefined && { options: `-c search_path="${schema.replaceAll('"', '""')}"` }),
    },
    schema !== undefined ? { schema } : undefined,
  );
  return new PrismaClient({ adapter });
}
