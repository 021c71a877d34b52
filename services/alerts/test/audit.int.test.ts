import { auditActions, DEFAULT_ALERT_SETTINGS } from "@apimon/config";
import { type AuditEvent, newOperatorToken, type PrismaClient } from "@apimon/db";
import { encodeCursor } from "@apimon/http";
import { createTestDatabase, type TestDatabase } from "@apimon/testkit";
import { ADMIN_TOKEN, type Answer, auth, buildApp, CONSOLE_URL, call } from "./support";

// The audit log of the alerts API on Postgres: each change of a channel, a silence or the settings
// writes one row in the change's own transaction, saying who asked; refusals and changes that roll
// back write none; no row holds a channel's target or secret; GET /api/v1/audit reads them back.

let db: TestDatabase;
let prisma: PrismaClient;
const now = new Date("2026-12-06T12:00:00.000Z");
const clock = () => now;
const inHours = (hours: number) => new Date(now.getTime() + hours * 3_600_000).toISOString();
let app: ReturnType<typeof buildApp>;
/** Customers a channel is for. */
let customers: [number, number];

const HIDDEN = "(hidden)";
const WEBHOOK = "https://hooks.example.com/in?token=wh-token-1a2b3c";
const WEBHOOK_2 = "https://hooks.example.com/in?token=wh-token-4d5e6f";
const SLACK = "https://hooks.slack.com/services/T0AUDIT/B0AUDIT/slack-token-7g8h9i";
const SLACK_2 = "https://hooks.slack.com/services/T0AUDIT/B0AUDIT/slack-token-0j1k2l";
const EMAILS = "oncall-audit@example.com,billing-audit@example.com";
const SECRET = "signing-secret-audit-0123456789";
const SECRET_2 = "signing-secret-audit-9876543210";
/** Every target and secret this file gives a channel: no audit row may hold any of them. */
const HIDDEN_VALUES = [WEBHOOK, WEBHOOK_2, SLACK, SLACK_2, EMAILS, SECRET, SECRET_2];

let mark = 0;
/** The audit rows written since the last call, oldest first. */
async function newRows(): Promise<AuditEvent[]> {
  const rows = await prisma.auditEvent.findMany({ where: { id: { gt: mark } }, orderBy: { id: "asc" } });
  mark = rows.at(-1)?.id ?? mark;
  return rows;
}

/** The audit row of a request: what the change says, by an API client without headers. */
function row(res: Answer, fields: Partial<AuditEvent>): AuditEvent {
  return {
    id: expect.any(Number),
    occurredAt: expect.any(Date),
    targetId: null,
    changes: null,
    source: "api",
    clientAddress: null,
    userAgent: null,
    requestId: res.headers.get("x-request-id"),
    operatorId: null,
    operatorName: null,
    ...fields,
  } as AuditEvent;
}

async function expectOneRow(res: Answer, fields: Partial<AuditEvent>): Promise<void> {
  expect(await newRows()).toEqual([row(res, fields)]);
}

const api = (method: string, path: string, body?: unknown) =>
  call(app, method, `/api/v1/alerts${path}`, body);

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = db.prisma;
  app = buildApp(prisma, { clock });
  const customer = async (name: string) =>
    (await prisma.user.create({ data: { email: `${name}-audit@example.com`, name } })).id;
  customers = [await customer("ann"), await customer("ben")];
});

afterAll(async () => {
  await db?.drop();
});

