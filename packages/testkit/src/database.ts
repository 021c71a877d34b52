import { randomBytes } from "node:crypto";
import { createDatabase, createPrismaClient, dropDatabase, migrate, type PrismaClient } from "@apimon/db";
import { testInfra } from "./infra";

export interface TestDatabase {
  /** `apimon_test_<pid>_<random>`: unique per call, so test files never share state. */
  name: string;
  url: string;
  /** A Prisma client on this database, made on first use and disconnected by drop(). */
  readonly prisma: PrismaClient;
  /** Disconnects, terminates the database's remaining connections and drops it. */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Apply prisma/migrations (default true); false gives an empty database. */
  migrate?: boolean;
  /** Server to create it on; DATABASE_URL (or the local default) otherwise. */
  serverUrl?: string;
}

/** Creates a fresh, migrated database on the test Postgres server. Call drop() in afterAll. */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const serverUrl = options.serverUrl ?? testInfra.databaseUrl;
  const name = `apimon_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const url = await createDatabase(serverUrl, name);
  try {
    if (options.migrate !== false) await migrate({ connectionString: url });
  } catch (error) {
    await dropDatabase(serverUrl, name);
    throw error;
  }
  let prisma: PrismaClient | undefined;
  return {
    name,
    url,
    get prisma() {
      prisma ??= createPrismaClient({ connectionString: url });
      return prisma;
    },
    async drop() {
      await prisma?.$disconnect();
      await dropDatabase(serverUrl, name);
    },
  };
}

/**
 * A fresh, migrated database for one test file (or describe block): created in a beforeAll,
 * dropped in an afterAll. Returns it, to call from within tests and later hooks.
 */
export function testDatabaseForFile(options: TestDatabaseOptions = {}): () => TestDatabase {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(options);
  });
  afterAll(async () => {
    await db?.drop();
  });
  return () => {
    if (!db) throw new Error("the test database is made in beforeAll; use it in a test or a later hook");
    return db;
  };
}
