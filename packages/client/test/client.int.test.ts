// The client against the real keys and alerts services (in this process, on free ports, over one
// test database): every call of both clients, typed by the generated API types.
import type { PrismaClient } from "@apimon/db";
import { type RunningServer, startServer } from "@apimon/http";
import { Registry } from "@apimon/observability";
import { createTestDatabase, type TestDatabase, testLogger } from "@apimon/testkit";
import { buildApp as buildAlertsApp, processorOn } from "../../../services/alerts/test/support";
import { createApp as createKeysApp } from "../../../services/keys/src/app";
import { type AlertsClient, ApiError, createAlertsClient, createKeysClient, type KeysClient } from "../src";

const ADMIN_TOKEN = "client-test-admin-token-0123456789";
let db: TestDatabase;
let prisma: PrismaClient;
const servers: RunningServer[] = [];
let keys: KeysClient;
let alerts: AlertsClient;

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = db.prisma;
  const keysApp = createKeysApp({
    logger: testLogger("keys"),
    registry: new Registry(),
    prisma,
    config: {
      adminToken: ADMIN_TOKEN,
      keyHashSecret: "client-test-hash-secret",
      graceSeconds: 60,
      defaults: { minute: 100, hour: 1000, day: 10000 },
    },
    isShuttingDown: () => false,
  });
  // No notifier runs here: a channel test waits this long for a delivery record, then answers 504.
  const alertsApp = buildAlertsApp(prisma, {
    config: { adminToken: ADMIN_TOKEN, consoleUrl: "http://console.test", testTimeoutMs: 300 },
  });
  for (const app of [keysApp, alertsApp])
    servers.push(await startServer(app, { port: 0, hostname: "127.0.0.1" }));
  const [keysServer, alertsServer] = servers as [RunningServer, RunningServer];
  keys = createKeysClient({ baseUrl: `http://127.0.0.1:${keysServer.port}`, adminToken: ADMIN_TOKEN });
  alerts = createAlertsClient({ baseUrl: `http://127.0.0.1:${alertsServer.port}`, adminToken: ADMIN_TOKEN });
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await db?.drop();
});

describe("the keys client", () => {
  it("manages users and keys, and pages through them with an async iterator", async () => {
    const user = await keys.createUser({ email: "Client@Example.com", name: "Client" });
    expect(user).toEqual({
      id: expect.any(Number),
      email: "client@example.com",
      name: "Client",
      createdAt: expect.any(String),
    });
    expect(await keys.getUser(user.id)).toEqual(user);

    const created = [];
    for (const name of ["a", "b", "c"])
      created.push(await keys.createKey({ userId: user.id, name, rateLimits: { minute: 5 } }));
    expect(created[0]?.key).toMatch(/^\S{20,}$/);
    expect(created[0]?.rateLimits).toEqual({ minute: 5, hour: 1000, day: 10000 });

    const page = await keys.listKeys({ userId: user.id, limit: 2 });
    expect(page.items.map((k) => k.name)).toEqual(["a", "b"]);
    expect(page.nextCursor).toEqual(expect.any(String));
    const all = await collect(keys.iterateKeys({ userId: user.id, active: true, limit: 1 }));
    expect(all.map((k) => k.name)).toEqual(["a", "b", "c"]);
    expect((await collect(keys.iterateUsers({ limit: 1 }))).map((u) => u.id)).toContain(user.id);

    const id = created[0]?.id as number;
    expect(await keys.updateKey(id, { isActive: false, rateLimits: { minute: null } })).toMatchObject({
      isActive: false,
      rateLimits: { minute: 100, hour: 1000, day: 10000 },
    });
    await keys.updateKey(id, { isActive: true });
    const successor = await keys.rotateKey(id, 30);
    expect(successor).toMatchObject({ rotatedFromId: id, name: "a", key: expect.any(String) });
    expect((await keys.getKey(successor.id)).rotatedFromId).toBe(id);

    const usage = await keys.keyUsage(id, { from: "2026-01-01T00:00:00Z", to: "2026-01-01T03:00:00Z" });
    expect(usage).toMatchObject({ keyId: id, granularity: "hour" });
    expect(usage.buckets).toHaveLength(3);
    expect(await keys.usageSummary({ userId: user.id, limit: 3 })).toMatchObject({
      userId: user.id,
      requests: 0,
      errorRate: 0,
    });

    await keys.deleteKey(successor.id);
    const missing = await keys.getKey(successor.id).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ status: 404, body: { detail: "API key not found" } });
  });

  it("surfaces a validation error with its fields", async () => {
    const error = (await keys
      .createUser({ email: "not-an-email", name: "x" })
      .catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(400);
    expect(error.fieldErrors).toEqual([{ field: "email", message: "must be a valid email address" }]);
  });
});