describe("the audit log of notification channels", () => {
  let id: number;

  it("records a creation with the channel's fields, its target and secret hidden", async () => {
    const res = await api("POST", "/channels", {
      name: "billing-team",
      type: "webhook",
      target: WEBHOOK,
      secret: SECRET,
      endpoints: ["* /api/billing/*"],
      userIds: [customers[0]],
    });
    expect(res.status).toBe(201);
    id = res.body.id;
    await expectOneRow(res, {
      action: "channel.created",
      targetType: "channel",
      targetId: id,
      summary: `created webhook channel "billing-team" for warning and above (on * /api/billing/* of user ${customers[0]})`,
      changes: {
        name: { from: null, to: "billing-team" },
        type: { from: null, to: "webhook" },
        target: { from: null, to: HIDDEN },
        secret: { from: null, to: HIDDEN },
        minSeverity: { from: null, to: "warning" },
        alertTypes: { from: null, to: [] },
        endpoints: { from: null, to: ["* /api/billing/*"] },
        userIds: { from: null, to: [customers[0]] },
        enabled: { from: null, to: true },
      },
    });
  });

  it("records a change by the fields changed, and a new target or secret without either value", async () => {
    const renamed = await api("PATCH", `/channels/${id}`, { name: "billing", minSeverity: "critical" });
    expect(renamed.status).toBe(200);
    await expectOneRow(renamed, {
      action: "channel.updated",
      targetType: "channel",
      targetId: id,
      summary: `changed the name and minimum severity of webhook channel ${id} ("billing")`,
      changes: {
        name: { from: "billing-team", to: "billing" },
        minSeverity: { from: "warning", to: "critical" },
      },
    });

    const moved = await api("PATCH", `/channels/${id}`, { target: WEBHOOK_2, secret: SECRET_2 });
    expect(moved.status).toBe(200);
    await expectOneRow(moved, {
      action: "channel.updated",
      targetType: "channel",
      targetId: id,
      summary: `changed the target and signing secret of webhook channel ${id} ("billing")`,
      changes: { target: { from: HIDDEN, to: HIDDEN }, secret: { from: HIDDEN, to: HIDDEN } },
    });

    const unsigned = await api("PATCH", `/channels/${id}`, { secret: null });
    expect(unsigned.status).toBe(200);
    await expectOneRow(unsigned, {
      action: "channel.updated",
      targetType: "channel",
      targetId: id,
      summary: `changed the signing secret of webhook channel ${id} ("billing")`,
      changes: { secret: { from: HIDDEN, to: null } },
    });

    const widened = await api("PATCH", `/channels/${id}`, { userIds: customers });
    expect(widened.status).toBe(200);
    await expectOneRow(widened, {
      action: "channel.updated",
      targetType: "channel",
      targetId: id,
      summary: `changed the users of webhook channel ${id} ("billing")`,
      changes: { userIds: { from: [customers[0]], to: customers } },
    });
  });

  it("records disabling and enabling as such", async () => {
    const off = await api("PATCH", `/channels/${id}`, { enabled: false });
    await expectOneRow(off, {
      action: "channel.disabled",
      targetType: "channel",
      targetId: id,
      summary: `disabled webhook channel ${id} ("billing")`,
      changes: { enabled: { from: true, to: false } },
    });
    const on = await api("PATCH", `/channels/${id}`, { enabled: true });
    await expectOneRow(on, {
      action: "channel.enabled",
      targetType: "channel",
      targetId: id,
      summary: `enabled webhook channel ${id} ("billing")`,
      changes: { enabled: { from: false, to: true } },
    });
  });

  it("records nothing for a change to what the channel already was, or for a test message", async () => {
    const same = await api("PATCH", `/channels/${id}`, { name: "billing", target: WEBHOOK_2, enabled: true });
    expect(same.status).toBe(200);
    expect(await newRows()).toEqual([]);

    // No notifier runs here: the test message is queued, and the answer is a 504.
    const impatient = buildApp(prisma, {
      clock,
      config: { adminToken: ADMIN_TOKEN, consoleUrl: CONSOLE_URL, testTimeoutMs: 50 },
    });
    const outboxBefore = await prisma.outbox.count();
    const tested = await call(impatient, "POST", `/api/v1/alerts/channels/${id}/test`);
    expect(tested.status).toBe(504);
    expect(await prisma.outbox.count()).toBe(outboxBefore + 1);
    expect(await newRows()).toEqual([]);
  });

  it("records a deletion, and the escalation policy losing the channel as a change of the settings", async () => {
    const escalation = { enabled: true, afterSeconds: 900, channelIds: [id] };
    const saved = await api("PUT", "/settings", { escalation });
    expect(saved.status).toBe(200);
    await expectOneRow(saved, {
      action: "settings.updated",
      targetType: "settings",
      summary: "changed the escalation policy",
      changes: { escalation: { from: DEFAULT_ALERT_SETTINGS.escalation, to: escalation } },
    });

    const deleted = await api("DELETE", `/channels/${id}`);
    expect(deleted.status).toBe(204);
    expect(await newRows()).toEqual([
      row(deleted, {
        action: "channel.deleted",
        targetType: "channel",
        targetId: id,
        summary: `deleted webhook channel ${id} ("billing")`,
        changes: {
          name: { from: "billing", to: null },
          type: { from: "webhook", to: null },
          target: { from: HIDDEN, to: null },
          minSeverity: { from: "critical", to: null },
          alertTypes: { from: [], to: null },
          endpoints: { from: ["* /api/billing/*"], to: null },
          userIds: { from: customers, to: null },
          enabled: { from: true, to: null },
        },
      }),
      row(deleted, {
        action: "settings.updated",
        targetType: "settings",
        summary: `removed webhook channel ${id} ("billing") from the escalation policy, as it was deleted`,
        changes: { escalation: { from: escalation, to: { ...escalation, channelIds: [] } } },
      }),
    ]);
  });

  it("writes no row for a refused change", async () => {
    const mail = await api("POST", "/channels", { name: "mail", type: "email", target: EMAILS });
    expect(mail.status).toBe(201);
    await newRows();
    const refusals: [string, string, unknown, number][] = [
      ["POST", "/channels", { type: "slack", target: "not a url" }, 400],
      ["POST", "/channels", { type: "email", target: EMAILS, secret: SECRET }, 400],
      ["POST", "/channels", { name: "mail", type: "email", target: "other@example.com" }, 409],
      ["PATCH", `/channels/${mail.body.id}`, { type: "webhook", target: "ops@example.com" }, 400],
      ["PATCH", `/channels/${mail.body.id}`, {}, 400],
      ["PATCH", `/channels/${mail.body.id}`, { userIds: [424242] }, 400],
      ["PATCH", "/channels/424242", { enabled: false }, 404],
      ["DELETE", "/channels/424242", undefined, 404],
    ];
    for (const [method, path, body, status] of refusals) {
      expect([method, path, (await api(method, path, body)).status]).toEqual([method, path, status]);
    }
    expect(await newRows()).toEqual([]);
  });

  it("hides a target in a name made of it, also after the target changed", async () => {
    const unnamed = await api("POST", "/channels", { type: "slack", target: SLACK });
    expect(unnamed.status).toBe(201);
    expect(unnamed.body.name).toBe(`slack ${SLACK}`);
    const slackId = unnamed.body.id;
    await expectOneRow(unnamed, {
      action: "channel.created",
      targetType: "channel",
      targetId: slackId,
      summary: `created slack channel "slack ${HIDDEN}" for warning and above`,
      changes: expect.objectContaining({ name: { from: null, to: `slack ${HIDDEN}` } }),
    });
    const moved = await api("PATCH", `/channels/${slackId}`, { target: SLACK_2 });
    await expectOneRow(moved, {
      action: "channel.updated",
      targetType: "channel",
      targetId: slackId,
      summary: `changed the target of slack channel ${slackId} ("slack ${HIDDEN}")`,
      changes: { target: { from: HIDDEN, to: HIDDEN } },
    });
    const renamed = await api("PATCH", `/channels/${slackId}`, { name: "ops-slack" });
    await expectOneRow(renamed, {
      action: "channel.updated",
      targetType: "channel",
      targetId: slackId,
      summary: `changed the name of slack channel ${slackId} ("ops-slack")`,
      changes: { name: { from: `slack ${HIDDEN}`, to: "ops-slack" } },
    });
    const emails = await api("POST", "/channels", { type: "email", target: EMAILS.replace(",", ", ") });
    expect(emails.status).toBe(201);
    expect((await newRows())[0]?.summary).toBe(
      `created email channel "email ${HIDDEN}" for warning and above`,
    );
  });
});

