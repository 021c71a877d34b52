// End to end: the keys service (its real composition root, as a process) writes every
// change to the outbox, its relay publishes it to keys.changes.v1, and a registry reader (what
// the edge runs) follows it. Real Postgres and Kafka; nothing mocked.
import { execFileSync } from "node:child_process";
import { runKeys } from "@apimon/cli";
import { createKeysClient, type KeysClient } from "@apimon/client";
import { topics } from "@apimon/events";
import { topicName } from "@apimon/kafka";
import { createKeyRegistry, hashApiKey, type KeyRegistry } from "@apimon/key-registry";
import {
  createTestDatabase,
  createTestTopics,
  type ServiceProcess,
  startService,
  type TestDatabase,
  testKafka,
  testLogger,
  uniqueTopicPrefix,
  waitFor,
  waitReady,
} from "@apimon/testkit";

const ADMIN_TOKEN = "e2e-admin-token-0123456789";
const KEY_HASH_SECRET = "e2e-key-hash-secret-0123456789abcdef";
const logger = testLogger("keys-e2e");

let db: TestDatabase;
let service: ServiceProcess;
let registry: KeyRegistry;
let client: KeysClient;
const prefix = uniqueTopicPrefix("keys-e2e");
const plaintexts: string[] = [];
const propagationMs: Record<string, number> = {};

/** Time from an API answer until the registry shows the expected state. */
async function propagated(label: string, since: number, check: () => boolean): Promise<void> {
  await waitFor(check, { timeoutMs: 15_000, intervalMs: 5, what: label });
  propagationMs[label] = Date.now() - since;
}

beforeAll(async () => {
  db = await createTestDatabase();
  const { kafka } = await createTestTopics("keys-e2e", [topics.keyChanges], { logger, prefix });
  service = await startService("services/keys/src/main.ts", {
    envPrefix: "KEYS",
    databaseUrl: db.url,
    topicPrefix: prefix,
    env: { ADMIN_TOKEN, KEY_HASH_SECRET, LOG_LEVEL: "debug" },
  });
  await waitReady(service.url, { timeoutMs: 60_000, what: "the keys service to be ready" });
  client = createKeysClient({ baseUrl: service.url, adminToken: ADMIN_TOKEN });
  registry = createKeyRegistry({ kafka, logger, topicPrefix: prefix, instanceId: "e2e" });
  await registry.start();
});

afterAll(async () => {
  await registry?.stop();
  await service?.stop("SIGTERM");
  process.stdout.write(`keys → registry propagation (ms): ${JSON.stringify(propagationMs)}\n`);
  await db?.drop();
});

const hash = (key: string) => hashApiKey(KEY_HASH_SECRET, key);

/** What an operator's `apimon keys` command answers, as `--json` prints it. */
const runKeysCommand = async (client: KeysClient, argv: string[]) => (await runKeys(client, argv)).data;

