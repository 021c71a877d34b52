import { Client } from "pg";
import { createPrismaClient, isRetriableDbError, type PrismaClient } from "../src";
import { useTestDatabase } from "./support/database";
import { failure } from "./support/failure";

// Real failures from a real Postgres, as pg and as Prisma report them.

describe("isRetriableDbError on real database errors", () => {
  const db = useTestDatabase();

  it("retries when the server refuses connections", async () => {
    const nowhere = createPrismaClient({ connectionString: "postgresql://postgres@127.0.0.1:1/none" });
    try {
      expect(isRetriableDbError(await failure(nowhere.user.count()))).toBe(true);
    } finally {
      await nowhere.$disconnect();
    }
    const client = new Client({ connectionString: "postgresql://postgres@127.0.0.1:1/none" });
    expect(isRetriableDbError(await failure(client.connect()))).toBe(true);
  });

  it("retries when an administrator terminates the connection (57P01)", async () => {
    const victim = new Client({ connectionString: db.url });
    victim.on("error", () => {});
    await victim.connect();
    const { rows } = await victim.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    await db.prisma.$executeRaw`SELECT pg_terminate_backend(${rows[0]?.pid}::int)`;

    const error = await failure(victim.query("SELECT 1"));

    expect(isRetriableDbError(error)).toBe(true);
    await victim.end().catch(() => {});
  });

  it("retries a Prisma query whose connection the server terminated mid-flight", async () => {
    const sleeping = failure(db.prisma.$queryRawUnsafe("SELECT pg_sleep(30) /* terminate-me */"));
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    try {
      let terminated = 0;
      for (let i = 0; i < 100 && terminated === 0; i++) {
        const { rowCount } = await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE query LIKE '%terminate-me%' AND pid <> pg_backend_pid()`,
        );
        terminated = rowCount ?? 0;
        if (terminated === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(terminated).toBe(1);
    } finally {
      await admin.end();
    }

    const error = await sleeping;

    expect(error).toMatchObject({ code: "P2010" });
    expect(isRetriableDbError(error)).toBe(true);
  });

  it("retries a serializable transaction that lost a write conflict (40001, P2034)", async () => {
    const user = await db.prisma.user.create({ data: { email: "race@example.com", name: "0" } });
    const other = createPrismaClient({ connectionString: db.url });
    try {
      let release: () => void = () => {};
      const bothRead = new Promise<void>((resolve) => {
        release = resolve;
      });
      let reads = 0;
      const bump = (client: PrismaClient, name: string) =>
        client.$transaction(
          async (tx) => {
            await tx.user.findUniqueOrThrow({ where: { id: user.id } });
            reads += 1;
            if (reads === 2) release();
            await bothRead;
            await tx.user.update({ where: { id: user.id }, data: { name } });
          },
          { isolationLevel: "Serializable" },
        );
      const results = await Promise.allSettled([bump(db.prisma, "a"), bump(other, "b")]);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");

      expect(rejected).toHaveLength(1);
      expect(rejected[0]?.reason).toMatchObject({ code: "P2034" });
      expect(isRetriableDbError(rejected[0]?.reason)).toBe(true);
    } finally {
      await other.$disconnect();
    }
  });

  it("does not retry a unique violation or a bad query", async () => {
    await db.prisma.user.create({ data: { email: "once@example.com", name: "x" } });
    const duplicate = await failure(
      db.prisma.user.create({ data: { email: "once@example.com", name: "y" } }),
    );
    expect(duplicate).toMatchObject({ code: "P2002" });
    expect(isRetriableDbError(duplicate)).toBe(false);

    expect(isRetriableDbError(await failure(db.prisma.$queryRawUnsafe("SELECT * FROM no_such_table")))).toBe(
      false,
    );
    expect(isRetriableDbError(await failure(db.prisma.$queryRawUnsafe("SELEKT 1")))).toBe(false);
  });
});