describe("the audit log of silences", () => {
  const silences = (path = "") => `/silences${path}`;

  it("records a creation with its matchers, comment and range", async () => {
    const res = await api("POST", silences(), {
      type: "error_rate",
      apiKeyId: 7,
      endpoint: "* /api/billing/*",
      endsAt: inHours(2),
      comment: "deploy of billing",
      createdBy: "ada",
    });
    expect(res.status).toBe(201);
    await expectOneRow(res, {
      action: "silence.created",
      targetType: "silence",
      targetId: res.body.id,
      summary: `created silence ${res.body.id} ("deploy of billing") for error_rate alerts of key 7 on * /api/billing/* until ${inHours(2)}`,
      changes: {
        type: { from: null, to: "error_rate" },
        apiKeyId: { from: null, to: 7 },
        endpoint: { from: null, to: "* /api/billing/*" },
        comment: { from: null, to: "deploy of billing" },
        createdBy: { from: null, to: "ada" },
        startsAt: { from: null, to: now.toISOString() },
        endsAt: { from: null, to: inHours(2) },
      },
    });
  });

  it("records a new end or comment, nothing for the same ones, and an early end", async () => {
    const id = (await api("POST", silences(), { endsAt: inHours(1), comment: "load test" })).body.id;
    await newRows();
    const longer = await api("PATCH", silences(`/${id}`), { endsAt: inHours(3) });
    expect(longer.status).toBe(200);
    await expectOneRow(longer, {
      action: "silence.updated",
      targetType: "silence",
      targetId: id,
      summary: `extended silence ${id} ("load test") until ${inHours(3)}`,
      changes: { endsAt: { from: inHours(1), to: inHours(3) } },
    });
    const reworded = await api("PATCH", silences(`/${id}`), { comment: "load test, part 2" });
    await expectOneRow(reworded, {
      action: "silence.updated",
      targetType: "silence",
      targetId: id,
      summary: `changed the comment of silence ${id} from "load test" to "load test, part 2"`,
      changes: { comment: { from: "load test", to: "load test, part 2" } },
    });
    const same = await api("PATCH", silences(`/${id}`), { comment: "load test, part 2", endsAt: inHours(3) });
    expect(same.status).toBe(200);
    expect(await newRows()).toEqual([]);

    const ended = await api("DELETE", silences(`/${id}`));
    expect(ended.status).toBe(200);
    await expectOneRow(ended, {
      action: "silence.ended",
      targetType: "silence",
      targetId: id,
      summary: `ended silence ${id} ("load test, part 2") early`,
      changes: { endsAt: { from: inHours(3), to: now.toISOString() } },
    });
    // Already over: answered unchanged, nothing changed.
    expect((await api("DELETE", silences(`/${id}`))).status).toBe(200);
    expect(await newRows()).toEqual([]);
  });

  it("records the end of a silence that had not started", async () => {
    const id = (await api("POST", silences(), { startsAt: inHours(1), endsAt: inHours(2), comment: "later" }))
      .body.id;
    await newRows();
    const ended = await api("DELETE", silences(`/${id}`));
    await expectOneRow(ended, {
      action: "silence.ended",
      targetType: "silence",
      targetId: id,
      summary: `ended silence ${id} ("later") before it started`,
      changes: {
        startsAt: { from: inHours(1), to: now.toISOString() },
        endsAt: { from: inHours(2), to: now.toISOString() },
      },
    });
  });

  it("writes no row for a refused change", async () => {
    const over = (await api("POST", silences(), { endsAt: inHours(1), comment: "over" })).body.id;
    await api("DELETE", silences(`/${over}`));
    const open = (await api("POST", silences(), { endsAt: inHours(1), comment: "open" })).body.id;
    await newRows();
    const refusals: [string, string, unknown, number][] = [
      ["POST", silences(), { endsAt: inHours(-1), comment: "past" }, 400],
      ["POST", silences(), { endsAt: inHours(1) }, 400],
      ["PATCH", silences(`/${open}`), { endsAt: inHours(-1) }, 400],
      ["PATCH", silences(`/${open}`), { type: "error_rate" }, 400],
      ["PATCH", silences(`/${over}`), { comment: "again" }, 409],
      ["PATCH", silences("/424242"), { comment: "x" }, 404],
      ["DELETE", silences("/424242"), undefined, 404],
    ];
    for (const [method, path, body, status] of refusals) {
      expect([method, path, (await api(method, path, body)).status]).toEqual([method, path, status]);
    }
    expect(await newRows()).toEqual([]);
  });
});

