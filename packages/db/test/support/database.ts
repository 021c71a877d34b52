import { createTestDatabase, type TestDatabase } from "@apimon/testkit";

/**
 * A fresh, migrated database for the enclosing describe block: created before its tests and
 * dropped after them. Read `url` and `prisma` inside the tests.
 */
export function useTestDatabase(): Pick<TestDatabase, "url" | "prisma"> {
  let db: TestDatabase | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  const current = (): TestDatabase => {
    if (!db) throw new Error("the test database exists only while the describe block's tests run");
    return db;
  };
  return {
    get url() {
      return current().url;
    },
    get prisma() {
      return current().prisma;
    },
  };
}
