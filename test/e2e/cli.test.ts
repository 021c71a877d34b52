// The operator CLI (`pnpm apimon ...`) against the real keys, alerts and notifier services and
// the real broker: every command group, tables and --json, and its error exits. Most runs call
// its main function in this process (a node process takes seconds to start on a loaded
// machine); one test runs every command group as a process of its own.
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { apimonMain } from "@apimon/cli";
import { type AlertSignal, type DlqRecord, dlqTopic, topics } from "@apimon/events";
import { createBatchingProducer, topicName } from "@apimon/kafka";
import {
  emptyUsageBucket,
  estimateOf,
  freePort,
  type HttpReceiver,
  spawnTsx,
  startHttpReceiver,
  testLogger,
  waitFor,
} from "@apimon/testkit";
import { ADMIN_TOKEN, type FullStack, startFullStack } from "./lib/full-stack";

let stack: FullStack;
let receiver: HttpReceiver;
let tmp: string;

beforeAll(async () => {
  receiver = await startHttpReceiver();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "apimon-cli-"));
  stack = await startFullStack({
    label: "cli",
    services: ["keys", "alerts", "notifier"],
    env: {
      notifier: { NOTIFIER_ALLOW_PRIVATE_TARGETS: "true" },
      // A channel test waits this long for the notifier's answer; a loaded machine needs more
      // than the default 10 s.
      alerts: { ALERTS_TEST_TIMEOUT_MS: "30000" },
    },
  });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  code: number | NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const stackEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  KEYS_URL: stack.url("keys"),
  ALERTS_URL: stack.url("alerts"),
  ADMIN_TOKEN,
  KAFKA_TOPIC_PREFIX: stack.prefix,
});

/** Runs `apimon <args>` against this stack's services and topics (in this process). */
async function apimon(args: string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await apimonMain(
    args,
    { ...stackEnv(), ...env },
    {
      out: (text) => {
        stdout += `${text}\n`;
      },
      err: (text) => {
        stderr += `${text}\n`;
      },
    },
  );
  return { code, stdout, stderr };
}