describe("the audit log of the settings", () => {
  const slowExport = { endpoint: "GET /api/export", response_time: { warning: 5, critical: 10 } };
  const slowReports = { endpoint: "/api/reports/*", response_time: { warning: 3, critical: 6 } };

  it("records the rules and overrides a save changed, each with its whole value", async () => {
    const current = (await api("GET", "/settings")).body;
    const res = await api("PUT", "/settings", {
      ...current,
      alertThresholds: {
        ...current.alertThresholds,
        response_time: { warning: 1, critical: 3 },
        overrides: [slowExport, slowReports],
      },
    });
    expect(res.status).toBe(200);
    await expectOneRow(res, {
      action: "settings.updated",
      targetType: "settings",
      summary: "changed the response-time thresholds and 2 threshold overrides",
      changes: {
        "alertThresholds.response_time": {
          from: current.alertThresholds.response_time,
          to: { warning: 1, critical: 3 },
        },
        "alertThresholds.overrides[GET /api/export]": { from: null, to: slowExport },
        "alertThresholds.overrides[/api/reports/*]": { from: null, to: slowReports },
      },
    });

    const reminders = await api("PUT", "/settings", { ...res.body, repeatIntervalSeconds: 600 });
    await expectOneRow(reminders, {
      action: "settings.updated",
      targetType: "settings",
      summary: "changed the reminder interval",
      changes: { repeatIntervalSeconds: { from: current.repeatIntervalSeconds, to: 600 } },
    });
  });

  it("records nothing for a save of the settings as they were, nor for a refused save", async () => {
    const current = (await api("GET", "/settings")).body;
    const same = await api("PUT", "/settings", current);
    expect(same.status).toBe(200);
    expect(await newRows()).toEqual([]);

    const stale = await api("PUT", "/settings", { ...current, groupIntervalSeconds: 60 });
    expect(stale.status).toBe(409);
    const refused = [
      await api("PUT", "/settings", {
        escalation: { enabled: true, afterSeconds: 60, channelIds: [424242] },
      }),
      await api("PUT", "/settings", {
        alertThresholds: { overrides: [{ apiKeyId: 424242, response_time: { warning: 1, critical: 2 } }] },
      }),
      await api("PUT", "/settings", { repeatIntervalSeconds: -1 }),
    ];
    expect(refused.map((r) => r.status)).toEqual([400, 400, 400]);
    expect(await newRows()).toEqual([]);
  });
});

