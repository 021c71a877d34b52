// `pnpm start`'s runner, end to end on the real infrastructure: migrations into an empty
// database, topics under a fresh prefix, services up and ready, and everything stopped on SIGTERM
// (a second one included).
import { createServer } from "node:net";
import { join } from "node:path";
import { keptDemoKey } from "@apimon/client";
import {
  createTestDatabase,
  spawnTsx,
  type TestDatabase,
  testKafka,
  uniqueTopicPrefix,
  waitFor,
} from "@apimon/testkit";
import { repoDir } from "../../scripts/lib/infra";
import { edgeKnowsAKey, freeStackPorts, ownUsageJournal } from "./lib/stack-run";

let db: TestDatabase;
const journal = ownUsageJournal("stack");

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
});

afterAll(async () => {
  await db.drop();
  journal.remove();
});

describe("pnpm start (scripts/stack.ts)", () => {
  it("migrates, creates topics, reports every service ready, and stops them all on SIGTERM", async () => {
    const prefix = uniqueTopicPrefix("stack");
    // Every service on a free port, so that the run never meets a stack already on this machine.
    const ports = await freeStackPorts();
    const port = Number(ports.DEMO_UPSTREAM_PORT);
    const keysPort = Number(ports.KEYS_PORT);
    const consolePort = Number(ports.CONSOLE_PORT);
    const stack = spawnTsx("scripts/stack.ts", {
      ...process.env,
      ...ports,
      USAGE_SPOOL_DIR: journal.USAGE_SPOOL_DIR,
      STACK_FROM_SOURCE: "1",
      DATABASE_URL: db.url,
      KAFKA_TOPIC_PREFIX: prefix,
      // Key ids restart at 1 in every test database, and Redis is shared: counters of their own.
      RATE_LIMIT_REDIS_PREFIX: `${prefix}rl:`,
      ADMIN_TOKEN: "",
    });

    await waitFor(() => stack.output().includes("stack: Ctrl-C stops everything"), {
      timeoutMs: 150_000,
      what: `ready; output so far:\n${stack.output()}`,
    });
    expect(stack.output()).toMatch(
      /stack: ADMIN_TOKEN not set; generated one for this run: dev-[0-9a-f]{32}/,
    );
    expect(stack.output()).toContain(`demo-upstream      http://127.0.0.1:${port}`);
    expect(stack.output()).toContain(`keys               http://127.0.0.1:${keysPort}`);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${keysPort}/readyz`)).status).toBe(200);
    // The console found the keys service on this run's port, and says where it is.
    expect(stack.output()).toContain(`stack: operator console: http://127.0.0.1:${consolePort}`);
    expect((await fetch(`http://127.0.0.1:${consolePort}/readyz`)).status).toBe(200);
    // The demo user and a demo key were seeded, and the printed key is a real one.
    const demo = stack
      .output()
      .match(/demo user demo@example\.com \(id (\d+)\); demo API key: (ak_[\w-]+) \(key id (\d+), new;/);
    expect(demo).not.toBeNull();
    // Kept for this database, so that the next start prints it again instead of adding a key.
    expect(keptDemoKey(join(repoDir, ".runtime", "demo-keys.json"), db.url)).toEqual({
      keyId: Number(demo?.[3]),
      key: demo?.[2],
    });
    const keys = await db.prisma.apiKey.findMany({ where: { userId: Number(demo?.[1]) } });
    expect(keys).toHaveLength(1);
    expect(keys[0]?.keyPrefix).toBe(demo?.[2]?.slice(0, 11));
    // The printed curl works: the edge knows the key and proxies to this run's demo upstream.
    const edgeUrl = `http://127.0.0.1:${ports.EDGE_PORT}`;
    expect(stack.output()).toContain(`${edgeUrl}/api/users`);
    await edgeKnowsAKey(ports.EDGE_ADMIN_PORT as string, 15_000);
    const answer = await fetch(`${edgeUrl}/api/users`, { headers: { "x-api-key": demo?.[2] ?? "" } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-ratelimit-minute-remaining")).toBe("99");

    // The migrations reached the empty database, and the catalog's topics exist under the prefix.
    const tables = await db.prisma.$queryRaw<
      { n: bigint }[]
    >`select count(*) as n from _prisma_migrations where finished_at is not null`;
    expect(Number(tables[0]?.n)).toBeGreaterThan(0);
    const admin = testKafka().admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix)).sort();
    await admin.deleteTopics({ topics }).catch(() => {});
    await admin.disconnect();
    expect(topics).toContain(`${prefix}usage.events.v1`);
    expect(topics).toContain(`${prefix}keys.changes.v1.dlq`);
    expect(topics).toHaveLength(10);

    const exited = stack.stop("SIGTERM");
    // A second signal while the services stop does not cut the stop short.
    await waitFor(() => stack.output().includes("stack: stopping services"), {
      timeoutMs: 10_000,
      // Nine services take seconds to stop; the second signal comes well within them.
      intervalMs: 10,
      what: "the stack to begin stopping",
    });
    stack.child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stack.output()).toContain("stack: still stopping the services");
    expect(stack.output()).toContain("stack: stopped");
    // The services are gone with the stack.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${keysPort}/healthz`)).rejects.toThrow();
    // Nine services start from source; the wait for them alone may take 90 s on a busy machine.
  }, 180_000);

  it("starts nothing when another program holds a service's port, and names the variable", async () => {
    const ports = await freeStackPorts();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(Number(ports.CONSOLE_PORT), "127.0.0.1", resolve));
    try {
      const stack = spawnTsx("scripts/stack.ts", {
        ...process.env,
        ...ports,
        STACK_FROM_SOURCE: "1",
        DATABASE_URL: db.url,
      });
      expect(await stack.exited).toBe(1);
      expect(stack.output()).toContain(
        `stack: port ${ports.CONSOLE_PORT} (console, CONSOLE_PORT) is in use by another program`,
      );
      expect(stack.output()).toContain("CONSOLE_PORT=<port> pnpm start");
      // Before the infrastructure, the migrations or any service.
      expect(stack.output()).not.toContain("infra:");
      expect(stack.output()).not.toContain("migrating");
      await expect(fetch(`http://127.0.0.1:${ports.KEYS_PORT}/healthz`)).rejects.toThrow();
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 60_000);
});