describe("the alerts client", () => {
  const processor = () => processorOn(prisma, () => new Date());
  const fire = async (fingerprint: string, severity: "warning" | "critical", apiKeyId?: number) =>
    (
      await processor().apply({
        fingerprint,
        type: "response_time",
        severity,
        state: "firing",
        scope: apiKeyId === undefined ? {} : { apiKeyId },
        observedValue: 3,
        threshold: 2,
        message: `slow ${fingerprint}`,
        observedAt: new Date().toISOString(),
      })
    ).alert?.id as number;

  it("lists with filters, pages, reads, acknowledges with a note, counts and reports alerts", async () => {
    const ids = [
      await fire("client:a", "warning"),
      await fire("client:b", "critical"),
      await fire("client:c", "critical"),
    ];

    const critical = await alerts.listAlerts({ severity: "critical", type: "" });
    expect(critical.items.map((a) => a.id)).toEqual([ids[2], ids[1]]);
    expect((await collect(alerts.iterateAlerts({ limit: 1 }))).map((a) => a.id)).toEqual([...ids].reverse());

    const acknowledged = await alerts.acknowledgeAlert(ids[0] as number, "looking into it");
    expect(acknowledged).toMatchObject({ status: "acknowledged", acknowledgementNote: "looking into it" });
    expect((await alerts.getAlert(ids[0] as number)).timeline.map((e) => e.kind)).toEqual([
      "opened",
      "acknowledged",
    ]);

    expect(await alerts.alertCounts()).toMatchObject({ total: 3, bySeverity: { warning: 1, critical: 2 } });
    const report = await alerts.alertReport({ from: new Date(Date.now() - 3_600_000).toISOString() });
    expect(report).toMatchObject({ total: 3, byStatus: { firing: 2, acknowledged: 1, resolved: 0 } });
    const history = await alerts.listAlerts({
      from: new Date(Date.now() - 3_600_000).toISOString(),
      status: "acknowledged",
    });
    expect(history.items.map((a) => a.id)).toEqual([ids[0]]);
  });

  it("reads and replaces the settings", async () => {
    const settings = await alerts.getSettings();
    expect(settings.updatedAt).toBeNull();
    const saved = await alerts.putSettings({ ...settings, repeatIntervalSeconds: 900 });
    expect(saved).toMatchObject({ repeatIntervalSeconds: 900, updatedAt: expect.any(String) });
    expect(await alerts.getSettings()).toEqual(saved);
  });

  it("creates, lists, updates, tests and deletes channels", async () => {
    const channel = await alerts.createChannel({ type: "email", target: "ops@example.com" });
    expect(channel).toMatchObject({
      type: "email",
      target: "ops@example.com",
      minSeverity: "warning",
      enabled: true,
    });
    expect((await alerts.listChannels()).items.map((c) => c.id)).toContain(channel.id);
    expect((await collect(alerts.iterateChannels({ limit: 1 }))).map((c) => c.id)).toContain(channel.id);
    expect(await alerts.updateChannel(channel.id, { minSeverity: "critical" })).toMatchObject({
      minSeverity: "critical",
    });
    // A POST is never sent twice: the 504 of a test with no notifier comes back at once.
    const test = await alerts.testChannel(channel.id).catch((e: unknown) => e);
    expect(test).toMatchObject({ status: 504 });
    await alerts.deleteChannel(channel.id);
    expect(await alerts.getChannel(channel.id).catch((e: unknown) => e)).toMatchObject({
      status: 404,
      body: { detail: "Channel not found" },
    });
  });
});
