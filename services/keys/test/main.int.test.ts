import { topics } from "@apimon/events";
import {
  createTestTopics,
  expectConfigRefused,
  getFrom,
  milestonesLogged,
  startService,
  testDatabaseForFile,
  waitFor,
  waitReady,
} from "@apimon/testkit";

const entry = "services/keys/src/main.ts";
const ADMIN_TOKEN = "keys-process-admin-token-0123456789";

describe("keys service process", () => {
  const databaseOfFile = testDatabaseForFile();

  it("starts from its composition root, relays each key change to Kafka at once, and shuts down in order", async () => {
    const db = databaseOfFile();
    const run = await createTestTopics("keys-main", [topics.keyChanges]);
    const { prefix } = run;
    const keys = await startService(entry, {
      envPrefix: "KEYS",
      databaseUrl: db.url,
      topicPrefix: prefix,
      env: {
        ADMIN_TOKEN,
        KEY_HASH_SECRET: "keys-process-hash-secret-0123456789abcdef",
        // Far longer than the test: a change goes out because the API wakes the relay.
        OUTBOX_POLL_MS: "600000",
      },
    });
    const base = keys.url;
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };

    try {
      const ready = await waitReady(base, { timeoutMs: 30_000 });
      expect(ready).toEqual({
        status: "ready",
        checks: { database: { ok: true }, outboxRelay: { ok: true } },
      });

      const user = await fetch(`${base}/api/v1/users`, {
        method: "POST",
        headers,
        body: JSON.stringify({ email: "proc@example.com", name: "Process" }),
      });
      expect(user.status).toBe(201);
      const { id: userId } = (await user.json()) as { id: number };
      const key = await fetch(`${base}/api/v1/keys`, {
        method: "POST",
        headers,
        body: JSON.stringify({ userId, name: "relayed" }),
      });
      expect(key.status).toBe(201);

      // The relay marks a row only after Kafka acknowledged it.
      await waitFor(async () => (await db.prisma.outbox.count({ where: { publishedAt: null } })) === 0, {
        timeoutMs: 15_000,
        what: "the outbox to drain",
      });
      expect(await db.prisma.outbox.count()).toBe(1);

      // Twenty wrong tokens from one address use up its minute: the right token from there is then
      // refused too, not from another address. Started early enough in a minute to end in it.
      const intoMinute = Date.now() % 60_000;
      if (intoMinute > 50_000) await new Promise((r) => setTimeout(r, 60_100 - intoMinute));
      const users = `${base}/api/v1/users`;
      for (let i = 0; i < 20; i++) {
        const wrong = await getFrom("127.0.0.2", users, { authorization: `Bearer wrong-token-${i}` });
        expect(wrong.status).toBe(401);
      }
      const refused = await getFrom("127.0.0.2", users, { authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(refused.status).toBe(429);
      expect(JSON.parse(refused.body)).toEqual({
        detail: `Too many wrong admin tokens from this address. Try again in ${refused.headers["retry-after"]} seconds`,
      });
      const other = await getFrom("127.0.0.3", users, { authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(other.status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^admin_token_refusals_total\{reason="wrong_token",service="keys"\} 20$/m);
      expect(metrics).toMatch(/^admin_token_refusals_total\{reason="too_many",service="keys"\} 1$/m);
    } finally {
      keys.child.kill("SIGTERM");
    }
    expect(await keys.exited).toBe(0);
    await run.cleanup();

    const output = keys.output();
    const milestones = [
      "keys service listening",
      "shutting down",
      "outbox relay stopped",
      "shutdown complete",
    ];
    expect(milestonesLogged(keys, milestones)).toEqual(milestones);
    expect(output).toContain("wrong admin tokens: this client's attempts are used up until the minute ends");
    expect(output).not.toContain(ADMIN_TOKEN);
  });

  it("refuses to start without its secrets, naming every missing variable", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, KEYS_PORT: "eighty" };
    delete env.ADMIN_TOKEN;
    delete env.KEY_HASH_SECRET;
    await expectConfigRefused(entry, env, {
      service: "keys",
      variables: ["ADMIN_TOKEN", "KEY_HASH_SECRET", "KEYS_PORT"],
    });
  });
});