describe("a change that fails in its transaction", () => {
  /**
   * Runs `body` with a trigger that fails the statement writing a row of `table` for which `when`
   * holds or, `atCommit`, the commit of its transaction (after everything in it was written).
   */
  async function withFailingTrigger(
    { table, when, atCommit = false }: { table: string; when: string; atCommit?: boolean },
    body: () => Promise<void>,
  ): Promise<void> {
    const name = `fail_${table}`;
    await prisma.$executeRawUnsafe(`
      CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF ${when} THEN RAISE EXCEPTION '${name}'; END IF;
        RETURN NEW;
      END $$`);
    await prisma.$executeRawUnsafe(
      atCommit
        ? `CREATE CONSTRAINT TRIGGER ${name} AFTER INSERT OR UPDATE ON ${table}
           DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${name}()`
        : `CREATE TRIGGER ${name} BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`,
    );
    try {
      await body();
    } finally {
      await prisma.$executeRawUnsafe(`DROP TRIGGER ${name} ON ${table}`);
      await prisma.$executeRawUnsafe(`DROP FUNCTION ${name}()`);
    }
  }

  it("leaves neither the change nor its row when the commit fails after both were written", async () => {
    const kept = (await api("POST", "/channels", { name: "kept", type: "email", target: EMAILS })).body.id;
    await newRows();
    await withFailingTrigger(
      { table: "notification_channels", when: "NEW.name = 'doomed'", atCommit: true },
      async () => {
        const created = await api("POST", "/channels", { name: "doomed", type: "email", target: EMAILS });
        expect(created.status).toBe(500);
        const renamed = await api("PATCH", `/channels/${kept}`, { name: "doomed" });
        expect(renamed.status).toBe(500);
      },
    );
    expect(await prisma.notificationChannel.count({ where: { name: "doomed" } })).toBe(0);
    expect(await newRows()).toEqual([]);
  });

  it("leaves no change when its row cannot be written", async () => {
    const before = await prisma.silence.count();
    await withFailingTrigger({ table: "audit_events", when: "NEW.action = 'silence.created'" }, async () => {
      const res = await api("POST", "/silences", { endsAt: inHours(1), comment: "unrecorded" });
      expect(res.status).toBe(500);
    });
    expect(await prisma.silence.count()).toBe(before);
    expect(await newRows()).toEqual([]);
  });
});

describe("who made a change", () => {
  /** A silence created by a caller at `peer`, as a node server would see it. */
  async function createSilence(headers: Record<string, string>, peer = "198.51.100.7") {
    const res = await app.request(
      "/api/v1/alerts/silences",
      {
        method: "POST",
        headers: { ...auth, "content-type": "application/json", ...headers },
        body: JSON.stringify({ endsAt: inHours(1), comment: "who" }),
      },
      { incoming: { socket: { remoteAddress: peer } } },
    );
    expect(res.status).toBe(201);
    const [created] = await newRows();
    return (
      created && {
        source: created.source,
        clientAddress: created.clientAddress,
        userAgent: created.userAgent,
        requestId: created.requestId,
      }
    );
  }

  it("is the CLI or the console as they say, with the operator's address the console gives", async () => {
    expect(
      await createSilence({
        "X-Apimon-Source": "cli",
        "User-Agent": "apimon-cli/1.4",
        "X-Request-Id": "cli-req-1",
      }),
    ).toEqual({
      source: "cli",
      clientAddress: "198.51.100.7",
      userAgent: "apimon-cli/1.4",
      requestId: "cli-req-1",
    });
    expect(
      await createSilence({
        "X-Apimon-Source": "console",
        "X-Apimon-Operator-Address": "203.0.113.9",
        "User-Agent": "apimon-console",
      }),
    ).toEqual({
      source: "console",
      clientAddress: "203.0.113.9",
      userAgent: "apimon-console",
      requestId: expect.any(String),
    });
  });

  it("is any other client, from the caller's address, without the headers or with ones not well formed", async () => {
    expect(await createSilence({})).toEqual({
      source: "api",
      clientAddress: "198.51.100.7",
      userAgent: null,
      requestId: expect.any(String),
    });
    expect(
      await createSilence({ "X-Apimon-Source": "robot", "X-Apimon-Operator-Address": "not-an-address" }),
    ).toMatchObject({ source: "api", clientAddress: "198.51.100.7" });
  });
});

describe("the audit log as a whole", () => {
  // Before the read route's tests, which start from an empty log.
  it("holds no channel's target or secret in any row", async () => {
    const everything = JSON.stringify(await prisma.auditEvent.findMany());
    expect(everything).toContain("channel.created");
    for (const value of HIDDEN_VALUES) expect(everything).not.toContain(value);
    for (const token of ["wh-token", "slack-token", "oncall-audit", "billing-audit", "signing-secret"]) {
      expect(everything).not.toContain(token);
    }
  });
});