describe("keys service → keys.changes.v1 → registry reader", () => {
  it("shows a created key in the registry, follows deactivation, rotation with grace, and deletion", async () => {
    const user = await client.createUser({ email: "e2e@example.com", name: "E2E" });

    let since = Date.now();
    const created = await client.createKey({ userId: user.id, name: "first", rateLimits: { minute: 5 } });
    const key = created.key as string;
    plaintexts.push(key);
    await propagated("create", since, () => registry.lookup(hash(key)).status === "active");
    const entry = registry.lookup(hash(key));
    expect(entry.status === "active" && entry.key).toMatchObject({
      id: created.id,
      userId: user.id,
      active: true,
      rateLimits: { minute: 5, hour: null, day: null },
    });

    since = Date.now();
    await client.updateKey(created.id, { isActive: false });
    await propagated("deactivate", since, () => registry.lookup(hash(key)).status === "inactive");
    expect(registry.lookup(hash(key))).toMatchObject({ status: "inactive", reason: "deactivated" });

    since = Date.now();
    await client.updateKey(created.id, { isActive: true });
    await propagated("reactivate", since, () => registry.lookup(hash(key)).status === "active");

    // Rotation: both keys work during the grace period, only the new one after it.
    since = Date.now();
    const rotated = await client.rotateKey(created.id, 3);
    const newKey = rotated.key as string;
    plaintexts.push(newKey);
    await propagated("rotate", since, () => registry.lookup(hash(newKey)).status === "active");
    expect(registry.lookup(hash(key)).status).toBe("active");
    await waitFor(() => registry.lookup(hash(key)).status === "inactive", {
      timeoutMs: 15_000,
      what: "grace to end",
    });
    expect(registry.lookup(hash(key))).toMatchObject({ status: "inactive", reason: "expired" });
    expect(registry.lookup(hash(newKey)).status).toBe("active");

    since = Date.now();
    await client.deleteKey(rotated.id);
    await propagated("delete", since, () => registry.lookup(hash(newKey)).status === "unknown");
    expect(registry.lookup(hash("ak_never_issued")).status).toBe("unknown");
  });

  it("is operable from the CLI: create, list, deactivate, rotate, delete", async () => {
    const user = (await runKeysCommand(client, [
      "create-user",
      "--email",
      "cli@example.com",
      "--name",
      "CLI",
    ])) as {
      id: number;
    };
    const created = (await runKeysCommand(client, [
      "create",
      "--user",
      String(user.id),
      "--name",
      "cli",
      "--hour",
      "50",
    ])) as {
      id: number;
      key: string;
      rateLimits: { hour: number };
    };
    plaintexts.push(created.key);
    expect(created.rateLimits.hour).toBe(50);
    await waitFor(() => registry.lookup(hash(created.key)).status === "active", {
      timeoutMs: 15_000,
      what: "cli key",
    });
    const listed = (await runKeysCommand(client, ["list", "--user", String(user.id)])) as {
      items: { id: number }[];
    };
    expect(listed.items.map((k) => k.id)).toEqual([created.id]);
    await runKeysCommand(client, ["deactivate", String(created.id)]);
    await waitFor(() => registry.lookup(hash(created.key)).status === "inactive", {
      timeoutMs: 15_000,
      what: "cli deactivation",
    });
    await expect(runKeysCommand(client, ["rotate", String(created.id)])).rejects.toThrow(/HTTP 409/);
    expect(await runKeysCommand(client, ["delete", String(created.id)])).toEqual({ deleted: created.id });
    await waitFor(() => registry.lookup(hash(created.key)).status === "unknown", {
      timeoutMs: 15_000,
      what: "cli deletion",
    });
  });

  it("takes every key of a deleted user out of the registry, and only theirs", async () => {
    const leaving = await client.createUser({ email: "leaving@example.com", name: "Leaving" });
    const staying = await client.createUser({ email: "staying@example.com", name: "Staying" });
    const theirs = [
      await client.createKey({ userId: leaving.id, name: "one" }),
      await client.createKey({ userId: leaving.id, name: "two" }),
    ].map((k) => k.key as string);
    const kept = (await client.createKey({ userId: staying.id, name: "kept" })).key as string;
    plaintexts.push(...theirs, kept);
    await waitFor(() => [...theirs, kept].every((k) => registry.lookup(hash(k)).status === "active"), {
      timeoutMs: 15_000,
      what: "three keys",
    });

    // Renaming a user changes nothing the edge sees.
    expect(
      await runKeysCommand(client, ["update-user", String(leaving.id), "--email", "Gone@Example.com"]),
    ).toMatchObject({ id: leaving.id, email: "gone@example.com", name: "Leaving" });

    const since = Date.now();
    expect(await runKeysCommand(client, ["delete-user", String(leaving.id)])).toEqual({
      deleted: leaving.id,
    });
    await propagated("delete user", since, () =>
      theirs.every((k) => registry.lookup(hash(k)).status === "unknown"),
    );
    expect(registry.lookup(hash(kept)).status).toBe("active");
    await expect(client.getUser(leaving.id)).rejects.toThrow(/HTTP 404/);
  });

  it("never lets the plaintext key reach the database, Kafka or a log line", async () => {
    expect(plaintexts.length).toBeGreaterThan(0);
    const dump = execFileSync("pg_dump", ["--data-only", "--inserts", db.url], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      // pg_dump warns about api_keys' self-reference (rotation) on stderr; harmless here.
      stdio: ["ignore", "pipe", "ignore"],
    });
    expect(dump).toContain(hash(plaintexts[0] as string)); // the dump does hold the keys' hashes

    const consumer = testKafka("keys-e2e-scan").consumer({ groupId: `${prefix}scan`, maxWaitTimeInMs: 200 });
    const messages: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: topicName(topics.keyChanges, prefix), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        messages.push(`${message.key?.toString() ?? ""} ${message.value?.toString() ?? ""}`);
      },
    });
    await waitFor(() => messages.length >= 9, { timeoutMs: 20_000, what: "the registry topic's messages" });
    await consumer.disconnect();

    const serviceOutput = service.output();
    expect(serviceOutput.length).toBeGreaterThan(0);
    for (const plaintext of plaintexts) {
      expect(dump).not.toContain(plaintext);
      expect(messages.join("\n")).not.toContain(plaintext);
      expect(serviceOutput).not.toContain(plaintext);
      // Not even the random part without the marker.
      expect(serviceOutput).not.toContain(plaintext.slice(3));
    }
  });
});