/** Runs `apimon <args>` as its own process, as `pnpm apimon` does. */
async function apimonProcess(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const proc = spawnTsx("packages/cli/src/main.ts", { ...stackEnv(), ...env }, args);
  const code = await proc.exited;
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

/** `apimon <args> --json`, which must succeed; its parsed output. */
async function json<T>(args: string[]): Promise<T> {
  const run = await apimon([...args, "--json"]);
  if (run.code !== 0) throw new Error(`apimon ${args.join(" ")} → ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** A failed run: the exit code and its single line on stderr, nothing on stdout. */
function failure(run: Run) {
  const lines = run.stderr.trimEnd().split("\n");
  expect({ stdout: run.stdout, lines: lines.length }).toEqual({ stdout: "", lines: 1 });
  return { code: run.code, message: lines[0] };
}

/** The rows of a table (header first), each split into its cells. */
const rows = (text: string) =>
  text
    .trimEnd()
    .split("\n")
    .map((line) => line.split(/ {2,}/));

interface Key {
  id: number;
  userId: number;
  name: string;
  key?: string;
  isActive: boolean;
  state: string;
  rateLimits: { minute: number; hour: number; day: number };
}

describe("apimon CLI", () => {
  it("manages keys: create, list with paging, limits, rotate, deactivate and activate", async () => {
    const user = await json<{ id: number }>([
      "keys",
      "create-user",
      "--email",
      `cli-${Date.now()}@example.com`,
      "--name",
      "CLI",
    ]);
    const created = await json<Key>([
      "keys",
      "create",
      "--user",
      String(user.id),
      "--name",
      "first",
      "--minute",
      "7",
    ]);
    expect(created).toMatchObject({
      userId: user.id,
      name: "first",
      isActive: true,
      rateLimits: { minute: 7 },
    });
    expect(created.key).toMatch(/^ak_/);
    await json(["keys", "create", "--user", String(user.id), "--name", "second"]);
    await json(["keys", "create", "--user", String(user.id), "--name", "third"]);

    // The default output is a table; a page short of the whole list names the next cursor.
    const table = await apimon(["keys", "list", "--user", String(user.id), "--limit", "2"]);
    expect(table.code).toBe(0);
    const lines = rows(table.stdout);
    expect(lines[0]).toEqual([
      "ID",
      "USER",
      "NAME",
      "PREFIX",
      "STATE",
      "MINUTE",
      "HOUR",
      "DAY",
      "EXPIRES",
      "CREATED",
    ]);
    expect(lines.slice(1, 3).map((r) => r[2])).toHaveLength(2);
    const more = lines[3]?.join(" ").match(/^\(more: --cursor (\S+)\)$/);
    expect(more).not.toBeNull();
    const next = await json<{ items: Key[]; nextCursor: string | null }>([
      "keys",
      "list",
      "--user",
      String(user.id),
      "--limit",
      "2",
      "--cursor",
      more?.[1] ?? "",
    ]);
    expect(next.items).toHaveLength(1);
    expect(next.nextCursor).toBeNull();
    const all = await json<{ items: Key[]; nextCursor: null }>([
      "keys",
      "list",
      "--user",
      String(user.id),
      "--limit",
      "1",
      "--all",
    ]);
    expect(all.items.map((k) => k.name).sort()).toEqual(["first", "second", "third"]);
    expect(all.nextCursor).toBeNull();

    const limited = await json<Key>([
      "keys",
      "limits",
      String(created.id),
      "--minute",
      "50",
      "--hour",
      "500",
      "--day",
      "5000",
    ]);
    expect(limited.rateLimits).toEqual({ minute: 50, hour: 500, day: 5000 });
    const shown = await apimon(["keys", "get", String(created.id)]);
    expect(shown.stdout).toMatch(/^rateLimits\.minute +50$/m);

    const rotated = await json<Key>(["keys", "rotate", String(created.id), "--grace", "0"]);
    expect(rotated.key).toMatch(/^ak_/);
    expect(rotated.key).not.toBe(created.key);
    // No grace: the old key is refused from now on, and says so.
    expect((await json<Key>(["keys", "get", String(created.id)])).state).toBe("expired");
    expect(await json<Key>(["keys", "deactivate", String(rotated.id)])).toMatchObject({
      isActive: false,
      state: "deactivated",
    });
    expect(await json<Key>(["keys", "activate", String(rotated.id)])).toMatchObject({
      isActive: true,
      state: "active",
    });
  });

  it("shows what it changed in the audit log, as done by the CLI, and a key's history from creation to deletion", async () => {
    const user = await json<{ id: number }>([
      "keys",
      "create-user",
      "--email",
      `audit-${Date.now()}@example.com`,
      "--name",
      "Audited",
    ]);
    const key = await json<Key>(["keys", "create", "--user", String(user.id), "--name", "audited key"]);
    await json(["keys", "deactivate", String(key.id)]);
    expect((await apimon(["keys", "delete", String(key.id)])).code).toBe(0);

    interface AuditRow {
      action: string;
      targetType: string;
      targetId: number | null;
      source: string;
      clientAddress: string | null;
      summary: string;
      changes: Record<string, { from: unknown; to: unknown }> | null;
      operator: { id: number; name: string } | null;
    }
    const history = await json<{ items: AuditRow[] }>(["audit", "--target", `key:${key.id}`]);
    expect(history.items.map((row) => row.action)).toEqual(["key.deleted", "key.deactivated", "key.created"]);
    for (const row of history.items) {
      expect(row).toMatchObject({ targetType: "key", targetId: key.id, source: "cli", operator: null });
      expect(row.clientAddress).toMatch(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
    }
    expect(history.items[1]?.changes).toEqual({ isActive: { from: true, to: false } });
    expect(JSON.stringify(history.items)).not.toContain(key.key ?? "no key");

    const table = rows((await apimon(["audit", "--target", `user:${user.id}`])).stdout);
    expect(table[0]).toEqual(["WHEN", "ACTION", "TARGET", "BY", "SOURCE", "ADDRESS", "SUMMARY"]);
    expect(table.slice(1).map((cells) => cells.slice(1, 5))).toEqual([
      ["user.created", `user:${user.id}`, "admin token", "cli"],
    ]);
    expect(failure(await apimon(["audit", "--target", "door:1"])).code).toBe(2);
  });

  it("shows the requests per bucket of every key, of one user's keys and of one key", async () => {
    const newUser = (name: string) =>
      json<{ id: number }>([
        "keys",
        "create-user",
        "--email",
        `${name}-${Date.now()}@example.com`,
        "--name",
        name,
      ]);
    const ann = await newUser("ann");
    const bob = await newUser("bob");
    const annKey = await json<Key>(["keys", "create", "--user", String(ann.id), "--name", "ann's"]);
    const bobKey = await json<Key>(["keys", "create", "--user", String(bob.id), "--name", "bob's"]);
    // The requests as the usage recorder writes them; this stack has no edge to send them through
    // (usage-pipeline.test.ts covers that path).
    const recorded = [
      { at: "2026-01-15T10:05:00Z", key: annKey, status: 200, seconds: 0.01 },
      { at: "2026-01-15T10:20:00Z", key: annKey, status: 500, seconds: 0.03 },
      { at: "2026-01-15T10:40:00Z", key: bobKey, status: 404, seconds: 0.02 },
      { at: "2026-01-15T11:10:00Z", key: annKey, status: 429, seconds: 0.001, rateLimited: true },
    ];
    await stack.db.prisma.apiUsage.createMany({
      data: recorded.map((r) => ({
        eventId: randomUUID(),
        userId: r.key.userId,
        apiKeyId: r.key.id,
        endpoint: "/api/users/:id",
        method: "GET",
        statusCode: r.status,
        responseTime: r.seconds,
        rateLimited: r.rateLimited ?? false,
        createdAt: new Date(r.at),
      })),
    });
    const range = ["--from", "2026-01-15T10:00:00Z", "--to", "2026-01-15T12:00:00Z"];
    const answerRange = {
      from: "2026-01-15T10:00:00.000Z",
      to: "2026-01-15T12:00:00.000Z",
      granularity: "hour",
    };
    const bucket = (start: string, figures: Record<string, unknown>) => ({
      ...emptyUsageBucket(start),
      ...figures,
    });
    // By hour, percentiles are estimates from latency histograms.
    const limited = bucket("2026-01-15T11:00:00.000Z", {
      requests: 1,
      clientErrors: 1,
      rateLimited: 1,
      p50ResponseTimeMs: estimateOf(1),
      p95ResponseTimeMs: estimateOf(1),
    });

    const everyKey = await apimon(["keys", "usage", ...range]);
    expect({ code: everyKey.code, stderr: everyKey.stderr }).toEqual({ code: 0, stderr: "" });
    const table = rows(everyKey.stdout);
    expect(table.map((row) => row.slice(0, 5))).toEqual([
      ["every key, 2026-01-15T10:00:00.000Z to 2026-01-15T12:00:00.000Z by hour"],
      ["START", "REQUESTS", "5XX", "4XX", "LIMITED"],
      ["2026-01-15T10:00:00.000Z", "3", "1", "1", "0"],
      ["2026-01-15T11:00:00.000Z", "1", "0", "1", "1"],
    ]);
    expect(table[1]?.slice(5)).toEqual(["P50 MS", "P95 MS"]);
    expect(table.slice(2).map((row) => row.slice(5).map(Number))).toEqual([
      [estimateOf(20), estimateOf(29)],
      [estimateOf(1), estimateOf(1)],
    ]);
    expect(await json(["keys", "usage", "--user", String(ann.id), ...range])).toEqual({
      ...answerRange,
      userId: ann.id,
      buckets: [
        bucket("2026-01-15T10:00:00.000Z", {
          requests: 2,
          errors: 1,
          p50ResponseTimeMs: estimateOf(20),
          p95ResponseTimeMs: estimateOf(29),
        }),
        limited,
      ],
    });
    const bobs = await apimon(["keys", "usage", "--user", String(bob.id), ...range]);
    expect(bobs.stdout.split("\n")[0]).toBe(
      `user ${bob.id}'s keys, 2026-01-15T10:00:00.000Z to 2026-01-15T12:00:00.000Z by hour`,
    );
    expect(await json(["keys", "usage", String(bobKey.id), ...range])).toEqual({
      keyId: bobKey.id,
      ...answerRange,
      buckets: [
        bucket("2026-01-15T10:00:00.000Z", {
          requests: 1,
          clientErrors: 1,
          p50ResponseTimeMs: estimateOf(20),
          p95ResponseTimeMs: estimateOf(20),
        }),
        bucket("2026-01-15T11:00:00.000Z", {}),
      ],
    });

    expect(failure(await apimon(["keys", "usage", String(annKey.id), "--user", String(ann.id)]))).toEqual({
      code: 2,
      message: "apimon keys: a key id and --user do not go together (see 'apimon keys --help')",
    });
    expect(
      failure(
        await apimon(["keys", "usage", "--from", "2026-01-01T00:00:00Z", "--to", "2026-02-10T00:00:00Z"]),
      ),
    ).toEqual({
      code: 1,
      message:
        "apimon keys: the keys service answered 400: Invalid query (from: the range must not exceed 31 days)",
    });
  });

  it("makes operators whose tokens it runs with: a viewer may read but not change, a revoked token is refused, and the audit log names who did what", async () => {
    interface AuditRow {
      action: string;
      targetId: number | null;
      operator: { id: number; name: string } | null;
    }
    const user = await json<{ id: number }>([
      "keys",
      "create-user",
      "--email",
      `operators-${Date.now()}@example.com`,
      "--name",
      "Operators",
    ]);
    const key = await json<Key>(["keys", "create", "--user", String(user.id), "--name", "operated key"]);

    // The token is in the text output once, with the warning to keep it.
    const created = await apimon(["operators", "create", "ci-viewer", "--role", "viewer"]);
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: "" });
    expect(created.stdout).toMatch(/^role +viewer$/m);
    expect(created.stdout).toContain("\nStore the token now; it is not shown again");
    const viewerId = Number(created.stdout.match(/^id +(\d+)$/m)?.[1]);
    const token = created.stdout.match(/^token +(\S+)$/m)?.[1] ?? "";
    expect(token).toMatch(/^apimon_op_/);
    const asViewer = { ADMIN_TOKEN: token };

    expect(await apimon(["whoami"], asViewer)).toEqual({
      code: 0,
      stdout: `operator ${viewerId} "ci-viewer" (viewer)\n`,
      stderr: "",
    });
    expect(await apimon(["whoami"])).toEqual({ code: 0, stdout: "admin token (admin)\n", stderr: "" });
    expect((await apimon(["keys", "get", String(key.id)], asViewer)).code).toBe(0);
    const refusal = 'answered 403: Operator "ci-viewer" is a viewer: its token may read, not change anything';
    expect(failure(await apimon(["keys", "deactivate", String(key.id)], asViewer))).toEqual({
      code: 1,
      message: `apimon keys: the keys service ${refusal}`,
    });
    expect(failure(await apimon(["silences", "add", "--for", "1h", "--comment", "x"], asViewer))).toEqual({
      code: 1,
      message: `apimon silences: the alerts service ${refusal}`,
    });
    expect((await json<Key>(["keys", "get", String(key.id)])).isActive).toBe(true);

    // Lists show the token's prefix, never the token.
    const listed = await apimon(["operators", "list", "--active", "--all"]);
    const table = rows(listed.stdout);
    expect(table[0]).toEqual(["ID", "NAME", "ROLE", "TOKEN", "CREATED", "LAST USED", "REVOKED"]);
    expect(table.find((cells) => cells[0] === String(viewerId))?.slice(1, 4)).toEqual([
      "ci-viewer",
      "viewer",
      `${token.slice(0, "apimon_op_".length + 4)}…`,
    ]);
    expect(listed.stdout).not.toContain(token);

    const revoked = await json<{ id: number; revokedAt: string | null }>([
      "operators",
      "revoke",
      String(viewerId),
    ]);
    expect(revoked).toMatchObject({ id: viewerId, revokedAt: expect.any(String) });
    expect(failure(await apimon(["whoami"], asViewer))).toEqual({
      code: 1,
      message: "apimon whoami: the keys service answered 401: Not authenticated; check ADMIN_TOKEN",
    });
    expect(failure(await apimon(["audit"], asViewer))).toEqual({
      code: 1,
      message: "apimon audit: the alerts service answered 401: Not authenticated; check ADMIN_TOKEN",
    });
    const ids = async (args: string[]) =>
      (await json<{ items: { id: number }[] }>(["operators", "list", "--all", ...args])).items.map(
        (o) => o.id,
      );
    expect(await ids(["--revoked"])).toContain(viewerId);
    expect(await ids(["--active"])).not.toContain(viewerId);

    const made = await json<{ items: AuditRow[] }>(["audit", "--target", `operator:${viewerId}`]);
    expect(made.items.map((row) => [row.action, row.targetId, row.operator])).toEqual([
      ["operator.revoked", viewerId, null],
      ["operator.created", viewerId, null],
    ]);

    // A change made with an admin operator's token is theirs in the log.
    const admin = await apimon(["operators", "create", "ci-admin", "--role", "admin", "--json"]);
    const adminOperator = JSON.parse(admin.stdout) as { id: number; role: string; token: string };
    expect(adminOperator.role).toBe("admin");
    const asAdmin = { ADMIN_TOKEN: adminOperator.token };
    expect((await apimon(["keys", "deactivate", String(key.id)], asAdmin)).code).toBe(0);
    const history = rows((await apimon(["audit", "--target", `key:${key.id}`])).stdout);
    expect(history.slice(1).map((cells) => [cells[1], cells[3]])).toEqual([
      ["key.deactivated", `ci-admin #${adminOperator.id}`],
      ["key.created", "admin token"],
    ]);
    const theirs = await json<{ items: AuditRow[] }>(["audit", "--operator", String(adminOperator.id)]);
    expect(theirs.items.map((row) => [row.action, row.targetId, row.operator])).toEqual([
      ["key.deactivated", key.id, { id: adminOperator.id, name: "ci-admin" }],
    ]);
    expect(failure(await apimon(["operators", "create", "x", "--role", "owner"]))).toEqual({
      code: 2,
      message:
        "apimon operators: --role must be one of admin, viewer (got 'owner') (see 'apimon operators --help')",
    });
    await json(["operators", "revoke", String(adminOperator.id)]);
  });

  it("promotes a viewer with operators update: its same token may then change what it was refused, and a rename shows in operators get", async () => {
    const user = await json<{ id: number }>([
      "keys",
      "create-user",
      "--email",
      `promoted-${Date.now()}@example.com`,
      "--name",
      "Promoted",
    ]);
    const key = await json<Key>(["keys", "create", "--user", String(user.id), "--name", "promoted key"]);
    const viewer = await json<{ id: number; token: string }>(["operators", "create", "ci-reader"]);
    const asViewer = { ADMIN_TOKEN: viewer.token };
    expect(failure(await apimon(["keys", "deactivate", String(key.id)], asViewer))).toEqual({
      code: 1,
      message:
        'apimon keys: the keys service answered 403: Operator "ci-reader" is a viewer: its token may read, not change anything',
    });

    const updated = await apimon([
      "operators",
      "update",
      String(viewer.id),
      "--role",
      "admin",
      "--name",
      "CI Deployer",
    ]);
    expect({ code: updated.code, stderr: updated.stderr }).toEqual({ code: 0, stderr: "" });
    expect(rows(updated.stdout).slice(0, 3)).toEqual([
      ["id", String(viewer.id)],
      ["name", "CI Deployer"],
      ["role", "admin"],
    ]);
    expect(updated.stdout).not.toContain(viewer.token);

    // The same token, now an admin's, from its next request.
    expect(await apimon(["whoami"], asViewer)).toEqual({
      code: 0,
      stdout: `operator ${viewer.id} "CI Deployer" (admin)\n`,
      stderr: "",
    });
    expect((await apimon(["keys", "deactivate", String(key.id)], asViewer)).code).toBe(0);
    expect((await json<Key>(["keys", "get", String(key.id)])).isActive).toBe(false);
    expect((await apimon(["keys", "activate", String(key.id)], asViewer)).code).toBe(0);
    expect((await json<Key>(["keys", "get", String(key.id)])).isActive).toBe(true);

    const shown = rows((await apimon(["operators", "get", String(viewer.id)])).stdout);
    expect(shown.filter(([field]) => field === "name" || field === "role")).toEqual([
      ["name", "CI Deployer"],
      ["role", "admin"],
    ]);
    const history = await json<{ items: { action: string; operator: { name: string } | null }[] }>([
      "audit",
      "--target",
      `key:${key.id}`,
    ]);
    expect(history.items.map((row) => [row.action, row.operator?.name ?? null])).toEqual([
      ["key.reactivated", "CI Deployer"],
      ["key.deactivated", "CI Deployer"],
      ["key.created", null],
    ]);
    const changes = await json<{ items: { action: string }[] }>([
      "audit",
      "--target",
      `operator:${viewer.id}`,
    ]);
    expect(changes.items.map((row) => row.action)).toEqual(["operator.updated", "operator.created"]);

    expect(failure(await apimon(["operators", "update", String(viewer.id)]))).toEqual({
      code: 2,
      message: "apimon operators: give at least one of --name, --role (see 'apimon operators --help')",
    });
    expect(failure(await apimon(["operators", "update", "2147483647", "--role", "viewer"]))).toEqual({
      code: 1,
      message: "apimon operators: the keys service answered 404: Operator not found",
    });
    await json(["operators", "revoke", String(viewer.id)]);
    expect(failure(await apimon(["operators", "update", String(viewer.id), "--role", "viewer"]))).toEqual({
      code: 1,
      message:
        "apimon operators: the keys service answered 409: Operator's token is revoked: make a new operator instead",
    });
  });

  it("runs as a process for every command group, with --json output and error exits", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const [keys, allUsage, alerts, channels, settings, dlq, silences, usage, refused, down] =
      await Promise.all([
        apimonProcess(["keys", "users", "--json"]),
        apimonProcess(["keys", "usage", "--granularity", "day", "--json"]),
        apimonProcess(["alerts", "list", "--json"]),
        apimonProcess(["channels", "list", "--json"]),
        apimonProcess(["settings", "get", "--json"]),
        apimonProcess(["dlq", "list", "--json"]),
        apimonProcess(["silences", "list", "--json"]),
        apimonProcess(["keys", "limits", "12"]),
        apimonProcess(["keys", "list"], { ADMIN_TOKEN: "not-the-admin-token-0123" }),
        apimonProcess(["alerts", "list"], { ALERTS_URL: closed }),
      ]);
    for (const run of [keys, allUsage, alerts, channels, settings, dlq, silences])
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(keys.stdout)).toMatchObject({ items: expect.any(Array), nextCursor: null });
    // By day, the default range (24 hours up to the end of the current bucket) is today.
    const byDay = JSON.parse(allUsage.stdout);
    expect(byDay).toEqual({
      from: expect.stringMatching(/T00:00:00\.000Z$/),
      to: expect.stringMatching(/T00:00:00\.000Z$/),
      granularity: "day",
      buckets: [expect.objectContaining({ start: byDay.from })],
    });
    expect(JSON.parse(alerts.stdout)).toMatchObject({ items: expect.any(Array) });
    expect(JSON.parse(channels.stdout)).toMatchObject({ items: expect.any(Array) });
    expect(JSON.parse(settings.stdout)).toMatchObject({ repeatIntervalSeconds: expect.any(Number) });
    expect(JSON.parse(dlq.stdout)).toHaveLength(5);
    expect(JSON.parse(silences.stdout)).toMatchObject({ items: expect.any(Array) });
    expect(failure(usage)).toEqual({
      code: 2,
      message: "apimon keys: give at least one of --minute, --hour, --day (see 'apimon keys --help')",
    });
    expect(failure(refused).code).toBe(1);
    expect(failure(refused).message).toMatch(
      /^apimon keys: the keys service answered 401: .+; check ADMIN_TOKEN$/,
    );
    expect(failure(down).code).toBe(1);
    expect(failure(down).message).toMatch(
      new RegExp(`^apimon alerts: cannot reach the alerts service at ${closed}: `),
    );

    // `pnpm keys` is the keys group of the same program.
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8"));
    expect(pkg.scripts).toMatchObject({
      apimon: "tsx packages/cli/src/main.ts",
      keys: "tsx packages/cli/src/main.ts keys",
    });
  }, 180_000);

  it("lists, shows and acknowledges alerts", async () => {
    const producer = createBatchingProducer({
      kafka: stack.kafka,
      logger: testLogger("cli-test"),
      topicPrefix: stack.prefix,
    });
    const signal = (apiKeyId: number, severity: "warning" | "critical"): AlertSignal => ({
      fingerprint: `response_time:key:${apiKeyId}`,
      type: "response_time",
      severity,
      state: "firing",
      scope: { apiKeyId, endpoint: "/api/slow" },
      observedValue: severity === "critical" ? 2.5 : 1.5,
      threshold: severity === "critical" ? 2 : 1,
      message: `slow responses for key ${apiKeyId}`,
      observedAt: new Date().toISOString(),
    });
    // One alert about a key the keys service has: the tables name it.
    const owner = await stack.admin<{ id: number }>("keys", "POST", "/api/v1/users", {
      email: "alerts-cli@example.com",
      name: "Alerts CLI",
    });
    const billing = await stack.admin<{ id: number }>("keys", "POST", "/api/v1/keys", {
      userId: owner.id,
      name: "billing",
    });
    // Waits through the API (a CLI run per poll is slow on a loaded machine); the CLI is tested below.
    const alertCount = async (n: number) =>
      waitFor(
        async () =>
          (await stack.admin<{ items: unknown[] }>("alerts", "GET", "/api/v1/alerts")).items.length === n,
        { timeoutMs: 60_000, intervalMs: 300, what: `${n} alert(s)` },
      );
    // The billing key's alert first: it is told at once, and the two others of its endpoint that
    // open after it are held to go together.
    await producer.publish(topics.alertSignals, signal(billing.id, "warning"));
    await alertCount(1);
    await Promise.all([
      producer.publish(topics.alertSignals, signal(902, "critical")),
      producer.publish(topics.alertSignals, signal(903, "critical")),
    ]);
    await producer.disconnect();
    await alertCount(3);

    const critical = await json<{ items: { id: number; apiKeyId: number }[] }>([
      "alerts",
      "list",
      "--severity",
      "critical",
    ]);
    expect(critical.items.map((a) => a.apiKeyId).sort()).toEqual([902, 903]);
    const paged = await json<{ items: unknown[]; nextCursor: null }>([
      "alerts",
      "list",
      "--limit",
      "1",
      "--all",
    ]);
    expect(paged.items).toHaveLength(3);
    const table = rows((await apimon(["alerts", "list", "--api-key", String(billing.id)])).stdout);
    expect(table[0]).toEqual([
      "ID",
      "TYPE",
      "SEVERITY",
      "STATUS",
      "KEY",
      "ENDPOINT",
      "SEEN",
      "LAST SEEN",
      "MESSAGE",
    ]);
    expect(table[1]?.slice(1, 6)).toEqual([
      "response_time",
      "warning",
      "firing",
      `billing #${billing.id}`,
      "/api/slow",
    ]);
    // A key the keys service does not have keeps its id; an alert held for its group says until when.
    const unnamed = rows((await apimon(["alerts", "list", "--api-key", "902"])).stdout);
    expect(unnamed[1]?.[4]).toBe("902");
    expect(unnamed[1]?.[3]).toMatch(/^firing, held until \d{4}-\d\d-\d\dT/);

    const id = String(critical.items[0]?.id);
    const acked = await json<{ status: string; acknowledgementNote: string; timeline: { kind: string }[] }>([
      "alerts",
      "ack",
      id,
      "--note",
      "looking into it",
    ]);
    expect(acked).toMatchObject({ status: "acknowledged", acknowledgementNote: "looking into it" });
    expect(acked.timeline.map((e) => e.kind)).toContain("acknowledged");
    const shown = await apimon(["alerts", "show", id]);
    expect(shown.stdout).toMatch(/^status +acknowledged$/m);
    expect(shown.stdout).toMatch(/^acknowledgementNote +looking into it$/m);
    expect(shown.stdout).toContain("\ntimeline\n");
    // The audit log has it too, as done through the CLI.
    const logged = await json<{ items: { action: string; source: string; targetId: number }[] }>([
      "audit",
      "--target",
      `alert:${id}`,
    ]);
    expect(logged.items.map((row) => [row.action, row.source, row.targetId])).toEqual([
      ["alert.acknowledged", "cli", Number(id)],
    ]);
    const open = await json<{ items: unknown[] }>(["alerts", "list", "--status", "acknowledged"]);
    expect(open.items).toHaveLength(1);
    expect(await json(["alerts", "counts"])).toMatchObject({ total: 3 });
  });

  it("acknowledges several alerts by id, and every firing alert of a type", async () => {
    const producer = createBatchingProducer({
      kafka: stack.kafka,
      logger: testLogger("cli-test"),
      topicPrefix: stack.prefix,
    });
    // Types of their own: the alerts of the test above stay as they are.
    const signal = (type: "error_rate" | "usage_spike", apiKeyId: number): AlertSignal => ({
      fingerprint: `${type}:key:${apiKeyId}`,
      type,
      severity: "warning",
      state: "firing",
      scope: { apiKeyId, endpoint: "/api/flaky" },
      observedValue: 0.4,
      threshold: 0.2,
      message: `${type} for key ${apiKeyId}`,
      observedAt: new Date().toISOString(),
    });
    await Promise.all([
      ...[911, 912, 913].map((key) => producer.publish(topics.alertSignals, signal("error_rate", key))),
      producer.publish(topics.alertSignals, signal("usage_spike", 914)),
    ]);
    await producer.disconnect();
    type Listed = { items: { id: number; apiKeyId: number }[] };
    const firing = async (type: string) =>
      (await stack.admin<Listed>("alerts", "GET", `/api/v1/alerts?type=${type}&status=firing`)).items;
    await waitFor(
      async () => (await firing("error_rate")).length === 3 && (await firing("usage_spike")).length === 1,
      {
        timeoutMs: 60_000,
        intervalMs: 300,
        what: "three error_rate alerts and a usage_spike one",
      },
    );
    const byKey = new Map((await firing("error_rate")).map((a) => [a.apiKeyId, a.id]));
    const [first, second, third] = [911, 912, 913].map((key) => byKey.get(key)) as [number, number, number];
    const pair = [first, second].sort((a, b) => a - b);
    // Given highest first; answered in id order.
    const args = pair.map(String).reverse();

    const acked = await apimon(["alerts", "ack", ...args, "--note", "upstream slow"]);
    expect(acked).toEqual({ code: 0, stdout: `acknowledged ${pair.join(", ")}\n`, stderr: "" });
    for (const id of args) {
      const shown = await json<{
        status: string;
        acknowledgementNote: string;
        timeline: { kind: string; note: string | null }[];
      }>(["alerts", "show", id]);
      expect(shown).toMatchObject({ status: "acknowledged", acknowledgementNote: "upstream slow" });
      expect(shown.timeline.filter((e) => e.kind === "acknowledged")).toEqual([
        expect.objectContaining({ note: "upstream slow" }),
      ]);
    }
    // Again: the first acknowledgement stands, and an id no alert has fails the run after the output.
    expect(await json(["alerts", "ack", ...args])).toEqual({
      acknowledged: [],
      alreadyAcknowledged: pair,
      resolved: [],
      notFound: [],
    });
    expect(await apimon(["alerts", "ack", String(first), "999999"])).toEqual({
      code: 1,
      stdout: `already acknowledged ${first}\nnot found 999999\n`,
      stderr: "apimon alerts: no alert has the id 999999\n",
    });

    expect(await apimon(["alerts", "ack", "--firing", "--type", "error_rate", "--note", "the rest"])).toEqual(
      {
        code: 0,
        stdout: `acknowledged ${third}\n`,
        stderr: "",
      },
    );
    expect(await json(["alerts", "show", String(third)])).toMatchObject({
      status: "acknowledged",
      acknowledgementNote: "the rest",
    });
    expect(await firing("error_rate")).toEqual([]);
    expect((await firing("usage_spike")).map((a) => a.apiKeyId)).toEqual([914]);
    expect(await apimon(["alerts", "ack", "--firing", "--type", "error_rate"])).toEqual({
      code: 0,
      stdout: "no firing alerts match\n",
      stderr: "",
    });
    expect(failure(await apimon(["alerts", "ack", String(third), "--firing"]))).toEqual({
      code: 2,
      message: "apimon alerts: --firing and alert ids do not go together (see 'apimon alerts --help')",
    });
  });

  it("lists and tests notification channels", async () => {
    const channel = await json<{ id: number }>([
      "channels",
      "create",
      "--type",
      "webhook",
      "--target",
      receiver.url("/cli-hook"),
      "--name",
      "cli hook",
      ...["--alert-type", "error_rate", "--endpoint", "* /api/billing/*", "--endpoint", "GET /x"],
    ]);
    const listed = rows((await apimon(["channels", "list"])).stdout);
    expect(listed[0]).toEqual(["ID", "NAME", "TYPE", "TARGET", "MIN SEVERITY", "FOR", "ENABLED"]);
    expect(listed.find((r) => r[0] === String(channel.id))?.slice(1)).toEqual([
      "cli hook",
      "webhook",
      receiver.url("/cli-hook"),
      "warning",
      "error_rate · * /api/billing/*, GET /x",
      "yes",
    ]);
    // Back to every alert.
    expect(await json(["channels", "scope", String(channel.id)])).toMatchObject({
      alertTypes: [],
      endpoints: [],
    });
    const tested = await json<{ status: string; channelId: number; attempts: unknown[] }>([
      "channels",
      "test",
      String(channel.id),
    ]);
    expect(tested).toMatchObject({ status: "succeeded", channelId: channel.id });
    expect(receiver.requests("/cli-hook")).toHaveLength(1);
    const text = await apimon(["channels", "test", String(channel.id)]);
    expect(text.stdout).toMatch(/^status +succeeded$/m);
  });

  it("gets and sets the alert settings from a file", async () => {
    const before = await json<{ repeatIntervalSeconds: number }>(["settings", "get"]);
    expect(before.repeatIntervalSeconds).toEqual(expect.any(Number));
    const file = path.join(tmp, "settings.json");
    fs.writeFileSync(
      file,
      JSON.stringify({ repeatIntervalSeconds: 900, alertThresholds: { quietPeriodSeconds: 120 } }),
    );
    const saved = await json<{ repeatIntervalSeconds: number }>(["settings", "set", "--file", file]);
    expect(saved.repeatIntervalSeconds).toBe(900);
    const table = await apimon(["settings", "get"]);
    expect(table.stdout).toMatch(/^repeatIntervalSeconds +900$/m);
    expect(table.stdout).toMatch(/^alertThresholds\.quietPeriodSeconds +120$/m);

    // A document edited from what `get` answered carries its updatedAt: if someone saved the
    // settings since, it is refused rather than undo their change. Without updatedAt it replaces.
    const read = await json<Record<string, unknown>>(["settings", "get"]);
    fs.writeFileSync(
      file,
      JSON.stringify({ repeatIntervalSeconds: 1800, alertThresholds: { quietPeriodSeconds: 120 } }),
    );
    await json(["settings", "set", "--file", file]);
    fs.writeFileSync(file, JSON.stringify({ ...read, repeatIntervalSeconds: 600 }));
    const overtaken = failure(await apimon(["settings", "set", "--file", file]));
    expect(overtaken.code).toBe(1);
    expect(overtaken.message).toMatch(
      /^apimon settings: the alerts service answered 409: The settings were changed at .*: read them again and redo the change$/,
    );
    expect((await json<{ repeatIntervalSeconds: number }>(["settings", "get"])).repeatIntervalSeconds).toBe(
      1800,
    );

    fs.writeFileSync(file, JSON.stringify({ repeatIntervalSeconds: -1 }));
    const refused = failure(await apimon(["settings", "set", "--file", file]));
    expect(refused.code).toBe(1);
    expect(refused.message).toMatch(
      /^apimon settings: the alerts service answered 400: .*repeatIntervalSeconds/,
    );
    fs.writeFileSync(file, "{not json");
    const bad = failure(await apimon(["settings", "set", "--file", file]));
    expect(bad.code).toBe(2);
    expect(bad.message).toMatch(/^apimon settings: .*settings\.json is not JSON/);
  });

  it("sets, lists, replaces and removes threshold overrides, keeping the rest of the settings", async () => {
    type Override = { endpoint?: string; apiKeyId?: number };
    const key = String((await stack.newKey()).id);
    const before = await json<{ repeatIntervalSeconds: number; alertThresholds: { overrides: Override[] } }>([
      "settings",
      "get",
    ]);
    const added = await json<Override[]>([
      "settings",
      "override",
      "set",
      "--endpoint",
      "GET /api/export",
      "--response-time",
      "5,10",
      "--note",
      "exports take long",
    ]);
    expect(added).toEqual([
      ...before.alertThresholds.overrides,
      { endpoint: "GET /api/export", response_time: { warning: 5, critical: 10 }, note: "exports take long" },
    ]);
    const keyed = await apimon(["settings", "override", "set", "--key", key, "--error-rate", "0.3,0.6"]);
    expect(keyed.stdout).toMatch(new RegExp(`^added override \\d+ \\(any endpoint, key ${key}\\)$`, "m"));
    const listed = rows((await apimon(["settings", "overrides"])).stdout);
    expect(listed[0]).toEqual(["#", "ENDPOINT", "KEY", "RESPONSE TIME W/C (S)", "ERROR RATE W/C", "NOTE"]);
    expect(listed.slice(-2).map((r) => r.slice(1))).toEqual([
      ["GET /api/export", "any", "5/10", "-", "exports take long"],
      ["any", expect.stringMatching(new RegExp(`^\\S+ #${key}$`)), "-", "0.3/0.6", "-"],
    ]);
    const replaced = await apimon([
      "settings",
      "override",
      "set",
      "--endpoint",
      "GET /api/export",
      "--response-time",
      "6,12",
    ]);
    expect(replaced.stdout).toMatch(/^replaced override \d+ \(GET \/api\/export, any key\)$/m);

    // Ranges and the endpoint's form are the service's to judge; it names the override's field.
    const index = before.alertThresholds.overrides.length;
    expect(
      failure(await apimon(["settings", "override", "set", "--key", key, "--error-rate", "0.6,0.3"])),
    ).toEqual({
      code: 1,
      message: `apimon settings: the alerts service answered 400: Invalid body (alertThresholds.overrides.${index + 1}.error_rate: critical must be at least warning)`,
    });
    expect(
      failure(
        await apimon(["settings", "override", "set", "--endpoint", "api/export", "--response-time", "1,2"]),
      ).message,
    ).toMatch(
      new RegExp(
        `^apimon settings: the alerts service answered 400: .*alertThresholds\\.overrides\\.${index + 2}\\.endpoint: must be a path`,
      ),
    );
    expect(
      failure(await apimon(["settings", "override", "set", "--key", key, "--error-rate", "30%"])).code,
    ).toBe(2);
    // A key that does not exist is refused, not kept to match nothing.
    expect(
      failure(await apimon(["settings", "override", "set", "--key", "999999", "--error-rate", "0.3,0.6"])),
    ).toEqual({
      code: 1,
      message: `apimon settings: the alerts service answered 400: Invalid body (alertThresholds.overrides.${index + 2}.apiKeyId: no API key with id 999999)`,
    });

    await json(["settings", "override", "remove", "--key", key]);
    expect(failure(await apimon(["settings", "override", "remove", "--key", key]))).toEqual({
      code: 1,
      message: `apimon settings: no override for any endpoint, key ${key} (see 'apimon settings overrides')`,
    });
    const after = await json<{ repeatIntervalSeconds: number; alertThresholds: { overrides: Override[] } }>([
      "settings",
      "get",
    ]);
    expect(after.repeatIntervalSeconds).toBe(before.repeatIntervalSeconds);
    expect(after.alertThresholds.overrides).toEqual([
      ...before.alertThresholds.overrides,
      { endpoint: "GET /api/export", response_time: { warning: 6, critical: 12 } },
    ]);
    await json(["settings", "override", "remove", "--endpoint", "GET /api/export"]);
  });

  it("adds, lists and ends a silence", async () => {
    const created = await json<{ id: number; startsAt: string; endsAt: string }>([
      "silences",
      "add",
      "--type",
      "error_rate",
      "--key",
      "901",
      "--endpoint",
      "GET /api/fail",
      "--for",
      "2h",
      "--comment",
      "cli e2e deploy",
      "--by",
      "cli",
    ]);
    expect(created).toMatchObject({
      type: "error_rate",
      apiKeyId: 901,
      endpoint: "GET /api/fail",
      clientIp: null,
      comment: "cli e2e deploy",
      createdBy: "cli",
      state: "active",
    });
    expect(Math.abs(Date.parse(created.endsAt) - Date.parse(created.startsAt) - 2 * 3_600_000)).toBeLessThan(
      60_000,
    );
    const table = rows((await apimon(["silences", "list"])).stdout);
    expect(table[0]).toEqual([
      "ID",
      "STATE",
      "TYPE",
      "KEY",
      "ENDPOINT",
      "CLIENT IP",
      "OPEN ALERTS",
      "STARTS",
      "ENDS",
      "BY",
      "COMMENT",
    ]);
    expect(table.find((r) => r[0] === String(created.id))?.slice(1, 7)).toEqual([
      "active",
      "error_rate",
      "901",
      "GET /api/fail",
      "any",
      "0",
    ]);
    const updated = await json<{ endsAt: string; comment: string }>([
      "silences",
      "update",
      String(created.id),
      "--for",
      "3h",
      "--comment",
      "cli e2e deploy, overrunning",
    ]);
    expect(updated.comment).toBe("cli e2e deploy, overrunning");
    expect(Math.abs(Date.parse(updated.endsAt) - Date.now() - 3 * 3_600_000)).toBeLessThan(60_000);
    expect(await json(["silences", "end", String(created.id)])).toMatchObject({
      id: created.id,
      state: "expired",
    });
    expect(failure(await apimon(["silences", "update", String(created.id), "--for", "1h"]))).toEqual({
      code: 1,
      message: "apimon silences: the alerts service answered 409: Silence is over: create a new one",
    });
    const ids = async (args: string[]) =>
      (await json<{ items: { id: number }[] }>(args)).items.map((s) => s.id);
    expect(await ids(["silences", "list", "--state", "expired"])).toContain(created.id);
    expect(await ids(["silences", "list"])).not.toContain(created.id);
    expect(failure(await apimon(["silences", "add", "--for", "45d", "--comment", "x"]))).toEqual({
      code: 1,
      message:
        "apimon silences: the alerts service answered 400: Invalid body (endsAt: a silence may last at most 30 days)",
    });
    expect(failure(await apimon(["silences", "add", "--for", "2w", "--comment", "x"])).code).toBe(2);
    expect(failure(await apimon(["silences", "end", "999999"]))).toEqual({
      code: 1,
      message: "apimon silences: the alerts service answered 404: Silence not found",
    });
  });

  it("lists dead letters and replays them once", async () => {
    const dlq = topicName(dlqTopic(topics.authFailures), stack.prefix);
    const record: DlqRecord = {
      sourceTopic: topicName(topics.authFailures, stack.prefix),
      partition: 0,
      offset: "5",
      consumerGroup: "anomaly-detector",
      key: "10.0.0.1",
      value: '{"broken":true}',
      valueEncoding: "utf8",
      headers: {},
      error: "schema auth.failures.v1: id: Invalid input",
      failedAt: new Date().toISOString(),
    };
    const producer = stack.kafka.producer();
    await producer.connect();
    await producer.send({ topic: dlq, messages: [{ key: "10.0.0.1", value: JSON.stringify(record) }] });
    await producer.disconnect();

    const summary = await json<{ topic: string; pending: number; written: number }[]>(["dlq", "list"]);
    expect(summary.find((s) => s.topic.endsWith("auth.failures.v1"))).toMatchObject({
      pending: 1,
      written: 1,
    });
    const letters = rows((await apimon(["dlq", "list", "auth.failures.v1"])).stdout);
    expect(letters[0]).toEqual(["OFFSET", "FROM", "GROUP", "FAILED AT", "WHOLE", "ERROR"]);
    expect(letters[1]?.slice(0, 3)).toEqual(["0", `${record.sourceTopic}/0/5`, "anomaly-detector"]);

    const replay = await apimon(["dlq", "replay", "auth.failures.v1.dlq"]);
    expect(replay).toMatchObject({ code: 0, stderr: "" });
    expect(replay.stdout.trim()).toBe(`replayed 1 dead letter(s) to ${stack.prefix}auth.failures.v1`);
    expect(await json(["dlq", "replay", "auth.failures.v1"])).toEqual({ replayed: 0, skipped: [] });
    const after = await json<{ topic: string; pending: number }[]>(["dlq", "list"]);
    expect(after.find((s) => s.topic.endsWith("auth.failures.v1"))?.pending).toBe(0);
  });

  it("fails with one line and a non-zero exit for bad input, a refused token and an unreachable service", async () => {
    const usage = failure(await apimon(["keys", "limits", "12"]));
    expect(usage).toEqual({
      code: 2,
      message: "apimon keys: give at least one of --minute, --hour, --day (see 'apimon keys --help')",
    });
    expect(failure(await apimon(["alerts", "list", "--severity", "loud"]))).toEqual({
      code: 2,
      message:
        "apimon alerts: --severity must be one of warning, critical (got 'loud') (see 'apimon alerts --help')",
    });
    expect(failure(await apimon(["dlq", "replay", "nowhere.v1"])).code).toBe(2);
    expect(failure(await apimon(["frobnicate"])).code).toBe(2);
    expect(failure(await apimon(["keys", "list"], { ADMIN_TOKEN: "" }))).toEqual({
      code: 2,
      message: "apimon: invalid configuration: ADMIN_TOKEN is not set",
    });

    const wrongToken = failure(await apimon(["keys", "list"], { ADMIN_TOKEN: "not-the-admin-token-0123" }));
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.message).toMatch(/^apimon keys: the keys service answered 401: .+; check ADMIN_TOKEN$/);
    const alertsToken = failure(
      await apimon(["channels", "list"], { ADMIN_TOKEN: "not-the-admin-token-0123" }),
    );
    expect(alertsToken.message).toMatch(/^apimon channels: the alerts service answered 401: /);
    expect(failure(await apimon(["alerts", "show", "999999"]))).toEqual({
      code: 1,
      message: "apimon alerts: the alerts service answered 404: Alert not found",
    });

    const closed = `http://127.0.0.1:${await freePort()}`;
    const down = failure(await apimon(["alerts", "list"], { ALERTS_URL: closed }));
    expect(down.code).toBe(1);
    expect(down.message).toMatch(
      new RegExp(`^apimon alerts: cannot reach the alerts service at ${closed}: `),
    );
    const keysDown = failure(await apimon(["keys", "get", "1"], { KEYS_URL: closed }));
    expect(keysDown.message).toMatch(
      new RegExp(`^apimon keys: cannot reach the keys service at ${closed}: `),
    );
  });

  // Last: the seed adds an email channel, which the tests above do not expect.
  it("seeds a demo key, and with SEED_KEY_FILE prints the same key again until it is deactivated", async () => {
    const env = { SEED_USER_EMAIL: `seed-${randomUUID()}@example.com` };
    const keyOf = (run: Run) =>
      /^demo API key: +(ak_[\w-]+) +\(key id (\d+); (.+)\)$/m.exec(run.stdout)?.slice(1);

    const plain = [await apimon(["seed"], env), await apimon(["seed"], env)].map(keyOf);
    expect(plain[0]?.[2]).toBe("shown only here, stored as a hash");
    expect(plain[1]?.[0]).not.toBe(plain[0]?.[0]);

    const file = path.join(tmp, "seed", "demo-keys.json");
    const kept = { ...env, SEED_KEY_FILE: file };
    const first = keyOf(await apimon(["seed"], kept));
    expect(first?.[2]).toBe(`stored as a hash, and kept in ${file} for the next seed`);
    const again = keyOf(await apimon(["seed"], kept));
    expect(again).toEqual([first?.[0], first?.[1], `the one an earlier seed kept in ${file}`]);
    const userId = /^demo user: +\S+ \(id (\d+)\)$/m.exec((await apimon(["seed"], kept)).stdout)?.[1];
    const listed = await json<{ items: unknown[] }>(["keys", "list", "--user", String(userId)]);
    expect(listed.items).toHaveLength(3);

    // A key that no longer works is not given out again.
    expect((await apimon(["keys", "deactivate", String(first?.[1])])).code).toBe(0);
    const replaced = keyOf(await apimon(["seed"], kept));
    expect(replaced?.[0]).not.toBe(first?.[0]);
    expect(replaced?.[2]).toBe(`stored as a hash, and kept in ${file} for the next seed`);
    expect(keyOf(await apimon(["seed"], kept))?.[0]).toBe(replaced?.[0]);
  });
});
