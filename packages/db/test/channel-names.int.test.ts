// The migration that makes notification channel names unique, on a database that already has
// channels sharing a name: it must keep every channel and leave the names apart.
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTestDatabase, type TestDatabase } from "@apimon/testkit";
import { Client } from "pg";
import { migrate } from "../src";
import { MIGRATIONS_DIR } from "./support/schema-engine-cli";

const UNIQUE_NAMES = "20261205212352_channel_names_unique";

let db: TestDatabase;
let scratch: string;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
  scratch = await mkdtemp(path.join(tmpdir(), "apimon-channel-names-"));
});

afterAll(async () => {
  await db?.drop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

it("gives each later channel of a shared name its id, then refuses a second channel of one name", async () => {
  // The database as it was before the migration.
  const before = path.join(scratch, "migrations");
  await cp(MIGRATIONS_DIR, before, { recursive: true });
  await rm(path.join(before, UNIQUE_NAMES), { recursive: true });
  await migrate({ connectionString: db.url, migrationsDir: before });

  const long = "n".repeat(200);
  for (const name of ["ops", "ops", "pager", "ops", long, long]) {
    await query(
      `INSERT INTO notification_channels (name, type, target, updated_at) VALUES ($1, 'email', 'a@example.com', now())`,
      [name],
    );
  }
  expect(await migrate({ connectionString: db.url })).toMatchObject({ applied: [UNIQUE_NAMES] });

  const rows = await query<{ id: number; name: string }>(
    "SELECT id, name FROM notification_channels ORDER BY id",
  );
  expect(rows).toEqual([
    { id: 1, name: "ops" },
    { id: 2, name: "ops (#2)" },
    { id: 3, name: "pager" },
    { id: 4, name: "ops (#4)" },
    { id: 5, name: long },
    { id: 6, name: `${"n".repeat(195)} (#6)` },
  ]);
  await expect(
    query(
      `INSERT INTO notification_channels (name, type, target, updated_at) VALUES ('pager', 'email', 'b@example.com', now())`,
    ),
  ).rejects.toThrow(/notification_channels_name_key/);
});