describe("GET /api/v1/audit", () => {
  let rows: AuditEvent[];
  let channelId: number;
  let silenceId: number;
  const audit = (query = "") => call(app, "GET", `/api/v1/audit${query}`);
  const ids = (res: Answer) => res.body.items.map((e: { id: number }) => e.id);
  const hour = (h: number) => new Date(Date.UTC(2026, 11, 1, h)).toISOString();

  beforeAll(async () => {
    await prisma.auditEvent.deleteMany();
    const cli = { ...auth, "X-Apimon-Source": "cli" };
    channelId = (
      await call(
        app,
        "POST",
        "/api/v1/alerts/channels",
        { name: "feed", type: "webhook", target: WEBHOOK },
        cli,
      )
    ).body.id;
    await api("PATCH", `/channels/${channelId}`, { enabled: false });
    silenceId = (await api("POST", "/silences", { endsAt: inHours(1), comment: "feed deploy" })).body.id;
    await call(app, "DELETE", `/api/v1/alerts/silences/${silenceId}`, undefined, cli);
    await api("PUT", "/settings", { groupIntervalSeconds: 120 });
    rows = await newRows();
    expect(rows.map((r) => r.action)).toEqual([
      "channel.created",
      "channel.disabled",
      "silence.created",
      "silence.ended",
      "settings.updated",
    ]);
    // Each an hour after the one before, so that a time range picks some out.
    for (const [i, r] of rows.entries()) {
      await prisma.auditEvent.update({ where: { id: r.id }, data: { occurredAt: new Date(hour(i)) } });
    }
    rows = await prisma.auditEvent.findMany({ orderBy: { id: "desc" } });
  });

  it("answers the changes newest first, each whole", async () => {
    const res = await audit();
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual(rows.map((r) => r.id));
    expect(res.body.nextCursor).toBeNull();
    const disabled = rows.find((r) => r.action === "channel.disabled") as AuditEvent;
    expect(res.body.items[3]).toEqual({
      id: disabled.id,
      occurredAt: hour(1),
      action: "channel.disabled",
      targetType: "channel",
      targetId: channelId,
      summary: `disabled webhook channel ${channelId} ("feed")`,
      changes: { enabled: { from: true, to: false } },
      source: "api",
      clientAddress: null,
      userAgent: null,
      requestId: disabled.requestId,
      operator: null,
    });
  });

  it("filters by target, action, source and time", async () => {
    const idsOf = (pick: (r: AuditEvent) => boolean) => rows.filter(pick).map((r) => r.id);
    expect(ids(await audit(`?targetType=channel&targetId=${channelId}`))).toEqual(
      idsOf((r) => r.targetType === "channel"),
    );
    expect(ids(await audit(`?targetType=channel&targetId=${channelId + 1000}`))).toEqual([]);
    expect(ids(await audit("?targetType=settings"))).toEqual(idsOf((r) => r.targetType === "settings"));
    expect(ids(await audit("?action=silence.ended"))).toEqual(idsOf((r) => r.action === "silence.ended"));
    expect(ids(await audit("?source=cli"))).toEqual(
      idsOf((r) => r.action === "channel.created" || r.action === "silence.ended"),
    );
    // From inclusive, to exclusive: hours 1 and 2.
    expect(ids(await audit(`?from=${hour(1)}&to=${hour(3)}`))).toEqual(
      idsOf((r) => r.action === "channel.disabled" || r.action === "silence.created"),
    );
    expect(ids(await audit(`?targetType=silence&from=${hour(3)}`))).toEqual(
      idsOf((r) => r.action === "silence.ended"),
    );
  });

  it("pages with the cursor, newest first, to the end", async () => {
    const first = await audit("?limit=2");
    expect(ids(first)).toEqual(rows.slice(0, 2).map((r) => r.id));
    expect(first.body.nextCursor).toBe(encodeCursor(rows[1]?.id as number));
    const second = await audit(`?limit=2&cursor=${first.body.nextCursor}`);
    expect(ids(second)).toEqual(rows.slice(2, 4).map((r) => r.id));
    const last = await audit(`?limit=2&cursor=${second.body.nextCursor}`);
    expect(ids(last)).toEqual(rows.slice(4).map((r) => r.id));
    expect(last.body.nextCursor).toBeNull();
    const channelPage = await audit(`?targetType=channel&limit=1&cursor=${first.body.nextCursor}`);
    expect(ids(channelPage)).toEqual(
      rows
        .filter((r) => r.targetType === "channel")
        .slice(0, 1)
        .map((r) => r.id),
    );
  });

  it("refuses a bad filter, naming it", async () => {
    const invalid = (field: string, message: string) => ({
      detail: "Invalid query",
      errors: [{ field, message }],
    });
    const refusals: [string, unknown][] = [
      [
        "?targetType=alerts",
        invalid("targetType", "must be one of user, key, settings, channel, silence, operator, alert"),
      ],
      ["?targetId=3", invalid("targetId", "needs targetType")],
      ["?action=Channel-Created", invalid("action", `must be one of ${auditActions.join(", ")}`)],
      ["?action=key.exploded", invalid("action", `must be one of ${auditActions.join(", ")}`)],
      [`?from=${hour(3)}&to=${hour(1)}`, invalid("from", "must be before to")],
      [
        "?from=0000-01-01T00:00:00Z",
        invalid("from", "must lie between 1970-01-01T00:00:00Z and 9999-01-01T00:00:00Z"),
      ],
    ];
    for (const [query, body] of refusals) {
      const res = await audit(query);
      expect([query, res.status, res.body]).toEqual([query, 400, body]);
    }
  });

  it("wants the admin token", async () => {
    const variants: Record<string, string>[] = [{}, { authorization: `Bearer ${ADMIN_TOKEN}x` }];
    for (const headers of variants) {
      const res = await call(app, "GET", "/api/v1/audit", undefined, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
      expect(res.body).toEqual({ detail: "Not authenticated" });
    }
  });
});

describe("changes made with an operator's token", () => {
  /** An operator made straight in the table, as the keys service makes them. */
  async function operator(name: string, role: "admin" | "viewer") {
    const { token, tokenHash, tokenPrefix } = newOperatorToken();
    const row = await prisma.operator.create({ data: { name, role, tokenHash, tokenPrefix } });
    return { id: row.id, token, headers: { authorization: `Bearer ${token}` } };
  }
  const silence = { endsAt: inHours(1), comment: "maintenance" };

  it("name the operator in their rows, which the audit API answers and filters by", async () => {
    const olga = await operator("olga", "admin");
    await newRows();
    const made = await call(app, "POST", "/api/v1/alerts/silences", silence, olga.headers);
    expect(made.status).toBe(201);
    const [row] = await newRows();
    expect(row).toMatchObject({ action: "silence.created", operatorId: olga.id, operatorName: "olga" });

    await call(app, "POST", "/api/v1/alerts/silences", silence);
    const mine = await call(app, "GET", `/api/v1/audit?operatorId=${olga.id}`);
    expect(mine.body.items).toHaveLength(1);
    expect(mine.body.items[0]).toMatchObject({ id: row?.id, operator: { id: olga.id, name: "olga" } });
    const latest = await call(app, "GET", "/api/v1/audit?limit=1");
    expect(latest.body.items[0].operator).toBeNull();
  });

  it("name who acknowledged an alert, once, whatever name the request gives", async () => {
    const olga = await operator("olga the on-call", "admin");
    const firing = async (
      type: "response_time" | "error_rate",
      apiKeyId: number | null,
      endpoint: string | null,
    ) =>
      prisma.alert.create({
        data: {
          fingerprint: `ack-${type}-${Math.random()}`,
          type,
          severity: "critical",
          status: "firing",
          apiKeyId,
          endpoint,
          message: "slow",
          observedValue: 2,
          threshold: 1,
        },
      });
    const one = await firing("response_time", 7, "GET /users/:id");
    await newRows();
    const acked = await call(
      app,
      "POST",
      `/api/v1/alerts/${one.id}/acknowledge`,
      { by: "someone else", note: "rolling back the deploy" },
      olga.headers,
    );
    expect(acked.status).toBe(200);
    expect(await newRows()).toEqual([
      row(acked, {
        action: "alert.acknowledged",
        targetType: "alert",
        targetId: one.id,
        summary: `acknowledged critical response_time alert ${one.id} (key 7, GET /users/:id) as "someone else": "rolling back the deploy"`,
        changes: {
          status: { from: "firing", to: "acknowledged" },
          acknowledgedBy: { from: null, to: "someone else" },
          ackNote: { from: null, to: "rolling back the deploy" },
        },
        operatorId: olga.id,
        operatorName: "olga the on-call",
      }),
    ]);
    // Acknowledging it again changes nothing and writes nothing.
    expect((await call(app, "POST", `/api/v1/alerts/${one.id}/acknowledge`, {}, olga.headers)).status).toBe(
      200,
    );
    expect(await newRows()).toEqual([]);

    // Several at once, with the admin token: a row for each alert acknowledged now, none for the
    // one acknowledged before, the resolved one or the unknown one.
    const two = await firing("error_rate", null, null);
    const resolved = await firing("error_rate", 8, null);
    await prisma.alert.update({
      where: { id: resolved.id },
      data: { status: "resolved", resolvedAt: new Date() },
    });
    const many = await call(app, "POST", "/api/v1/alerts/acknowledge", {
      ids: [one.id, two.id, resolved.id, 999_999],
    });
    expect(many.body).toEqual({
      acknowledged: [two.id],
      alreadyAcknowledged: [one.id],
      resolved: [resolved.id],
      notFound: [999_999],
    });
    expect(await newRows()).toEqual([
      row(many, {
        action: "alert.acknowledged",
        targetType: "alert",
        targetId: two.id,
        summary: `acknowledged critical error_rate alert ${two.id}`,
        changes: { status: { from: "firing", to: "acknowledged" } },
      }),
    ]);
    // A resolved alert's refusal writes nothing.
    expect((await call(app, "POST", `/api/v1/alerts/${resolved.id}/acknowledge`)).status).toBe(409);
    expect(await newRows()).toEqual([]);
    // The audit API answers one alert's rows.
    const its = await call(app, "GET", `/api/v1/audit?targetType=alert&targetId=${one.id}`);
    expect(its.body.items.map((i: { action: string }) => i.action)).toEqual(["alert.acknowledged"]);
  });

  it("of a viewer read the alerts API and change nothing", async () => {
    const vera = await operator("vera", "viewer");
    await newRows();
    for (const path of [
      "/api/v1/alerts",
      "/api/v1/audit",
      "/api/v1/alerts/channels",
      "/api/v1/alerts/settings",
    ]) {
      expect([path, (await call(app, "GET", path, undefined, vera.headers)).status]).toEqual([path, 200]);
    }
    const refused = await call(app, "POST", "/api/v1/alerts/silences", silence, vera.headers);
    expect({ status: refused.status, body: refused.body }).toEqual({
      status: 403,
      body: { detail: 'Operator "vera" is a viewer: its token may read, not change anything' },
    });
    const put = await call(app, "PUT", "/api/v1/alerts/settings", DEFAULT_ALERT_SETTINGS, vera.headers);
    expect(put.status).toBe(403);
    expect(await newRows()).toEqual([]);
  });

  it("of a viewer see channels without their credentials, and the admin token sees them whole", async () => {
    const vera = await operator("vera the reader", "viewer");
    const named = await call(app, "POST", "/api/v1/alerts/channels", {
      name: "ops",
      type: "slack",
      target: SLACK,
    });
    const unnamed = await call(app, "POST", "/api/v1/alerts/channels", { type: "webhook", target: WEBHOOK });
    expect([named.status, unnamed.status]).toEqual([201, 201]);

    const one = await call(app, "GET", `/api/v1/alerts/channels/${named.body.id}`, undefined, vera.headers);
    expect(one.body).toMatchObject({ name: "ops", target: `https://hooks.slack.com/…${SLACK.slice(-4)}` });
    const listed = await call(app, "GET", "/api/v1/alerts/channels?limit=100", undefined, vera.headers);
    const hook = listed.body.items.find((ch: { id: number }) => ch.id === unnamed.body.id);
    expect(hook).toMatchObject({
      name: "webhook https://hooks.example.com/in?…",
      target: "https://hooks.example.com/in?…",
    });
    // Its target changed since: the name still holds the old URL, masked as well.
    const moved = await call(app, "PATCH", `/api/v1/alerts/channels/${unnamed.body.id}`, {
      target: WEBHOOK_2,
    });
    expect(moved.status).toBe(200);
    const renamedView = await call(
      app,
      "GET",
      `/api/v1/alerts/channels/${unnamed.body.id}`,
      undefined,
      vera.headers,
    );
    expect(renamedView.body).toMatchObject({ name: "webhook https://hooks.example.com/in?…" });
    const answered = JSON.stringify([one.body, listed.body, renamedView.body]);
    // Email addresses are where mail goes, not credentials: a viewer sees them.
    for (const value of HIDDEN_VALUES.filter((v) => v !== EMAILS)) expect(answered).not.toContain(value);

    const whole = await call(app, "GET", `/api/v1/alerts/channels/${unnamed.body.id}`);
    expect(whole.body).toMatchObject({ name: `webhook ${WEBHOOK}`, target: WEBHOOK_2 });
  });

  it("of a viewer read an alert's deliveries without a URL's path or query in their errors", async () => {
    const vera = await operator("vera the on-call", "viewer");
    const channel = await prisma.notificationChannel.create({
      data: { name: "hook", type: "webhook", target: WEBHOOK },
    });
    const alert = await prisma.alert.create({
      data: {
        fingerprint: `delivery-errors-${Date.now()}`,
        type: "error_rate",
        severity: "warning",
        status: "firing",
        message: "errors",
        observedValue: 0.2,
        threshold: 0.1,
        firstSeenAt: new Date(),
        lastSeenAt: new Date(),
      },
    });
    const error = `POST ${WEBHOOK} refused; Slack at ${SLACK} answered HTTP 404`;
    await prisma.notificationDelivery.create({
      data: {
        deliveryId: "0190f5c4-7a8b-7c3d-9e0f-0000000000aa",
        alertId: alert.id,
        channelId: channel.id,
        attempt: 1,
        status: "failed",
        error,
      },
    });
    const seen = await call(app, "GET", `/api/v1/alerts/${alert.id}`, undefined, vera.headers);
    expect(seen.body.deliveries.map((d: { error: string }) => d.error)).toEqual([
      "POST https://hooks.example.com/… refused; Slack at https://hooks.slack.com/… answered HTTP 404",
    ]);
    expect(JSON.stringify(seen.body)).not.toContain("token");

    const whole = await call(app, "GET", `/api/v1/alerts/${alert.id}`);
    expect(whole.body.deliveries[0].error).toBe(error);
  });

  it("stop working on this service too once revoked", async () => {
    const rita = await operator("rita", "admin");
    expect((await call(app, "GET", "/api/v1/audit", undefined, rita.headers)).status).toBe(200);
    await prisma.operator.update({ where: { id: rita.id }, data: { revokedAt: new Date() } });
    const after = await call(app, "GET", "/api/v1/audit", undefined, rita.headers);
    expect({ status: after.status, body: after.body }).toEqual({
      status: 401,
      body: { detail: "Not authenticated" },
    });
  });
});
