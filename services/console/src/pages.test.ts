import {
  type AlertDetailView,
  type AlertReportView,
  type AlertsClient,
  type AlertView,
  ApiError,
  type ApiKeyView,
  type AuditEventView,
  type ChannelView,
  createAlertsClient,
  createKeysClient,
  type KeysClient,
  type KeyUsageView,
  type OperatorView,
  type SilenceView,
  type UsageView,
  type UserView,
} from "@apimon/client";
import { type AlertSettings, DEFAULT_ALERT_SETTINGS, type ThresholdOverride } from "@apimon/config";
import { createLogger, createMetricsRegistry } from "@apimon/observability";
import { emptyUsageBucket, emptyUsageSummary } from "@apimon/testkit";
import { createApp } from "./app";
import { createOperatorScope } from "./operator-scope";
import { maskTarget, userIdsFromText } from "./routes/channels";
import { SETTINGS_GROUPS, settingsFromForm } from "./routes/settings";
import { createSessionManager } from "./session";

// The console over in-memory fakes of the two API clients: sign-in and the session, what each
// page sends, and how it shows the APIs' refusals and failures.

const ADMIN_TOKEN = "console-pages-admin-token-0123456789";
const NOW = new Date("2026-12-03T12:00:00.000Z");

const channel: ChannelView = {
  id: 4,
  name: "ops slack",
  type: "slack",
  target: "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXXabcd",
  hasSecret: false,
  minSeverity: "warning",
  alertTypes: [],
  endpoints: [],
  userIds: [],
  enabled: true,
  createdAt: NOW.toISOString(),
  updatedAt: NOW.toISOString(),
};

const key: ApiKeyView = {
  id: 9,
  userId: 2,
  name: "billing",
  description: null,
  prefix: "ak_Xy12abcd",
  isActive: true,
  state: "active",
  rateLimits: { minute: 100, hour: 1000, day: 10000 },
  expiresAt: null,
  createdAt: NOW.toISOString(),
  usageCount: 3,
  lastUsed: null,
};

const usage: KeyUsageView = {
  keyId: 9,
  from: "2026-12-03T11:00:00.000Z",
  to: "2026-12-03T12:00:00.000Z",
  granularity: "minute",
  buckets: [
    {
      start: "2026-12-03T11:58:00.000Z",
      requests: 10,
      errors: 2,
      clientErrors: 3,
      rateLimited: 1,
      p50ResponseTimeMs: 12,
      p95ResponseTimeMs: 80,
    },
  ],
};

/** Every key's usage, as the keys API answers it: an hour per minute, of which two minutes had traffic. */
const stackUsage: UsageView = {
  from: "2026-12-03T11:00:00.000Z",
  to: "2026-12-03T12:00:00.000Z",
  granularity: "minute",
  buckets: [
    emptyUsageBucket("2026-12-03T11:57:00.000Z"),
    {
      start: "2026-12-03T11:58:00.000Z",
      requests: 40,
      errors: 4,
      clientErrors: 6,
      rateLimited: 5,
      p50ResponseTimeMs: 20,
      p95ResponseTimeMs: 310,
    },
    {
      start: "2026-12-03T11:59:00.000Z",
      requests: 7,
      errors: 0,
      clientErrors: 1,
      rateLimited: 0,
      p50ResponseTimeMs: 15.5,
      p95ResponseTimeMs: 90,
    },
  ],
};

const silence = (id: number, fields: Partial<SilenceView>): SilenceView => ({
  id,
  type: null,
  apiKeyId: null,
  endpoint: null,
  clientIp: null,
  comment: "maintenance window",
  createdBy: null,
  startsAt: "2026-12-03T11:00:00.000Z",
  endsAt: "2026-12-03T13:00:00.000Z",
  state: "active",
  openAlertsMatched: 0,
  createdAt: "2026-12-03T11:00:00.000Z",
  updatedAt: "2026-12-03T11:00:00.000Z",
  ...fields,
});

/** The silences the fake alerts API has: one active with every matcher, one pending, one expired. */
const silences = {
  active: silence(3, {
    type: "error_rate",
    apiKeyId: 9,
    endpoint: "GET /x",
    comment: '<img src=x onerror="alert(1)"> deploy',
    createdBy: "ada",
    openAlertsMatched: 4,
  }),
  pending: silence(5, {
    startsAt: "2026-12-04T02:00:00.000Z",
    endsAt: "2026-12-04T04:00:00.000Z",
    state: "pending",
  }),
  expired: silence(2, {
    clientIp: "203.0.113.7",
    endsAt: "2026-12-02T10:00:00.000Z",
    state: "expired",
    openAlertsMatched: null,
  }),
};

const auditEvent = (id: number, fields: Partial<AuditEventView>): AuditEventView => ({
  id,
  occurredAt: "2026-12-03T11:30:00.000Z",
  action: "key.updated",
  targetType: "key",
  targetId: 9,
  summary: "Key billing updated",
  changes: null,
  source: "console",
  clientAddress: "198.51.100.7",
  userAgent: "Mozilla/5.0 (X11; Linux x86_64)",
  requestId: "req-42",
  operator: null,
  ...fields,
});

/** The audit log the fake alerts API has, newest first: a change of each kind of target. */
const auditEvents: AuditEventView[] = [
  auditEvent(42, {
    occurredAt: "2026-12-03T11:58:00.000Z",
    action: "key.deactivated",
    summary: "Key billing deactivated",
    changes: { isActive: { from: true, to: false } },
  }),
  auditEvent(41, {
    occurredAt: "2026-12-03T11:40:00.000Z",
    action: "channel.updated",
    targetType: "channel",
    targetId: 4,
    summary: "Channel ops slack updated",
    changes: {
      minSeverity: { from: "warning", to: "critical" },
      endpoints: { from: [], to: ["* /api/billing/*"] },
    },
    source: "cli",
    clientAddress: "10.0.0.5",
    userAgent: null,
    requestId: null,
  }),
  auditEvent(40, {
    action: "settings.updated",
    targetType: "settings",
    targetId: null,
    summary: "Alert settings saved",
    changes: { "alertThresholds.response_time.warning": { from: 2, to: 1.5 } },
    source: "api",
    clientAddress: null,
  }),
  auditEvent(39, {
    action: "silence.created",
    targetType: "silence",
    targetId: 3,
    summary: "Silence #3 created",
    changes: { endsAt: { from: null, to: "2026-12-03T13:00:00.000Z" } },
  }),
  auditEvent(38, {
    action: "user.created",
    targetType: "user",
    targetId: 2,
    summary: "User Ada created",
  }),
];

const fieldError = (field: string, message: string) =>
  new ApiError(400, { detail: "Invalid body", errors: [{ field, message }] });

/** The console's dependencies but its API clients and operator scope, `config` added to. */
const appDeps = (config: { trustedProxyHops?: number } = {}) => ({
  identityWaitMs: 50,
  logger: createLogger({ service: "console-test", level: "silent" }),
  registry: createMetricsRegistry("console-test", { defaultMetrics: false }),
  sessions: createSessionManager({ secret: "p".repeat(40), ttlSeconds: 3600 }),
  chartJs: "",
  config: {
    adminToken: ADMIN_TOKEN,
    sessionTtlSeconds: 3600,
    secureCookie: false,
    refreshSeconds: 15,
    ...config,
  },
  isShuttingDown: () => false,
  clock: () => NOW,
});

/** Operators' tokens the fake keys API knows, and whose each is. */
const ALICE_TOKEN = "apimon_op_alice-viewer-token-0123456789";
const BOB_TOKEN = "apimon_op_bob-admin-token-0123456789abc";
const operatorView = (id: number, fields: Partial<OperatorView>): OperatorView => ({
  id,
  name: `operator-${id}`,
  role: "admin",
  tokenPrefix: `apimon_op_${id}abc`,
  createdAt: "2026-12-01T09:00:00.000Z",
  lastUsedAt: null,
  revokedAt: null,
  ...fields,
});
const alice = operatorView(3, { name: "alice", role: "viewer", lastUsedAt: "2026-12-03T11:59:00.000Z" });
const bob = operatorView(5, { name: "bob", role: "admin" });
const carol = operatorView(6, { name: "carol", role: "viewer", revokedAt: "2026-12-02T08:00:00.000Z" });
const CALLERS: Record<string, { operator: Pick<OperatorView, "id" | "name" | "role"> | null }> = {
  [ADMIN_TOKEN]: { operator: null },
  [ALICE_TOKEN]: { operator: { id: 3, name: "alice", role: "viewer" } },
  [BOB_TOKEN]: { operator: { id: 5, name: "bob", role: "admin" } },
};
const notAuthenticated = () => new ApiError(401, { detail: "Not authenticated" });
const VIEWER_REFUSAL = 'Operator "alice" is a viewer: its token may read, not change anything';

function build(
  overrides: { alerts?: Partial<AlertsClient>; keys?: Partial<KeysClient> } = {},
  { token = ADMIN_TOKEN, now = NOW }: { token?: string; now?: Date } = {},
) {
  const calls: [string, unknown][] = [];
  const operator = createOperatorScope();
  const record =
    <T>(name: string, answer: T) =>
    async (...args: unknown[]) => {
      calls.push([name, args.length === 1 ? args[0] : args]);
      return answer;
    };
  const alerts = {
    listChannels: async () => ({ items: [channel], nextCursor: null }),
    getChannel: async () => channel,
    createChannel: record("createChannel", channel),
    updateChannel: record("updateChannel", channel),
    deleteChannel: record("deleteChannel", undefined),
    testChannel: record("testChannel", {
      id: 1,
      deliveryId: "d-1",
      alertId: null,
      channelId: 4,
      attempt: 2,
      status: "failed",
      responseCode: 500,
      error: "HTTP 500 from receiver",
      latencyMs: 31,
      createdAt: NOW.toISOString(),
      attempts: [1, 2].map((attempt) => ({
        id: attempt,
        deliveryId: `d-${attempt}`,
        alertId: null,
        channelId: 4,
        attempt,
        status: attempt === 1 ? "retrying" : "failed",
        responseCode: 500,
        error: `HTTP 500 from receiver (attempt ${attempt})`,
        latencyMs: 31,
        createdAt: NOW.toISOString(),
      })),
    }),
    getSettings: async () => ({ ...DEFAULT_ALERT_SETTINGS, updatedAt: null }),
    putSettings: record("putSettings", { ...DEFAULT_ALERT_SETTINGS, updatedAt: NOW.toISOString() }),
    report: async (): Promise<AlertReportView> => ({
      from: "2026-11-04T00:00:00.000Z",
      to: "2026-12-04T00:00:00.000Z",
      total: 3,
      byType: { response_time: 3 },
      bySeverity: { warning: 2, critical: 1 },
      byStatus: { firing: 1, acknowledged: 1, resolved: 1 },
      byApiKey: [{ apiKeyId: 9, count: 3 }],
      byEndpoint: [
        {
          endpoint: "GET /api/reports/:id/export",
          count: 3,
          responseTime: 3,
          errorRate: 0,
          resolvedUnacknowledged: 2,
        },
      ],
      byDay: [
        {
          day: "2026-12-03",
          count: 3,
          byType: { response_time: 3 },
          bySeverity: { warning: 2, critical: 1 },
        },
      ],
      timeToAcknowledge: { count: 1, meanSeconds: 90, medianSeconds: 90 },
      timeToResolve: { count: 1, meanSeconds: 7200, medianSeconds: 7200 },
    }),
    history: record("history", { items: [], nextCursor: null }),
    listSilences: async (params: { state?: string }) => {
      calls.push(["listSilences", params]);
      const { active, pending, expired } = silences;
      return { items: params.state === "expired" ? [expired] : [pending, active], nextCursor: null };
    },
    getSilence: record("getSilence", silences.active),
    createSilence: record("createSilence", silences.active),
    updateSilence: record("updateSilence", silences.active),
    endSilence: record("endSilence", { ...silences.active, state: "expired" }),
    listAudit: record("listAudit", { items: auditEvents, nextCursor: null }),
    ...overrides.alerts,
  } as unknown as AlertsClient;
  const keys = {
    listUsers: async () => ({
      items: [{ id: 2, email: "ada@example.com", name: "Ada", createdAt: NOW.toISOString() }],
      nextCursor: null,
    }),
    listKeys: record("listKeys", { items: [key], nextCursor: null }),
    getKey: async () => key,
    getUser: async () => ({ id: 2, email: "ada@example.com", name: "Ada", createdAt: NOW.toISOString() }),
    keyUsage: record("keyUsage", usage),
    createKey: record("createKey", { ...key, id: 10, key: "ak_Xy12abcdPLAINTEXT" }),
    rotateKey: record("rotateKey", { ...key, id: 11, key: "ak_RotatedPLAINTEXT", rotatedFromId: 9 }),
    updateKey: record("updateKey", key),
    createUser: record("createUser", {
      id: 7,
      email: "grace@example.com",
      name: "Grace",
      createdAt: NOW.toISOString(),
    }),
    updateUser: record("updateUser", {}),
    deleteUser: record("deleteUser", undefined),
    deleteKey: record("deleteKey", undefined),
    usageSummary: record("usageSummary", emptyUsageSummary("", "")),
    usage: record("usage", stackUsage),
    // Answers as the keys API does for the token the call carries.
    whoAmI: async () => {
      const caller = CALLERS[operator.token() ?? ""];
      if (!caller) throw notAuthenticated();
      return { ...caller, role: caller.operator?.role ?? "admin" };
    },
    listOperators: async () => ({ items: [alice, bob, carol], nextCursor: null }),
    createOperator: record("createOperator", {
      ...operatorView(7, { name: "dave", role: "viewer", tokenPrefix: "apimon_op_Dv7x" }),
      token: "apimon_op_Dv7xNEWTOKENPLAINTEXT",
    }),
    updateOperator: record("updateOperator", { ...alice, role: "admin" }),
    revokeOperator: record("revokeOperator", { ...bob, revokedAt: NOW.toISOString() }),
    ...overrides.keys,
  } as unknown as KeysClient;
  const app = createApp({ ...appDeps(), alerts, keys, operator, clock: () => now });
  let session: { cookie: string; csrf: string } | undefined;
  async function signedIn() {
    if (session) return session;
    const res = await app.request("/sign-in", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token }).toString(),
    });
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] as string;
    const page = await (await app.request("/channels", { headers: { cookie } })).text();
    session = { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(page)?.[1] as string };
    return session;
  }
  return {
    app,
    calls,
    signedIn,
    async get(path: string) {
      const { cookie } = await signedIn();
      const res = await app.request(path, { headers: { cookie } });
      return { status: res.status, location: res.headers.get("location"), text: await res.text() };
    },
    async post(path: string, fields: Record<string, string | string[]>) {
      const { cookie, csrf } = await signedIn();
      const body = new URLSearchParams();
      for (const [k, v] of Object.entries({ ...fields, _csrf: csrf })) {
        for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
      }
      const res = await app.request(path, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie },
        body: body.toString(),
      });
      return { status: res.status, location: res.headers.get("location"), text: await res.text() };
    },
  };
}

const hostile: AlertView = {
  id: 7,
  fingerprint: "f",
  type: "response_time",
  severity: "critical",
  status: "firing",
  apiKeyId: 3,
  endpoint: "/users/:id",
  clientIp: null,
  message: '<script>alert("x")</script> slow',
  observedValue: 2.5,
  threshold: 2,
  occurrences: 1,
  firstSeenAt: "2026-12-01T10:00:00.000Z",
  lastSeenAt: "2026-12-01T10:00:00.000Z",
  acknowledgedAt: null,
  acknowledgedBy: null,
  acknowledgementNote: null,
  resolvedAt: null,
  lastNotifiedAt: null,
  escalatedAt: null,
  heldUntil: null,
  silencedBy: null,
  createdAt: "2026-12-01T10:00:00.000Z",
  updatedAt: "2026-12-01T10:00:00.000Z",
};

/** A delivery that succeeded on channel 4. */
const delivery = (
  over: Partial<AlertDetailView["deliveries"][number]>,
): AlertDetailView["deliveries"][number] => ({
  id: 1,
  deliveryId: "d-1",
  alertId: 7,
  otherAlertIds: [],
  channelId: 4,
  attempt: 1,
  status: "succeeded",
  responseCode: 200,
  error: null,
  latencyMs: 12,
  createdAt: NOW.toISOString(),
  ...over,
});

/** The console whose one alert carries markup in its message; it records acknowledgements. */
function withHostileAlert() {
  const acknowledged: unknown[] = [];
  const { app } = build({
    alerts: {
      listActive: async () => ({ items: [hostile], nextCursor: null }),
      counts: async () => ({
        total: 1,
        bySeverity: { warning: 0, critical: 1 },
        byStatus: { firing: 1, acknowledged: 0 },
        byType: {},
        silenced: 1,
      }),
      get: async (id: number): Promise<AlertDetailView> => {
        if (id !== 7) throw new ApiError(404, { detail: "Alert not found" });
        return { ...hostile, timeline: [], deliveries: [] };
      },
      acknowledge: async (id: number, body: unknown) => {
        acknowledged.push({ id, body });
        return { ...hostile, timeline: [], deliveries: [] };
      },
    } as unknown as Partial<AlertsClient>,
  });
  return { app, acknowledged };
}

const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});

/** The header's account of who is signed in, as its text reads. */
const whoOf = (text: string) =>
  /<span class="who" id="signed-in-as"[^>]*>(.*?)<\/span>\s*<form/s.exec(text)?.[1]?.replace(/<[^>]+>/g, "");

async function signIn(app: ReturnType<typeof build>["app"]) {
  const res = await app.request("/sign-in", form({ token: ADMIN_TOKEN, next: "/alerts" }));
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] as string;
  const page = await (await app.request("/alerts", { headers: { cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] as string;
  return { res, cookie, csrf };
}

describe("console sign-in and session", () => {
  it("sends a page request without a session to sign-in, keeping where it was going", async () => {
    const { app } = withHostileAlert();
    const res = await app.request("/alerts?severity=critical");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/sign-in?next=%2Falerts%3Fseverity%3Dcritical");
    const post = await app.request("/alerts/7/acknowledge", form({ note: "x" }));
    expect(post.status).toBe(401);
  });

  it("shows an error for a wrong token, without a stack or a cookie", async () => {
    const { app } = withHostileAlert();
    const res = await app.request("/sign-in", form({ token: "wrong-token-wrong-token" }));
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    const body = await res.text();
    expect(body).toContain("That is not the admin token or a working operator token.");
    expect(body).not.toMatch(/at .*\.ts:\d+/);
  });

  it("refuses sign-in from an address that sent 20 wrong tokens this minute, the right one too, until the minute ends", async () => {
    const { app } = withHostileAlert();
    const from = (address: string) => ({ incoming: { socket: { remoteAddress: address } } });
    for (let i = 0; i < 20; i++) {
      const res = await app.request("/sign-in", form({ token: `wrong-token-${i}` }), from("203.0.113.9"));
      expect(res.status).toBe(401);
    }
    const refused = await app.request("/sign-in", form({ token: ADMIN_TOKEN }), from("203.0.113.9"));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("set-cookie")).toBeNull();
    const wait = refused.headers.get("retry-after");
    expect(Number(wait)).toBeGreaterThanOrEqual(1);
    expect(await refused.text()).toContain(
      `Too many wrong admin tokens from this address. Try again in ${wait} seconds.`,
    );
    const other = await app.request("/sign-in", form({ token: ADMIN_TOKEN }), from("203.0.113.10"));
    expect(other.status).toBe(303);
  });

  it("sets an HttpOnly, SameSite=Strict session cookie with an expiry, and redirects only to local paths", async () => {
    const { app } = withHostileAlert();
    const { res } = await signIn(app);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/alerts");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(
      /^apimon_session=[\w-]+\.[\w-]+; Max-Age=3600; Path=\/; HttpOnly; SameSite=Strict$/,
    );
    const away = await app.request("/sign-in", form({ token: ADMIN_TOKEN, next: "//evil.example.com/x" }));
    expect(away.headers.get("location")).toBe("/alerts");
  });

  it("refuses a sign-in posted from another site", async () => {
    const { app } = withHostileAlert();
    const res = await app.request("/sign-in", {
      ...form({ token: ADMIN_TOKEN }),
      headers: { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "cross-site" },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("refuses a form POST without the CSRF token, and accepts it with the token", async () => {
    const { app, acknowledged } = withHostileAlert();
    const { cookie, csrf } = await signIn(app);
    expect(csrf).toBeTruthy();
    const refused = await app.request("/alerts/7/acknowledge", {
      ...form({ note: "no token" }),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
    });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("security token");
    const wrong = await app.request("/alerts/7/acknowledge", {
      ...form({ note: "wrong", _csrf: "AAAA" }),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
    });
    expect(wrong.status).toBe(403);
    expect(acknowledged).toEqual([]);
    const ok = await app.request("/alerts/7/acknowledge", {
      ...form({ note: "on it", by: "ada", _csrf: csrf }),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/alerts/7?done=acknowledged");
    expect(acknowledged).toEqual([{ id: 7, body: { by: "ada", note: "on it" } }]);
  });

  it("ends the session at sign-out: the same cookie no longer opens a page", async () => {
    const { app } = withHostileAlert();
    const { cookie, csrf } = await signIn(app);
    const out = await app.request("/sign-out", {
      ...form({ _csrf: csrf }),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
    });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/^apimon_session=; Max-Age=0/);
    expect((await app.request("/alerts", { headers: { cookie } })).status).toBe(303);
  });
});

describe("signing in as an operator", () => {
  it("signs in with an operator's token as the keys API names it, saying who in the header, and a viewer's pages are read-only", async () => {
    const viewer = build({}, { token: ALICE_TOKEN });
    const page = await viewer.get("/keys");
    expect(page.status).toBe(200);
    expect(page.text).toContain(
      '<span class="who" id="signed-in-as" title="Signed in with operator #3&#39;s token"><span class="who-name" title="alice">alice</span><span class="who-role"> · viewer</span></span>',
    );
    expect(whoOf(page.text)).toBe("alice · viewer");
    expect(page.text).toContain(
      `<div class="read-only" id="read-only" role="note">Read-only: you signed in with a viewer's token, so the console shows everything and changes nothing.</div>`,
    );
    // The reads stay: the keys are listed.
    expect(page.text).toContain('<tr data-key-id="9">');

    const admin = await build({}, { token: BOB_TOKEN }).get("/keys");
    expect(whoOf(admin.text)).toBe("bob · admin");
    expect(admin.text).not.toContain('id="read-only"');
    const token = await build().get("/keys");
    expect(whoOf(token.text)).toBe("admin token");
    expect(token.text).not.toContain('id="read-only"');
  });

  it("refuses an operator token the keys API does not take, with the wrong-token message, and one not shaped like one without asking", async () => {
    let asked = 0;
    const { app } = build({
      keys: {
        whoAmI: async () => {
          asked++;
          throw notAuthenticated();
        },
      },
    });
    for (const token of ["apimon_op_revoked-since-yesterday-0123", "not-a-token-of-any-kind"]) {
      const res = await app.request("/sign-in", form({ token }));
      expect(res.status).toBe(401);
      expect(res.headers.get("set-cookie")).toBeNull();
      expect(await res.text()).toContain(
        '<div class="alert-box" role="alert">That is not the admin token or a working operator token.</div>',
      );
    }
    expect(asked).toBe(1);
  });

  it("says the token cannot be checked when the keys API cannot be reached, with no session", async () => {
    const { app } = build({
      keys: {
        whoAmI: async () => {
          throw new Error("cannot reach the keys service at http://127.0.0.1:8082: ECONNREFUSED");
        },
      },
    });
    const res = await app.request("/sign-in", form({ token: ALICE_TOKEN }));
    expect(res.status).toBe(502);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await res.text()).toContain(
      '<div class="alert-box" role="alert">The token cannot be checked now: cannot reach the keys service at http://127.0.0.1:8082: ECONNREFUSED. Try again in a moment.</div>',
    );
  });

  it("passes at most 10 wrong operator tokens a minute to the keys API from all browsers together, and still takes the admin token", async () => {
    let asked = 0;
    const { app } = build({
      keys: {
        whoAmI: async () => {
          asked++;
          throw notAuthenticated();
        },
      },
    });
    const from = (i: number) => ({ incoming: { socket: { remoteAddress: `203.0.113.${i}` } } });
    for (let i = 0; i < 10; i++) {
      const res = await app.request("/sign-in", form({ token: `apimon_op_guess-${i}` }), from(i));
      expect(res.status).toBe(401);
    }
    const held = await app.request("/sign-in", form({ token: ALICE_TOKEN }), from(50));
    expect(held.status).toBe(429);
    const wait = held.headers.get("retry-after");
    expect(Number(wait)).toBeGreaterThanOrEqual(1);
    expect(await held.text()).toContain(
      `Too many wrong tokens were tried at this console. Try again in ${wait} seconds.`,
    );
    expect(asked).toBe(10);
    // The keys API answers the admin token whatever others guessed.
    const admin = await build().app.request("/sign-in", form({ token: ADMIN_TOKEN }), from(51));
    expect(admin.status).toBe(303);
  });

  it("ends the session when an API no longer takes its token: the cookie cleared, sign-in with a notice, the old cookie refused", async () => {
    let revoked = false;
    const t = build(
      {
        keys: {
          listKeys: async () => {
            if (revoked) throw notAuthenticated();
            return { items: [key], nextCursor: null };
          },
        } as unknown as Partial<KeysClient>,
      },
      { token: ALICE_TOKEN },
    );
    const { cookie } = await t.signedIn();
    expect((await t.app.request("/keys", { headers: { cookie } })).status).toBe(200);
    revoked = true;
    const res = await t.app.request("/keys?search=bill", { headers: { cookie } });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/sign-in?ended=token&next=%2Fkeys%3Fsearch%3Dbill");
    expect(res.headers.get("set-cookie")).toMatch(/^apimon_session=; Max-Age=0; Path=\//);
    // The cookie a copy of the browser kept opens nothing either.
    const again = await t.app.request("/keys", { headers: { cookie } });
    expect(again.headers.get("location")).toBe("/sign-in?next=%2Fkeys");
    const signIn = await t.app.request("/sign-in?ended=token&next=%2Fkeys%3Fsearch%3Dbill");
    const text = await signIn.text();
    // A warning, not a success: the green notice is for changes made.
    expect(text).toContain(
      '<div class="warning-box" role="status">Your token no longer works; it may have been revoked. Sign in again.</div>',
    );
    expect(text).not.toContain('class="notice"');
    expect(text).toContain('<input type="hidden" name="next" value="/keys?search=bill">');
    expect(await (await t.app.request("/sign-in?ended=toString")).text()).not.toContain(
      'class="warning-box"',
    );

    // A form sent meanwhile ends it the same way, without a page to go back to.
    const bobs = build(
      {
        keys: {
          updateKey: async () => {
            throw notAuthenticated();
          },
        },
      },
      { token: BOB_TOKEN },
    );
    const sent = await bobs.post("/keys/9/deactivate", {});
    expect(sent.status).toBe(303);
    expect(sent.location).toBe("/sign-in?ended=token");
  });

  it("shows the API's refusal of a viewer's change on a page of its own with the menu, 403, not a failure", async () => {
    const t = build(
      {
        keys: {
          updateKey: async () => {
            throw new ApiError(403, { detail: VIEWER_REFUSAL });
          },
        },
      },
      { token: ALICE_TOKEN },
    );
    const res = await t.post("/keys/9/deactivate", {});
    expect(res.status).toBe(403);
    expect(res.text).toContain(
      "<h1>Not allowed</h1><p>Operator &quot;alice&quot; is a viewer: its token may read, not change anything</p>",
    );
    expect(res.text).toContain('<a href="/operators" class="">Operators</a>');
    expect(whoOf(res.text)).toBe("alice · viewer");
  });
});

describe("an operator's pages after their role changed", () => {
  const DEACTIVATE = '<form method="post" action="/keys/9/deactivate"';
  const ALICE_AS_VIEWER = { operator: { id: 3, name: "alice", role: "viewer" }, role: "viewer" } as const;

  /**
   * The console signed in with `token`, whose keys API answers who it is from `now` at each call
   * (an admin may change it between pages), counting the calls.
   */
  function withCaller(token: string, now: { id: number; name: string; role: "admin" | "viewer" } | null) {
    const asked = { count: 0 };
    const t = build(
      {
        keys: {
          whoAmI: async () => {
            asked.count++;
            return now === null
              ? { operator: null, role: "admin" }
              : { operator: { ...now }, role: now.role };
          },
        },
      },
      { token },
    );
    return { ...t, asked };
  }

  it("draws each page by the name and role the keys API answers now: a viewer made admin gets the forms, without signing in again", async () => {
    const now = { id: 3, name: "alice", role: "viewer" as "admin" | "viewer" };
    const t = withCaller(ALICE_TOKEN, now);
    const before = await t.get("/keys");
    expect(whoOf(before.text)).toBe("alice · viewer");
    expect(before.text).toContain('id="read-only"');
    expect(before.text).not.toContain(DEACTIVATE);

    Object.assign(now, { name: "alice.b", role: "admin" });
    const after = await t.get("/keys");
    expect(after.status).toBe(200);
    expect(whoOf(after.text)).toBe("alice.b · admin");
    expect(after.text).not.toContain('id="read-only"');
    expect(after.text).toContain(DEACTIVATE);
  });

  it("leaves the forms out for an admin made viewer, from their next page", async () => {
    const now = { id: 5, name: "bob", role: "admin" as "admin" | "viewer" };
    const t = withCaller(BOB_TOKEN, now);
    expect((await t.get("/keys")).text).toContain(DEACTIVATE);
    now.role = "viewer";
    const page = await t.get("/keys");
    expect(whoOf(page.text)).toBe("bob · viewer");
    expect(page.text).toContain('id="read-only"');
    expect(page.text).not.toContain(DEACTIVATE);
    expect(page.text).toContain('<tr data-key-id="9">');
  });

  it("asks the keys API once per page of an operator's session, and never for assets, sign-in or the admin token's pages", async () => {
    const alices = withCaller(ALICE_TOKEN, { id: 3, name: "alice", role: "viewer" });
    const { cookie } = await alices.signedIn();
    // One at sign-in, one for the page the helper read the CSRF token from.
    expect(alices.asked.count).toBe(2);
    await alices.get("/keys");
    await alices.post("/keys/9/deactivate", {});
    expect(alices.asked.count).toBe(4);
    for (const path of ["/assets/console.css", "/assets/console.js", "/sign-in", "/healthz"]) {
      await alices.app.request(path, { headers: { cookie } });
    }
    expect(alices.asked.count).toBe(4);

    const admin = withCaller(ADMIN_TOKEN, null);
    await admin.get("/keys");
    await admin.get("/operators");
    await admin.post("/keys/9/deactivate", {});
    // Only the sign-in asked: the admin token has no operator to look up.
    expect(admin.asked.count).toBe(1);
    expect(whoOf((await admin.get("/keys")).text)).toBe("admin token");
  });

  it("ends the session when the keys API no longer takes the token at a page's look-up, as an API's 401 does", async () => {
    let revoked = false;
    const t = build(
      {
        keys: {
          whoAmI: async () => {
            if (revoked) throw notAuthenticated();
            return ALICE_AS_VIEWER;
          },
        },
      },
      { token: ALICE_TOKEN },
    );
    const { cookie } = await t.signedIn();
    revoked = true;
    const res = await t.app.request("/keys?search=bill", { headers: { cookie } });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/sign-in?ended=token&next=%2Fkeys%3Fsearch%3Dbill");
    expect(res.headers.get("set-cookie")).toMatch(/^apimon_session=; Max-Age=0; Path=\//);
    expect(t.calls).toEqual([]);
    const again = await t.app.request("/keys", { headers: { cookie } });
    expect(again.headers.get("location")).toBe("/sign-in?next=%2Fkeys");
  });

  it("goes on with the name and role of sign-in while the keys API cannot say, or is slow to say, who the token is", async () => {
    let keysApi: "up" | "down" | "slow" = "up";
    const t = build(
      {
        keys: {
          whoAmI: async () => {
            if (keysApi === "down")
              throw new Error("cannot reach the keys service at http://127.0.0.1:8082: ECONNREFUSED");
            // Slower than the page waits (50 ms in these tests).
            if (keysApi === "slow") await new Promise((resolve) => setTimeout(resolve, 500));
            return ALICE_AS_VIEWER;
          },
        },
      },
      { token: ALICE_TOKEN },
    );
    await t.signedIn();
    for (const state of ["down", "slow"] as const) {
      keysApi = state;
      // The channels page is the alerts API's: it works without the keys service.
      const res = await t.get("/channels");
      expect([state, res.status, whoOf(res.text)]).toEqual([state, 200, "alice · viewer"]);
      expect(res.text).toContain('id="read-only"');
    }
    keysApi = "up";
    expect((await t.get("/channels")).status).toBe(200);
  });
});

describe("operators page", () => {
  const rowOf = (text: string, id: number) =>
    text.slice(text.indexOf(`<tr id="operator-${id}"`)).split("</tr>")[0] as string;

  it("lists the active operators with forms to change the role, rename and revoke each, and the revoked apart, each row anchored and linked to its changes", async () => {
    const t = build();
    const res = await t.get("/operators");
    expect(res.status).toBe(200);
    expect(res.text).toContain('<a href="/operators" class="active">Operators</a>');
    const active = res.text.slice(res.text.indexOf("<h2>Active</h2>"), res.text.indexOf("<h2>Revoked</h2>"));
    const revoked = res.text.slice(res.text.indexOf("<h2>Revoked</h2>"));
    expect([...active.matchAll(/<tr id="operator-(\d+)"/g)].map(([, id]) => Number(id))).toEqual([3, 5]);
    expect([...revoked.matchAll(/<tr id="operator-(\d+)"/g)].map(([, id]) => Number(id))).toEqual([6]);

    const row = rowOf(res.text, 3);
    expect(row).toContain('<tr id="operator-3" data-operator-id="3" class="">');
    expect(row).toContain(
      '<td data-label="Name">alice</td><td data-label="Role"><form method="post" action="/operators/3/role" class="inline role"><input type="hidden" name="_csrf"',
    );
    expect(row).toContain(
      '<label class="visually-hidden" for="role-3">Role of alice</label><select id="role-3" name="role"><option value="admin" >admin</option><option value="viewer" selected>viewer</option></select><button type="submit" class="secondary">Change role</button></form></td>',
    );
    expect(row).toContain(
      '<details class="rename"><summary class="button secondary">Rename</summary><form method="post" action="/operators/3/rename" class="inline">',
    );
    expect(row).toContain(
      '<label class="visually-hidden" for="name-3">New name of alice</label><input id="name-3" name="name" value="alice" required><button type="submit">Save name</button></form></details>',
    );
    expect(row).toContain('<td class="mono whole" data-label="Token">apimon_op_3abc…</td>');
    expect(row).toContain(
      '<td data-label="Created"><time datetime="2026-12-01T09:00:00.000Z">2026-12-01 09:00:00 UTC</time></td>',
    );
    expect(row).toContain(
      '<td data-label="Last used"><time datetime="2026-12-03T11:59:00.000Z">2026-12-03 11:59:00 UTC</time></td>',
    );
    expect(row).toContain('<a class="button secondary" href="/activity?operatorId=3"');
    expect(row).toContain('<a class="button secondary" href="/activity?targetType=operator&amp;targetId=3"');
    expect(row).toContain(
      '<form method="post" action="/operators/3/revoke" data-confirm="Revoke alice&#39;s token? It stops working at once, in the console and the APIs; alice stays listed.">',
    );
    const gone = rowOf(res.text, 6);
    expect(gone).toContain('class="revoked"');
    expect(gone).toContain(
      '<span class="badge revoked">revoked</span> <time datetime="2026-12-02T08:00:00.000Z">',
    );
    expect(gone).not.toContain("/revoke");
    // A revoked operator cannot be changed: their role is only said.
    expect(gone).toContain('<td data-label="Role">viewer</td>');
    expect(gone).not.toContain("/role");
    expect(gone).not.toContain("/rename");
    expect(res.text).toContain('<form method="post" action="/operators" id="create-operator">');
  });

  it("creates an operator and shows its token once, on the answer to the form, never in a URL", async () => {
    const t = build();
    const res = await t.post("/operators", { name: " dave ", role: "viewer" });
    expect(res.status).toBe(200);
    expect(t.calls).toEqual([["createOperator", { name: "dave", role: "viewer" }]]);
    expect(res.text).toContain('<div class="notice" role="status">Operator dave created.</div>');
    expect(res.text).toContain("<h2>The new token (shown once)</h2>");
    expect(res.text).toContain(
      "Copy it now and hand it to dave: only its hash is stored, it cannot be shown again.",
    );
    expect(res.text).toContain(
      '<div class="secret"><code id="operator-token">apimon_op_Dv7xNEWTOKENPLAINTEXT</code><button type="button" data-copy="operator-token">Copy</button></div>',
    );
    const again = await t.get("/operators");
    expect(again.text).not.toContain("NEWTOKENPLAINTEXT");
  });

  it("shows the API's refusal next to the field, keeping what was typed", async () => {
    const t = build({
      keys: {
        createOperator: async () => {
          throw fieldError("name", "must be at most 100 characters");
        },
      },
    });
    const res = await t.post("/operators", { name: "x".repeat(101), role: "admin" });
    expect(res.status).toBe(400);
    expect(res.text).toContain(
      `<input id="op-name" name="name" value="${"x".repeat(101)}" required placeholder="alice, deploy-bot"><div class="error" data-field="name">must be at most 100 characters</div>`,
    );
    expect(res.text).toContain(
      '<option value="admin" selected>admin: everything the admin token may do, operators included</option>',
    );
    expect(res.text).not.toContain('id="operator-token"');
  });

  it("revokes an operator with the session's CSRF token, and refuses without it", async () => {
    const t = build();
    const { cookie } = await t.signedIn();
    const forged = await t.app.request("/operators/5/revoke", {
      ...form({}),
      headers: { ...form({}).headers, cookie },
    });
    expect(forged.status).toBe(403);
    expect(t.calls).toEqual([]);
    const res = await t.post("/operators/5/revoke", {});
    expect(res.status).toBe(303);
    expect(res.location).toBe("/operators?done=revoked#operator-5");
    expect(t.calls).toEqual([["revokeOperator", 5]]);
    expect((await t.get("/operators?done=revoked")).text).toContain(
      '<div class="notice" role="status">Token revoked: it no longer works, in the console or the APIs.</div>',
    );
  });

  it("changes an operator's role with the session's CSRF token, back at their row with a notice; refuses without the token", async () => {
    const t = build();
    const { cookie } = await t.signedIn();
    const forged = await t.app.request("/operators/3/role", {
      ...form({ role: "admin" }),
      headers: { ...form({}).headers, cookie },
    });
    expect(forged.status).toBe(403);
    expect(t.calls).toEqual([]);
    const res = await t.post("/operators/3/role", { role: "admin" });
    expect(res.status).toBe(303);
    expect(res.location).toBe("/operators?done=role#operator-3");
    expect(t.calls).toEqual([["updateOperator", [3, { role: "admin" }]]]);
    expect((await t.get("/operators?done=role")).text).toContain(
      `<div class="notice" role="status">Role changed: it holds from the operator&#39;s next request, in the console and the APIs; their token stays the same.</div>`,
    );
  });

  it("renames an operator, back at their row with a notice", async () => {
    const t = build();
    const res = await t.post("/operators/5/rename", { name: " robert " });
    expect(res.status).toBe(303);
    expect(res.location).toBe("/operators?done=renamed#operator-5");
    expect(t.calls).toEqual([["updateOperator", [5, { name: "robert" }]]]);
    expect((await t.get("/operators?done=renamed")).text).toContain(
      '<div class="notice" role="status">Operator renamed: the changes they make from now on carry the new name; earlier ones keep the old.</div>',
    );
  });

  it("says above the lists why the keys API refused a change: a token revoked meanwhile (409), a bad value (400)", async () => {
    const revokedMeanwhile = build({
      keys: {
        updateOperator: async () => {
          throw new ApiError(409, { detail: "Operator's token is revoked: make a new operator instead" });
        },
      },
    });
    const conflict = await revokedMeanwhile.post("/operators/3/role", { role: "admin" });
    expect(conflict.status).toBe(400);
    expect(conflict.text).toContain(
      `<div class="alert-box" role="alert">alice&#39;s role was not changed: Operator&#39;s token is revoked: make a new operator instead</div>`,
    );
    expect(conflict.text).toContain('<tr id="operator-3"');

    const tooLong = build({
      keys: {
        updateOperator: async () => {
          throw fieldError("name", "must be at most 100 characters");
        },
      },
    });
    const invalid = await tooLong.post("/operators/5/rename", { name: "x".repeat(101) });
    expect(invalid.status).toBe(400);
    expect(invalid.text).toContain(
      '<div class="alert-box" role="alert">bob&#39;s name was not changed: name: must be at most 100 characters</div>',
    );
    // An operator the list does not hold is named by id.
    const unknown = await tooLong.post("/operators/99/rename", { name: "x".repeat(101) });
    expect(unknown.text).toContain("Operator #99&#39;s name was not changed:");
  });

  it("takes an admin's change of their own role from their next page: made viewer, the page is read-only", async () => {
    const bobNow = { id: 5, name: "bob", role: "admin" as "admin" | "viewer" };
    const t = build(
      {
        keys: {
          whoAmI: async () => ({ operator: { ...bobNow }, role: bobNow.role }),
          updateOperator: async (id: number, patch: { role: "admin" | "viewer" }) => {
            expect(id).toBe(5);
            bobNow.role = patch.role;
            return { ...bob, ...patch };
          },
          listOperators: async () => ({ items: [alice, { ...bob, ...bobNow }], nextCursor: null }),
        } as unknown as Partial<KeysClient>,
      },
      { token: BOB_TOKEN },
    );
    const res = await t.post("/operators/5/role", { role: "viewer" });
    expect(res.location).toBe("/operators?done=role#operator-5");
    const next = await t.get("/operators?done=role");
    expect(whoOf(next.text)).toBe("bob · viewer");
    expect(next.text).toContain('id="read-only"');
    expect(next.text).not.toContain("/role");
    expect(next.text).not.toContain('id="create-operator"');
  });

  it("shows a viewer every operator without the forms that change them, and an admin operator their own row", async () => {
    const viewer = await build({}, { token: ALICE_TOKEN }).get("/operators");
    expect(viewer.text).toContain('<tr id="operator-5"');
    expect(viewer.text).not.toContain('id="create-operator"');
    expect(viewer.text).not.toContain("/revoke");
    expect(viewer.text).not.toContain("/role");
    expect(viewer.text).not.toContain("/rename");
    expect(viewer.text).not.toContain("<select");
    expect(rowOf(viewer.text, 5)).toContain('<td data-label="Role">admin</td>');
    expect(viewer.text).toContain("Only an admin adds, changes or revokes operators.");
    const own = await build({}, { token: BOB_TOKEN }).get("/operators");
    expect(rowOf(own.text, 5)).toContain('bob <span class="muted small">(you)</span>');
    expect(rowOf(own.text, 5)).toContain('data-confirm="Revoke your own token? You are signed out at once."');
    // Making yourself a viewer asks first; changing someone else's role does not.
    expect(rowOf(own.text, 5)).toContain(
      '<form method="post" action="/operators/5/role" class="inline role" data-confirm="Make yourself a viewer? From your next page you may only read; another admin can make you an admin again.">',
    );
    expect(rowOf(own.text, 3)).toContain(
      '<form method="post" action="/operators/3/role" class="inline role">',
    );
  });

  it("shows a hostile operator name as text", async () => {
    const hostileOp = operatorView(8, { name: '<img src=x onerror="alert(1)">' });
    const res = await build({
      keys: { listOperators: async () => ({ items: [hostileOp], nextCursor: null }) },
    }).get("/operators");
    expect(res.text).not.toContain("<img src=x");
    expect(res.text).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  });

  it("ends a long name in the header with an ellipsis, the role in sight, and wraps it in the list with (you) and the badges flowing beside it", async () => {
    const long = `Maximiliana-Alexandrovna-Konstantinopolskaya-${"x".repeat(120)}`;
    const t = build(
      {
        keys: {
          whoAmI: async () => ({ operator: { id: 5, name: long, role: "admin" }, role: "admin" }),
          listOperators: async () => ({ items: [alice, { ...bob, name: long }, carol], nextCursor: null }),
        } as unknown as Partial<KeysClient>,
      },
      { token: BOB_TOKEN },
    );
    const page = (await t.get("/operators")).text;
    expect(page).toContain(
      `<span class="who" id="signed-in-as" title="Signed in with operator #5&#39;s token"><span class="who-name" title="${long}">${long}</span><span class="who-role"> · admin</span></span>`,
    );
    expect(page).toContain(`<td data-label="Name">${long} <span class="muted small">(you)</span></td>`);
    const css = await (await t.app.request("/assets/console.css")).text();
    // The name alone shrinks, to an ellipsis; the role keeps its room.
    expect(css).toContain(
      "header.top .who { display:flex; min-width:0; max-width:24rem; color:#c9d1e3; font-size:12.5px; white-space:nowrap; }",
    );
    expect(css).toContain(
      "header.top .who-name { min-width:0; overflow:hidden; text-overflow:ellipsis; } header.top .who-role { flex:none; white-space:pre; }",
    );
    // On a phone it takes the room between the brand and Sign out rather than a line of its own.
    expect(css).toContain("header.top .who { flex:1 1 0; justify-content:flex-end; }");
    // A stacked cell's value flows as text beside its floated label: not flex items, each of which
    // a long word would squeeze to a letter a line ("(you)") or stretch to the row's height (a badge).
    expect(css).toContain(
      "table.stack td { display:block; border:0; padding:.15rem 0; text-align:left; overflow-wrap:anywhere; }",
    );
    expect(css).toContain("table.stack td[data-label]::before { content:attr(data-label); float:left;");
    expect(css).not.toContain("table.stack td { display:flex");
  });
});

describe("a viewer's pages", () => {
  /** The console with a firing response-time alert (#7, about an endpoint), signed in with `token`. */
  const withAlert = (token: string) =>
    build(
      {
        alerts: {
          counts: async () => ({
            total: 1,
            bySeverity: { critical: 1 },
            byStatus: { firing: 1 },
            byType: {},
            silenced: 0,
          }),
          listActive: async () => ({ items: [hostile], nextCursor: null }),
          get: async () => ({ ...hostile, timeline: [], deliveries: [] }),
        } as unknown as Partial<AlertsClient>,
      },
      { token },
    );

  /** The actions of a page's forms that post something, in page order, the header's sign-out left out. */
  const postForms = (text: string) =>
    [...text.matchAll(/<form\b[^>]*\bmethod="post"[^>]*\baction="([^"]*)"/g)]
      .map(([, action]) => action)
      .filter((action) => action !== "/sign-out");

  /** Each page, the forms an admin has on it, and something both see on it. */
  const pages: [path: string, adminForms: string[], read: string][] = [
    ["/alerts", ["/alerts/acknowledge"], '<tr data-alert-id="7">'],
    ["/alerts/7", ["/alerts/7/acknowledge"], '<p class="message" id="alert-message">'],
    ["/history", [], "<h1>History</h1>"],
    ["/reports", [], "GET /api/reports/:id/export"],
    ["/keys", ["/keys/9/deactivate", "/keys"], '<tr data-key-id="9">'],
    [
      "/keys/9",
      ["/keys/9/rotate", "/keys/9/deactivate", "/keys/9/delete", "/keys/9"],
      '<canvas data-chart="chart-traffic"',
    ],
    ["/users", ["/users"], '<tr data-user-id="2">'],
    [
      "/users/2",
      ["/users/2/delete", "/users/2", "/users/2/keys", "/keys/9/deactivate"],
      '<tr data-key-id="9">',
    ],
    ["/usage", [], "<h1>Usage across the stack</h1>"],
    [
      "/channels",
      ["/channels/4/test", "/channels/4/disable", "/channels/4/delete", "/channels"],
      '<tr data-channel-id="4">',
    ],
    ["/channels/4", ["/channels/4"], 'id="channel-changes"'],
    [
      "/silences",
      ["/silences/5/extend", "/silences/5/end", "/silences/3/extend", "/silences/3/end", "/silences"],
      '<tr id="silence-3" data-silence-id="3">',
    ],
    ["/settings", ["/settings"], 'id="settings-changes"'],
    ["/activity", [], 'data-audit-id="42"'],
    [
      "/operators",
      [
        "/operators",
        "/operators/3/role",
        "/operators/3/rename",
        "/operators/3/revoke",
        "/operators/5/role",
        "/operators/5/rename",
        "/operators/5/revoke",
      ],
      '<tr id="operator-5"',
    ],
  ];

  it.each(pages)(
    "shows a viewer %s without a form that changes something, and an admin with them",
    async (path, adminForms, read) => {
      const viewer = await withAlert(ALICE_TOKEN).get(path);
      expect(viewer.status).toBe(200);
      expect(postForms(viewer.text)).toEqual([]);
      expect(viewer.text).toContain(read);
      // Signing out is no change: it stays, with the session's CSRF token.
      expect(viewer.text).toMatch(
        /<form method="post" action="\/sign-out"><input type="hidden" name="_csrf" value="[^"]+">/,
      );
      const admin = await withAlert(ADMIN_TOKEN).get(path);
      expect(admin.status).toBe(200);
      expect(postForms(admin.text)).toEqual(adminForms);
      expect(admin.text).toContain(read);
    },
  );

  it("shows a viewer the alerts without the checkboxes that pick some to acknowledge", async () => {
    const viewer = (await withAlert(ALICE_TOKEN).get("/alerts")).text;
    expect(viewer).not.toContain('name="ids"');
    expect(viewer).not.toContain("data-select-all");
    expect(viewer).not.toContain('id="acknowledge-selected"');
    const admin = (await withAlert(ADMIN_TOKEN).get("/alerts")).text;
    expect(admin).toContain('<input type="checkbox" name="ids" value="7" form="acknowledge-selected" >');
  });

  it("leaves out the links that only open a form filled in for a change: silence, thresholds, a user's channel", async () => {
    const links = ['id="silence-like-this"', 'id="thresholds-for-endpoint"'];
    const viewerAlert = (await withAlert(ALICE_TOKEN).get("/alerts/7")).text;
    const adminAlert = (await withAlert(ADMIN_TOKEN).get("/alerts/7")).text;
    for (const link of links) {
      expect(viewerAlert).not.toContain(link);
      expect(adminAlert).toContain(link);
    }
    expect((await withAlert(ALICE_TOKEN).get("/users/2")).text).not.toContain('id="user-channel"');
    expect((await withAlert(ADMIN_TOKEN).get("/users/2")).text).toContain('id="user-channel"');
    const thresholds =
      '<a href="/settings?endpoint=GET+%2Fapi%2Freports%2F%3Aid%2Fexport#overrides">Set thresholds</a>';
    expect((await withAlert(ALICE_TOKEN).get("/reports")).text).not.toContain(thresholds);
    expect((await withAlert(ADMIN_TOKEN).get("/reports")).text).toContain(thresholds);
  });

  it("shows a viewer every setting and saved override in disabled fields, with no submit and no row for a new override", async () => {
    const viewer = build(
      { alerts: { getSettings: async () => withOverrides(savedOverrides) } as Partial<AlertsClient> },
      { token: ALICE_TOKEN },
    );
    const { text } = await viewer.get("/settings");
    expect(text).toContain('<fieldset class="read-only-form" disabled>');
    expect(text).toContain(
      `name="alertThresholds.response_time.warning" type="number" step="any" value="${DEFAULT_ALERT_SETTINGS.alertThresholds.response_time.warning}"`,
    );
    expect(text).toContain('value="GET /api/export"');
    expect(text).toContain('<tr data-override-row="1">');
    expect(text).not.toContain('<tr data-override-row="2">');
    expect(text).not.toContain("Save settings");
    expect(text.match(/<button type="submit"/g)).toHaveLength(1);
    expect(text.match(/name="_csrf"/g)).toHaveLength(1);
    // No override saved: the section says so rather than show an empty table.
    const none = await build({}, { token: ALICE_TOKEN }).get("/settings");
    expect(none.text).toContain(
      '<p class="muted" id="no-overrides">None: the global thresholds above apply to every endpoint and key.</p>',
    );
    const admin = await build().get("/settings");
    expect(admin.text).toContain('<form method="post" action="/settings" novalidate>');
    expect(admin.text).toContain('<button type="submit">Save settings</button>');
    expect(admin.text).not.toContain("read-only-form");
  });

  it("shows a viewer a channel's fields disabled, its target masked as the list masks it, and no Save", async () => {
    const { text } = await build({}, { token: ALICE_TOKEN }).get("/channels/4");
    expect(text).toContain('<fieldset class="read-only-form" disabled>');
    expect(text).toContain('<input id="ch-target" name="target" value="https://hooks.slack.com/…abcd"');
    expect(text).not.toContain(">Save</button>");
    expect(text).not.toContain("XXXXsecretXXXX");
    const list = await build({}, { token: ALICE_TOKEN }).get("/channels");
    expect(list.text).toContain('<a class="button secondary" href="/channels/4">View</a>');
    expect(list.text).not.toContain('id="create-channel"');
  });
});

describe("console pages", () => {
  it("shows alert text as text, under a CSP without inline script", async () => {
    const { app } = withHostileAlert();
    const { cookie } = await signIn(app);
    for (const path of ["/alerts", "/alerts/7"]) {
      const res = await app.request(path, { headers: { cookie } });
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(body).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; slow");
      expect(body).not.toContain('<script>alert("x")');
      // Every script element is external or inert JSON data.
      expect(body.match(/<script(?![^>]*(src=|type="application\/json"))[^>]*>/g)).toBeNull();
      expect(res.headers.get("content-security-policy")).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
      );
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
  });

  it("answers a missing alert with a 404 page", async () => {
    const { app } = withHostileAlert();
    const { cookie } = await signIn(app);
    const res = await app.request("/alerts/99", { headers: { cookie } });
    expect(res.status).toBe(404);
    const body = await res.text();
    expect(body).toContain("Alert not found");
    // Signed in, an error page keeps the menu and the sign-out form.
    expect(body).toContain('<a href="/keys" class="">Keys</a>');
    expect(body).toContain('action="/sign-out"');
    const nowhere = await app.request("/no/such/page", { headers: { cookie } });
    expect(nowhere.status).toBe(404);
    const nowhereBody = await nowhere.text();
    expect(nowhereBody).toContain("There is no such page.");
    expect(nowhereBody).toContain('action="/sign-out"');
  });

  it("answers an id no record can have (0, or beyond a Postgres integer) with the 404 page, without asking the APIs", async () => {
    // The APIs refuse such a path as invalid, which is no failure of theirs to report.
    const invalidPath = async () => {
      throw new ApiError(400, {
        detail: "Invalid path",
        errors: [{ field: "id", message: "must be an integer from 1 to 2147483647" }],
      });
    };
    const t = build({
      alerts: { get: invalidPath, getChannel: invalidPath } as unknown as Partial<AlertsClient>,
      keys: {
        getKey: invalidPath,
        getUser: invalidPath,
        keyUsage: invalidPath,
      } as unknown as Partial<KeysClient>,
    });
    for (const path of [
      "/alerts/0",
      "/alerts/99999999999",
      "/keys/99999999999",
      "/keys/2147483648",
      "/users/99999999999999999",
      "/channels/0",
    ]) {
      const res = await t.get(path);
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.text).toContain("<h1>Not found</h1><p>There is no such page.</p>");
      expect(res.text).toContain('action="/sign-out"');
    }
    for (const path of ["/keys/0", "/keys/99999999999/rotate", "/alerts/0/acknowledge", "/users/0/delete"]) {
      expect([path, (await t.post(path, { name: "x" })).status]).toEqual([path, 404]);
    }
    expect(t.calls).toEqual([]);
    // The largest id there can be is still asked for.
    expect((await build().get("/keys/2147483647")).status).toBe(200);
  });

  it("keeps error pages without the menu when nobody is signed in", async () => {
    const { app } = withHostileAlert();
    const res = await app.request("/alerts/acknowledge", { method: "POST" });
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain('action="/sign-out"');
  });

  it("serves its script, stylesheet and Chart.js without a session", async () => {
    const { app } = withHostileAlert();
    for (const path of ["/assets/console.js", "/assets/console.css", "/assets/chart.umd.min.js"]) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
    }
  });
});

describe("channels pages", () => {
  it("masks Slack URLs and webhook query strings", () => {
    expect(maskTarget(channel)).toBe("https://hooks.slack.com/…abcd");
    expect(maskTarget({ type: "webhook", target: "https://h.example.com/in?token=abc" })).toBe(
      "https://h.example.com/in?…",
    );
    expect(maskTarget({ type: "email", target: "a@b.c" })).toBe("a@b.c");
  });

  it("never shows a Slack URL in the list or the edit form", async () => {
    const t = build();
    for (const path of ["/channels", "/channels/4"]) {
      expect((await t.get(path)).text).not.toContain("XXXXsecret");
    }
  });

  it("shows the API's refusal next to the field and keeps what was typed", async () => {
    const t = build({
      alerts: {
        createChannel: async () => {
          throw fieldError("target", "must be an http(s) URL for a webhook channel");
        },
      },
    });
    const res = await t.post("/channels", {
      name: "hook",
      type: "webhook",
      target: "ftp://x",
      minSeverity: "warning",
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain(
      '<div class="error" data-field="target">must be an http(s) URL for a webhook channel</div>',
    );
    expect(res.text).toContain('value="ftp://x"');
  });

  it("shows a name another channel has next to the name, creating or editing", async () => {
    const taken = () => {
      throw new ApiError(409, { detail: "A channel with this name already exists" });
    };
    const t = build({ alerts: { createChannel: taken, updateChannel: taken } });
    const created = await t.post("/channels", {
      name: "ops",
      type: "email",
      target: "ops@example.com",
      minSeverity: "warning",
    });
    const edited = await t.post("/channels/4", { name: "ops", target: "", minSeverity: "warning" });
    for (const res of [created, edited]) {
      expect(res.status).toBe(400);
      expect(res.text).toContain(
        '<div class="error" data-field="name">A channel with this name already exists</div>',
      );
    }
  });

  it("keeps the stored target when the edit form leaves it blank, and removes a secret on request", async () => {
    const t = build();
    expect(
      (
        await t.post("/channels/4", {
          name: "ops",
          target: "",
          minSeverity: "critical",
          enabled: "on",
          removeSecret: "on",
        })
      ).location,
    ).toBe("/channels?done=saved");
    expect(t.calls).toContainEqual([
      "updateChannel",
      [
        4,
        {
          name: "ops",
          minSeverity: "critical",
          enabled: true,
          secret: null,
          alertTypes: [],
          endpoints: [],
          userIds: [],
        },
      ],
    ]);
  });

  it("narrows a channel to alert types and endpoints, one a line, and shows what each is for", async () => {
    const scoped = {
      ...channel,
      id: 5,
      name: "billing",
      alertTypes: ["error_rate"],
      endpoints: ["* /api/billing/*", "GET /x"],
    } as ChannelView;
    const t = build({
      alerts: {
        listChannels: async () => ({ items: [channel, scoped], nextCursor: null }),
        getChannel: async () => scoped,
        createChannel: async (input) => {
          t.calls.push(["createChannel", input]);
          return scoped;
        },
      },
    });
    const list = (await t.get("/channels")).text;
    expect(list).toContain('<td data-label="For">every alert</td>');
    expect(list).toContain(
      '<td data-label="For"><span>Error rate · <span class="mono">* /api/billing/*</span>, <span class="mono">GET /x</span></span></td>',
    );
    const edit = (await t.get("/channels/5")).text;
    expect(edit).toContain('<input type="checkbox" name="alertTypes" value="error_rate" checked> Error rate');
    expect(edit).toContain('<input type="checkbox" name="alertTypes" value="usage_spike" > Usage spike');
    expect(edit).toContain("* /api/billing/*\nGET /x</textarea>");
    await t.post("/channels", {
      name: "billing",
      type: "email",
      target: "b@example.com",
      minSeverity: "warning",
      alertTypes: ["error_rate", "response_time"],
      endpoints: " * /api/billing/*\r\n\r\nGET /x \n",
    });
    expect(t.calls).toContainEqual([
      "createChannel",
      expect.objectContaining({
        alertTypes: ["error_rate", "response_time"],
        endpoints: ["* /api/billing/*", "GET /x"],
      }),
    ]);
  });

  it("shows the API's refusal of an endpoint by the endpoints, keeping what was typed", async () => {
    const t = build({
      alerts: {
        createChannel: async () => {
          throw new ApiError(400, {
            detail: "Invalid body",
            errors: [{ field: "endpoints.1", message: "must not contain control characters" }],
          });
        },
      },
    });
    const res = await t.post("/channels", {
      type: "email",
      target: "b@example.com",
      alertTypes: "error_rate",
      endpoints: "GET /a\nGET /b",
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain(
      '<div class="error" data-field="endpoints">endpoint 2: must not contain control characters</div>',
    );
    expect(res.text).toContain("GET /a\nGET /b</textarea>");
    expect(res.text).toContain('value="error_rate" checked');
  });

  it("shows every attempt of a failed test delivery with its code and error", async () => {
    const t = build();
    const res = await t.post("/channels/4/test", {});
    expect(res.status).toBe(200);
    expect(res.text).toContain("HTTP 500 from receiver (attempt 1)");
    expect(res.text).toContain("HTTP 500 from receiver (attempt 2)");
    expect(res.text).toContain("retrying");
    expect(res.text).toContain("2 attempt(s), the last failed");
  });

  it("shows the API's 504 when the notifier does not answer a test", async () => {
    const t = build({
      alerts: {
        testChannel: async () => {
          throw new ApiError(504, { detail: "No delivery record for test message d-2 within 10000 ms" });
        },
      },
    });
    expect((await t.post("/channels/4/test", {})).text).toContain("No delivery record for test message d-2");
  });

  it("enables, disables and deletes through the API", async () => {
    const t = build();
    expect((await t.post("/channels/4/disable", {})).location).toBe("/channels?done=disabled");
    expect((await t.post("/channels/4/delete", {})).location).toBe("/channels?done=deleted");
    expect(t.calls).toEqual([
      ["updateChannel", [4, { enabled: false }]],
      ["deleteChannel", 4],
    ]);
  });
});

describe("channels for some customers", () => {
  const acme: UserView = {
    id: 3,
    email: "ops@acme.example",
    name: "Acme Corp",
    createdAt: NOW.toISOString(),
  };
  const forAcme = { ...channel, id: 5, name: "acme", userIds: [3, 12] } as ChannelView;
  const billing = {
    ...channel,
    id: 6,
    name: "billing",
    alertTypes: ["error_rate"],
    userIds: [3],
  } as ChannelView;

  /** The console with the two channels above; the keys API knows Acme Corp (#3), not #12. */
  function withCustomers(alerts: Partial<AlertsClient> = {}) {
    const t = build({
      alerts: {
        listChannels: async () => ({ items: [channel, forAcme, billing], nextCursor: null }),
        getChannel: async () => forAcme,
        ...alerts,
      } as Partial<AlertsClient>,
      keys: {
        listUsers: async (params: { ids?: number[] }) => {
          t.calls.push(["listUsers", params]);
          return { items: [acme].filter((u) => params.ids?.includes(u.id)), nextCursor: null };
        },
      } as Partial<KeysClient>,
    });
    return t;
  }

  const refusedWith = (errors: { field: string; message: string }[]) => async () => {
    throw new ApiError(400, { detail: "Invalid body", errors });
  };

  it("reads user ids separated by commas, spaces or lines, with or without #, each once, and says where a word is not one", () => {
    expect(userIdsFromText(" #3,7\r\n 7  12,, # 40 ")).toEqual({
      ids: [3, 7, 12, 40],
      places: [0, 1, 3, 4],
      errors: [],
    });
    expect(userIdsFromText("")).toEqual({ ids: [], places: [], errors: [] });
    expect(userIdsFromText("3, acme, 4.5").errors).toEqual([
      "user 2: “acme” is not a user id",
      "user 3: “4.5” is not a user id",
    ]);
  });

  it("names the users of each channel in the For column with one call to the keys API, the id of one it does not know", async () => {
    const t = withCustomers();
    await t.get("/alerts"); // signed in: that loads the channels page once for its CSRF token
    t.calls.length = 0;
    const list = (await t.get("/channels")).text;
    expect(list).toContain('<td data-label="For">every alert</td>');
    expect(list).toContain(
      '<td data-label="For"><span><a href="/users/3">Acme Corp</a> <span class="muted small">#3</span>, <a href="/users/12">#12</a></span></td>',
    );
    expect(list).toContain(
      '<td data-label="For"><span>Error rate · every endpoint · <a href="/users/3">Acme Corp</a> <span class="muted small">#3</span></span></td>',
    );
    expect(t.calls.filter(([name]) => name === "listUsers")).toEqual([
      ["listUsers", { ids: [3, 12], limit: 2 }],
    ]);
  });

  it("shows the ids alone when the keys API cannot name the users", async () => {
    const t = build({
      alerts: { listChannels: async () => ({ items: [forAcme], nextCursor: null }) } as Partial<AlertsClient>,
      keys: {
        listUsers: async () => {
          throw new ApiError(503, { detail: "Service unavailable" });
        },
      } as Partial<KeysClient>,
    });
    const list = (await t.get("/channels")).text;
    expect(list).toContain(
      '<td data-label="For"><span><a href="/users/3">#3</a>, <a href="/users/12">#12</a></span></td>',
    );
  });

  it("shows a channel's users in its form, named beside the field, and saves the ids typed", async () => {
    const t = withCustomers();
    const edit = (await t.get("/channels/5")).text;
    expect(edit).toContain('<input id="ch-users" name="userIds" value="3, 12"');
    expect(edit).toContain(
      '<div class="small" id="ch-users-names"><a href="/users/3">Acme Corp</a> <span class="muted small">#3</span>, <a href="/users/12">#12</a></div>',
    );
    expect(edit).toContain("hears only of alerts about these users' keys");

    expect((await t.post("/channels/5", { name: "acme", userIds: "#3, 7\n12 7" })).location).toBe(
      "/channels?done=saved",
    );
    expect(t.calls).toContainEqual(["updateChannel", [5, expect.objectContaining({ userIds: [3, 7, 12] })]]);
    await t.post("/channels", { type: "email", target: "acme@example.com", userIds: " 3 " });
    expect(t.calls).toContainEqual(["createChannel", expect.objectContaining({ userIds: [3] })]);
    await t.post("/channels/5", { name: "acme", userIds: "" });
    expect(t.calls).toContainEqual(["updateChannel", [5, expect.objectContaining({ userIds: [] })]]);
  });

  it("refuses a word that is not a user id at its place, without calling the API, keeping what was typed", async () => {
    const t = withCustomers();
    for (const path of ["/channels", "/channels/5"]) {
      const res = await t.post(path, { type: "email", target: "a@example.com", userIds: "3, acme" });
      expect(res.status).toBe(400);
      expect(res.text).toContain(
        '<div class="error" data-field="userIds">user 2: “acme” is not a user id</div>',
      );
      expect(res.text).toContain('name="userIds" value="3, acme"');
    }
    expect(t.calls.filter(([name]) => name === "createChannel" || name === "updateChannel")).toEqual([]);
  });

  it("shows the API's refusal of a user by the place it was typed (a repeat dropped before it), or of the whole list, keeping what was typed", async () => {
    const t = withCustomers({
      createChannel: refusedWith([{ field: "userIds.1", message: "no user with id 12" }]),
      updateChannel: refusedWith([{ field: "userIds", message: "may hold at most 50 users" }]),
    });
    const created = await t.post("/channels", {
      type: "email",
      target: "a@example.com",
      userIds: "3, 3, #12",
    });
    expect(created.status).toBe(400);
    expect(t.calls).toContainEqual(["listUsers", { ids: [3, 12], limit: 2 }]);
    expect(created.text).toContain(
      '<div class="error" data-field="userIds">user 3: no user with id 12</div>',
    );
    expect(created.text).toContain('name="userIds" value="3, 3, #12"');
    const edited = await t.post("/channels/5", { name: "acme", userIds: "3 4" });
    expect(edited.status).toBe(400);
    expect(edited.text).toContain('<div class="error" data-field="userIds">may hold at most 50 users</div>');
    expect(edited.text).toContain('name="userIds" value="3 4"');
  });

  it("names the users of an escalation channel that is for some customers only", async () => {
    const t = withCustomers();
    const { text } = await t.get("/settings");
    expect(text).toContain(
      'value="5" > acme (slack) <span class="muted small">for Acme Corp #3, #12 only</span></label>',
    );
    expect(text).toContain(
      'value="6" > billing (slack) <span class="muted small">for Error rate, Acme Corp #3 only</span></label>',
    );
  });

  it("links a user's page to a new channel for them, the form filled in with the user", async () => {
    const t = withCustomers();
    const user = (await t.get("/users/2")).text;
    expect(user).toContain(
      '<a href="/channels?userId=2#create-channel" id="user-channel">Create a channel for this user</a>',
    );
    const form = (await t.get("/channels?userId=3")).text;
    expect(form).toContain('<input id="ch-users" name="userIds" value="3"');
    expect(form).toContain('<div class="small" id="ch-users-names"><a href="/users/3">Acme Corp</a>');
    // Anything else in the link leaves the field empty.
    expect((await t.get("/channels?userId=x")).text).toContain('name="userIds" value=""');
  });
});

describe("settings page", () => {
  it("says which escalation channels are for some alerts only", async () => {
    const billing = {
      ...channel,
      id: 5,
      name: "billing",
      alertTypes: ["error_rate"],
      endpoints: ["* /api/billing/*"],
    };
    const t = build({
      alerts: {
        listChannels: async () => ({ items: [channel, billing], nextCursor: null }),
      } as Partial<AlertsClient>,
    });
    const { text } = await t.get("/settings");
    expect(text).toContain(
      'value="5" > billing (slack) <span class="muted small">for Error rate, * /api/billing/* only</span></label>',
    );
    expect(text).toContain('value="4" > ops slack (slack)</label>');
  });

  it("turns the form into the whole settings document", () => {
    const form: Record<string, unknown> = {};
    for (const g of SETTINGS_GROUPS) for (const f of g.fields) form[f.path] = "7";
    form["escalation.enabled"] = "on";
    form["escalation.channelIds"] = ["4", "5"];
    const { document, errors } = settingsFromForm(form);
    expect(errors).toEqual([]);
    expect(document).toMatchObject({
      alertThresholds: { response_time: { warning: 7, critical: 7 }, quietPeriodSeconds: 7 },
      repeatIntervalSeconds: 7,
      escalation: { enabled: true, afterSeconds: 7, channelIds: [4, 5] },
    });
  });

  it("refuses a field that is not a number without calling the API", async () => {
    const t = build();
    const res = await t.post("/settings", { "alertThresholds.response_time.warning": "fast" });
    expect(res.status).toBe(400);
    expect(res.text).toContain('data-field="alertThresholds.response_time.warning">must be a number');
    expect(res.text).toContain(
      'name="alertThresholds.response_time.warning" type="number" step="any" value="fast"',
    );
    expect(t.calls.filter(([name]) => name === "putSettings")).toEqual([]);
  });
});

/** Settings whose overrides are these; the rest are the defaults. */
const withOverrides = (overrides: ThresholdOverride[]) => ({
  ...DEFAULT_ALERT_SETTINGS,
  alertThresholds: { ...DEFAULT_ALERT_SETTINGS.alertThresholds, overrides },
  updatedAt: NOW.toISOString(),
});

const savedOverrides: ThresholdOverride[] = [
  { endpoint: "GET /api/export", response_time: { warning: 5, critical: 10 }, note: "exports take long" },
  { apiKeyId: 9, error_rate: { warning: 0.3, critical: 0.6 } },
];

const unescapeAttribute = (value: string) =>
  value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

/**
 * What a browser would submit from the settings form of `page` (checked boxes only), with
 * `changes` typed over it; the CSRF field is the test client's to add.
 */
function submitted(page: string, changes: Record<string, string> = {}): Record<string, string | string[]> {
  const form = /<form method="post" action="\/settings"[\s\S]*?<\/form>/.exec(page)?.[0] ?? "";
  const out: Record<string, string | string[]> = {};
  for (const [tag] of form.matchAll(/<input\b[^>]*>/g)) {
    const attribute = (name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
    const name = attribute("name");
    const type = attribute("type");
    if (!name || name === "_csrf" || (type === "checkbox" && !/\schecked\b/.test(tag))) continue;
    const value = unescapeAttribute(attribute("value") ?? (type === "checkbox" ? "on" : ""));
    const before = out[name];
    out[name] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
  }
  return { ...out, ...changes };
}

describe("settings overrides", () => {
  const saving = (overrides = savedOverrides, putSettings?: AlertsClient["putSettings"]) =>
    build({
      alerts: {
        getSettings: async () => withOverrides(overrides),
        ...(putSettings && { putSettings }),
      } as Partial<AlertsClient>,
    });
  const put = (t: ReturnType<typeof build>) =>
    t.calls.filter(([name]) => name === "putSettings").map(([, doc]) => doc);
  const row = (i: number, name: string) => `alertThresholds.overrides.${i}.${name}`;

  it("lists each override as an editable row, names its key, and explains the order of precedence", async () => {
    const { text } = await saving().get("/settings");
    expect(text).toContain("Overrides for particular endpoints and keys");
    expect(text).toContain(
      "key + method + path, key + path, the key's patterns, method + path, path, patterns, key",
    );
    expect(text).toContain(
      'a <span class="mono">*</span> in the path stands for any run of characters (<span class="mono">/api/reports/*</span>)',
    );
    expect(text).toContain("window and minimum requests stay the global ones");
    expect(text).toContain(`name="${row(0, "endpoint")}" value="GET /api/export"`);
    expect(text).toContain(`name="${row(0, "response_time.critical")}" value="10"`);
    expect(text).toContain(`name="${row(0, "error_rate.warning")}" value=""`);
    expect(text).toContain(`name="${row(1, "apiKeyId")}" value="9"`);
    expect(text).toContain('<div class="muted small"><a href="/keys/9">billing</a></div>');
    // The row for a new override: empty, and nothing to remove.
    expect(text).toContain(`name="${row(2, "endpoint")}" value=""`);
    expect(text).toContain(`name="${row(1, "remove")}"`);
    expect(text).not.toContain(`name="${row(2, "remove")}"`);
  });

  it("keeps every override when the global thresholds are saved", async () => {
    const t = saving();
    const page = (await t.get("/settings")).text;
    const res = await t.post(
      "/settings",
      submitted(page, { "alertThresholds.response_time.warning": "0.5" }),
    );
    expect(res.location).toBe("/settings?done=saved");
    expect(put(t)).toEqual([
      expect.objectContaining({
        alertThresholds: expect.objectContaining({
          response_time: { warning: 0.5, critical: 2 },
          overrides: savedOverrides,
        }),
      }),
    ]);
  });

  it("adds the new row's override after the others, a blank rule left out", async () => {
    const t = saving();
    const page = (await t.get("/settings")).text;
    await t.post(
      "/settings",
      submitted(page, {
        [row(2, "endpoint")]: "/api/reports/:id",
        [row(2, "apiKeyId")]: "12",
        [row(2, "response_time.warning")]: "3",
        [row(2, "response_time.critical")]: " 6 ",
        [row(2, "note")]: "  nightly batch  ",
      }),
    );
    expect((put(t)[0] as AlertSettings).alertThresholds.overrides).toEqual([
      ...savedOverrides,
      {
        endpoint: "/api/reports/:id",
        apiKeyId: 12,
        response_time: { warning: 3, critical: 6 },
        note: "nightly batch",
      },
    ]);
  });

  it("removes a row ticked Remove, and ignores the empty new row", async () => {
    const t = saving();
    const page = (await t.get("/settings")).text;
    await t.post("/settings", submitted(page, { [row(0, "remove")]: "on" }));
    expect((put(t)[0] as AlertSettings).alertThresholds.overrides).toEqual([savedOverrides[1]]);
  });

  it("refuses a rule with only one of its two thresholds, or one that is not a number, at the row, without calling the API", async () => {
    const t = saving();
    const page = (await t.get("/settings")).text;
    const res = await t.post(
      "/settings",
      submitted(page, {
        [row(1, "response_time.warning")]: "2",
        [row(2, "endpoint")]: "GET /api/search",
        [row(2, "error_rate.warning")]: "a lot",
        [row(2, "error_rate.critical")]: "0.9",
      }),
    );
    expect(res.status).toBe(400);
    expect(put(t)).toEqual([]);
    expect(res.text).toContain(
      `<div class="error" data-field="${row(1, "response_time.critical")}">give both warning and critical, or neither</div>`,
    );
    expect(res.text).toContain(
      `<div class="error" data-field="${row(2, "error_rate.warning")}">must be a number</div>`,
    );
    expect(res.text).not.toContain('data-field="alertThresholds.overrides.0.');
    // What was typed stays, and a fresh row for another override follows the refused new one.
    expect(res.text).toContain(`name="${row(2, "endpoint")}" value="GET /api/search"`);
    expect(res.text).toContain(`name="${row(2, "error_rate.warning")}" value="a lot"`);
    expect(res.text).toContain(`name="${row(3, "endpoint")}" value=""`);
  });

  it("shows the API's refusal of an override at its row, counting the rows removed before it", async () => {
    const t = saving(savedOverrides, async () => {
      throw fieldError(
        "alertThresholds.overrides.1.endpoint",
        "must be a path, or a method and a path, as alerts give it: GET /api/users/:id",
      );
    });
    const page = (await t.get("/settings")).text;
    // Row 0 goes, so the new row (2) is the second override of the document the API judges.
    const res = await t.post(
      "/settings",
      submitted(page, {
        [row(0, "remove")]: "on",
        [row(2, "endpoint")]: "api/search",
        [row(2, "response_time.warning")]: "2",
        [row(2, "response_time.critical")]: "4",
      }),
    );
    expect(res.status).toBe(400);
    expect(res.text).toContain(
      `<div class="error" data-field="${row(2, "endpoint")}">must be a path, or a method and a path, as alerts give it: GET /api/users/:id</div>`,
    );
    expect(res.text).toContain(`name="${row(2, "endpoint")}" value="api/search"`);
    expect(res.text).toMatch(new RegExp(`name="${row(0, "remove")}" checked>`));
  });

  it("shows a hostile note as text, and saves it back unchanged", async () => {
    const note = '"><script>alert(1)</script><b>';
    const t = saving([{ endpoint: "/x", response_time: { warning: 1, critical: 2 }, note }]);
    const page = (await t.get("/settings")).text;
    expect(page).toContain(`value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;"`);
    expect(page).not.toContain("<script>alert(1)");
    await t.post("/settings", submitted(page));
    expect((put(t)[0] as AlertSettings).alertThresholds.overrides).toEqual([
      { endpoint: "/x", response_time: { warning: 1, critical: 2 }, note },
    ]);
  });

  it("fills in the new row from an alert's link, or points at the override that already has its scope", async () => {
    const t = saving();
    const fresh = (await t.get("/settings?endpoint=GET+%2Fapi%2Fsearch")).text;
    expect(fresh).toContain(`name="${row(2, "endpoint")}" value="GET /api/search"`);
    expect(fresh).toMatch(new RegExp(`name="${row(2, "response_time.warning")}"[^>]* autofocus>`));
    const keyed = (await t.get("/settings?endpoint=%2Fx&apiKeyId=9")).text;
    expect(keyed).toContain(`name="${row(2, "apiKeyId")}" value="9"`);
    const taken = (await t.get("/settings?endpoint=GET+%2Fapi%2Fexport")).text;
    expect(taken).toContain("Override 1 is the one for GET /api/export: change it there.");
    expect(taken).toContain(`name="${row(2, "endpoint")}" value=""`);
    expect(taken).toMatch(new RegExp(`name="${row(0, "response_time.warning")}"[^>]* autofocus>`));
  });

  it("links a response-time or error-rate alert with an endpoint to thresholds for that endpoint", async () => {
    const detail = (fields: Partial<AlertView>) => ({ ...hostile, ...fields, timeline: [], deliveries: [] });
    const alertsWith = (a: AlertDetailView) =>
      build({ alerts: { get: async () => a } as Partial<AlertsClient> });
    const slow = (await alertsWith(detail({ endpoint: "GET /api/export" })).get("/alerts/7")).text;
    expect(slow).toContain(
      '<a class="button secondary" href="/settings?endpoint=GET+%2Fapi%2Fexport#overrides" id="thresholds-for-endpoint">Set thresholds for this endpoint</a>',
    );
    const failing = (await alertsWith(detail({ type: "error_rate" })).get("/alerts/7")).text;
    expect(failing).toContain('href="/settings?endpoint=%2Fusers%2F%3Aid#overrides"');
    for (const other of [detail({ endpoint: null }), detail({ type: "usage_spike", endpoint: null })]) {
      expect((await alertsWith(other).get("/alerts/7")).text).not.toContain("thresholds-for-endpoint");
    }
  });

  it("saves against the version it was loaded with, and says so when someone saved in between", async () => {
    const t = saving();
    const page = (await t.get("/settings")).text;
    expect(page).toContain(`<input type="hidden" name="basedOn" value="${NOW.toISOString()}">`);
    await t.post("/settings", submitted(page));
    expect(put(t)[0]).toMatchObject({ updatedAt: NOW.toISOString() });
    // Never saved: the defaults' version is null.
    const fresh = build();
    const defaults = (await fresh.get("/settings")).text;
    expect(defaults).toContain('<input type="hidden" name="basedOn" value="">');
    await fresh.post("/settings", submitted(defaults));
    expect(put(fresh)[0]).toMatchObject({ updatedAt: null });

    const later = "2026-12-03T12:05:00.000Z";
    const overtaken = saving(savedOverrides, async () => {
      throw new ApiError(409, { detail: `The settings were changed at ${later} since …` });
    });
    const res = await overtaken.post(
      "/settings",
      submitted(page, { [row(0, "response_time.warning")]: "6" }),
    );
    expect(res.status).toBe(409);
    expect(res.text).toContain('id="settings-overtaken"');
    expect(res.text).toContain("after this page was loaded, and saving these would undo their change");
    expect(res.text).toContain('<a href="/settings">Load the settings in force</a>');
    // What was typed stays, and so does the version: saving again is refused too.
    expect(res.text).toContain(`name="${row(0, "response_time.warning")}" value="6"`);
    expect(res.text).toContain(`<input type="hidden" name="basedOn" value="${NOW.toISOString()}">`);
  });
});

describe("keys pages", () => {
  it("shows a new key's plaintext once, on the answer to the form, never in a URL", async () => {
    const t = build();
    const res = await t.post("/keys", { userId: "2", name: "new", minute: "50", hour: "", day: "" });
    expect(res.status).toBe(200);
    expect(res.location).toBeNull();
    expect(res.text).toContain('<code id="plaintext-key">ak_Xy12abcdPLAINTEXT</code>');
    expect(t.calls).toContainEqual(["createKey", { userId: 2, name: "new", rateLimits: { minute: 50 } }]);
    expect((await t.get("/keys")).text).not.toContain("PLAINTEXT");
  });

  it("shows the keys API's refusal next to the field", async () => {
    const t = build({
      keys: {
        createKey: async () => {
          throw fieldError("rateLimits.minute", "must be at most 1000000");
        },
      },
    });
    const res = await t.post("/keys", { userId: "2", name: "x", minute: "99999999" });
    expect(res.status).toBe(400);
    expect(res.text).toContain('data-field="rateLimits.minute">must be at most 1000000');
    // The list stays as it was (every user's keys); only the form keeps the user it named.
    expect(t.calls.filter(([name]) => name === "listKeys")).toEqual([
      ["listKeys", { userId: undefined, cursor: undefined, limit: 50 }],
    ]);
    expect(res.text).toContain('<option value="">all users</option>');
    expect(res.text).toMatch(/<select id="k-user" name="userId"><option value="2" selected>/);
  });

  it("shows each key's state as the keys API gives it: on, off, or expired (a rotated key after its grace)", async () => {
    const retired: ApiKeyView = { ...key, id: 12, expiresAt: "2026-12-03T11:59:59.000Z", state: "expired" };
    const retiring: ApiKeyView = { ...key, id: 13, expiresAt: "2026-12-03T12:00:01.000Z", state: "active" };
    const off: ApiKeyView = { ...key, isActive: false, state: "deactivated" };
    const t = build({
      keys: {
        listKeys: async () => ({ items: [retired, retiring, off], nextCursor: null }),
        getKey: async () => retired,
      } as unknown as Partial<KeysClient>,
    });
    const list = (await t.get("/keys")).text;
    const stateOf = (id: number) =>
      new RegExp(`<tr data-key-id="${id}">[\\s\\S]*?<span class="badge (\\w+)">`).exec(list)?.[1];
    expect([stateOf(12), stateOf(13), stateOf(9)]).toEqual(["expired", "on", "off"]);
    const expiredPage = (await t.get("/keys/12")).text;
    expect(expiredPage).toContain('<span class="badge expired">expired</span></h1>');
    // The keys service would refuse to rotate it: no Rotate button.
    expect(expiredPage).not.toContain('action="/keys/12/rotate"');
    // An active key's page offers it.
    expect((await build().get("/keys/9")).text).toContain('action="/keys/9/rotate"');
  });

  it("names the key's owner, as text, and falls back to the user's id", async () => {
    const owned = build({
      keys: {
        getUser: async () => ({
          id: 2,
          email: "ada@example.com",
          name: "<b>Ada</b>",
          createdAt: NOW.toISOString(),
        }),
      },
    });
    expect((await owned.get("/keys/9")).text).toContain(
      '<a href="/users/2">&lt;b&gt;Ada&lt;/b&gt; (ada@example.com)</a>',
    );
    const unknown = build({
      keys: {
        getUser: async () => {
          throw new ApiError(404, { detail: "User not found" });
        },
      },
    });
    expect((await unknown.get("/keys/9")).text).toContain('<a href="/users/2">#2</a>');
  });

  it("shows a user with their keys, saves a change, and deletes them after saying how many keys go", async () => {
    const t = build();
    const page = await t.get("/users/2");
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Ada <span class="muted">ada@example.com</span></h1>');
    expect(page.text).toContain('<tr data-key-id="9">');
    expect(page.text).toContain(
      'data-confirm="Delete Ada and their 1 key? The edge refuses it from now on. This cannot be undone; their recorded usage stays."',
    );
    expect(t.calls).toContainEqual(["listKeys", { userId: 2, limit: 50 }]);
    // The keys table names each key's user, linking here.
    expect((await t.get("/keys")).text).toContain('<td data-label="User"><a href="/users/2">Ada</a></td>');

    const saved = await t.post("/users/2", { name: "Ada L.", email: "ada.l@example.com" });
    expect(saved.location).toBe("/users/2?done=user-saved");
    expect(t.calls).toContainEqual(["updateUser", [2, { name: "Ada L.", email: "ada.l@example.com" }]]);
    expect((await t.post("/users/2/delete", {})).location).toBe("/users?done=user-deleted");
    expect(t.calls).toContainEqual(["deleteUser", 2]);
    expect((await t.get("/users?done=user-deleted")).text).toContain("User deleted, with their keys");
  });

  it("shows an email another user has next to the field, keeping what was typed", async () => {
    const t = build({
      keys: {
        updateUser: async () => {
          throw new ApiError(409, { detail: "A user with this email already exists" });
        },
      },
    });
    const res = await t.post("/users/2", { name: "Ada", email: "taken@example.com" });
    expect(res.status).toBe(400);
    expect(res.text).toContain('data-field="email">A user with this email already exists');
    expect(res.text).toContain('value="taken@example.com"');
  });

  it("answers a user the keys API does not have with a 404 page", async () => {
    const t = build({
      keys: {
        getUser: async () => {
          throw new ApiError(404, { detail: "User not found" });
        },
      },
    });
    expect((await t.get("/users/77")).status).toBe(404);
  });

  it("deletes a key from its page, after a confirmation", async () => {
    const t = build();
    expect((await t.get("/keys/9")).text).toContain(
      '<form method="post" action="/keys/9/delete" data-confirm="Delete the key billing?',
    );
    expect((await t.post("/keys/9/delete", {})).location).toBe("/keys?done=key-deleted");
    expect(t.calls).toContainEqual(["deleteKey", 9]);
  });

  it("rotates a key and shows the new plaintext", async () => {
    const t = build();
    const res = await t.post("/keys/9/rotate", {});
    expect(res.text).toContain("ak_RotatedPLAINTEXT");
    expect(res.text).toContain("Key rotated");
  });

  it("deactivates a key, and saves limits with blanks back to the default", async () => {
    const t = build();
    expect((await t.post("/keys/9/deactivate", {})).location).toBe("/keys/9?done=deactivated");
    await t.post("/keys/9", { name: "billing", description: "", minute: "10", hour: "", day: "" });
    expect(t.calls).toEqual([
      ["updateKey", [9, { isActive: false }]],
      [
        "updateKey",
        [9, { name: "billing", description: null, rateLimits: { minute: 10, hour: null, day: null } }],
      ],
    ]);
  });

  it("finds keys by name or prefix, keeping the search and the user across pages", async () => {
    const t = build({
      keys: {
        listKeys: async (params: unknown) => {
          t.calls.push(["listKeys", params]);
          return { items: [key], nextCursor: "c2" };
        },
      } as unknown as Partial<KeysClient>,
    });
    const page = await t.get("/keys?userId=2&search=%20ak_Xy12%20");
    expect(t.calls).toContainEqual([
      "listKeys",
      { userId: 2, search: "ak_Xy12", cursor: undefined, limit: 50 },
    ]);
    expect(page.text).toContain('<input id="f-search" name="search" value="ak_Xy12"');
    expect(page.text).toContain('href="/keys?userId=2&amp;search=ak_Xy12&amp;cursor=c2">Next page »</a>');
    const second = await t.get("/keys?search=ak_Xy12&cursor=c2");
    expect(second.text).toContain('href="/keys?search=ak_Xy12">« First page</a>');
  });

  it.each([
    ["/keys", "listKeys"],
    ["/users", "listUsers"],
  ] as const)(
    "%s shows the keys API's refusal of a search instead of failing the page",
    async (path, list) => {
      const t = build({
        keys: {
          [list]: async () => {
            throw new ApiError(400, {
              detail: "Invalid query",
              errors: [{ field: "search", message: "must not contain control characters" }],
            });
          },
        },
      });
      const page = await t.get(`${path}?search=a%07b`);
      expect(page.status).toBe(200);
      expect(page.text).toContain(
        '<div class="alert-box" role="alert">search: must not contain control characters</div>',
      );
    },
  );

  it("sets a key's expiry in UTC when creating it, and changes or clears it only when the field changed", async () => {
    const t = build();
    await t.post("/keys", { userId: "2", name: "temp", expiresAt: "2030-01-31T18:30", minute: "" });
    expect(t.calls).toContainEqual([
      "createKey",
      { userId: 2, name: "temp", expiresAt: "2030-01-31T18:30:00Z", rateLimits: {} },
    ]);
    const edit = (expiresAt: string) =>
      t.post("/keys/9", { name: "billing", description: "", expiresAt, expiresWas: "2030-01-31T18:30" });
    await edit("2030-01-31T18:30");
    await edit("2030-02-28T09:00");
    await edit("");
    const bodies = t.calls
      .filter(([name]) => name === "updateKey")
      .map(([, args]) => (args as [number, { expiresAt?: string | null }])[1]);
    expect(bodies.map((body) => body.expiresAt)).toEqual([undefined, "2030-02-28T09:00:00Z", null]);
    // The key's page shows its expiry in the field, to the minute.
    const expiring = build({
      keys: {
        getKey: async () => ({ ...key, expiresAt: "2030-01-31T18:30:45.000Z" }),
      } as unknown as Partial<KeysClient>,
    });
    const page = (await expiring.get("/keys/9")).text;
    expect(page).toContain('name="expiresAt" type="datetime-local" value="2030-01-31T18:30"');
    expect(page).toContain('<input type="hidden" name="expiresWas" value="2030-01-31T18:30">');
  });

  it("shows the keys API's refusal of an expiry next to the field", async () => {
    const t = build({
      keys: {
        updateKey: async () => {
          throw fieldError("expiresAt", "must be in the future");
        },
      },
    });
    const res = await t.post("/keys/9", { name: "billing", expiresAt: "2020-01-01T00:00", expiresWas: "" });
    expect(res.status).toBe(400);
    expect(res.text).toContain('data-field="expiresAt">must be in the future');
  });

  it("keeps what was typed in a key's refused edit form, the API's reasons under it, not the stored values", async () => {
    const t = build({
      keys: {
        getKey: async () => ({ ...key, description: "stored", expiresAt: "2030-01-31T18:30:00.000Z" }),
        updateKey: async () => {
          throw new ApiError(400, {
            detail: "Invalid body",
            errors: [
              { field: "name", message: "must not be empty" },
              { field: "rateLimits.minute", message: "must be at least 1" },
              { field: "expiresAt", message: "must be in the future" },
            ],
          });
        },
      } as unknown as Partial<KeysClient>,
    });
    const res = await t.post("/keys/9", {
      name: "",
      description: 'typed <b>"here"</b>',
      expiresAt: "2020-01-01T00:00",
      expiresWas: "2030-01-31T18:30",
      minute: "0",
      hour: "",
      day: "5",
    });
    expect(res.status).toBe(400);
    const form = res.text.slice(res.text.indexOf("<h2>Edit</h2>"));
    expect(form).toContain(
      '<input id="k-name" name="name" value=""><div class="error" data-field="name">must not be empty</div>',
    );
    expect(form).toContain(
      '<input id="k-desc" name="description" value="typed &lt;b&gt;&quot;here&quot;&lt;/b&gt;">',
    );
    expect(form).toContain(
      '<input id="k-expires" name="expiresAt" type="datetime-local" value="2020-01-01T00:00" data-utc><div class="error" data-field="expiresAt">must be in the future</div>',
    );
    // The stored expiry stays what the next save compares with, so the typed one is sent again.
    expect(form).toContain('<input type="hidden" name="expiresWas" value="2030-01-31T18:30">');
    expect(form).toContain(
      '<input id="k-minute" name="minute" type="number" min="1" value="0" placeholder="default"><div class="error" data-field="rateLimits.minute">must be at least 1</div>',
    );
    expect(form).toContain(
      '<input id="k-hour" name="hour" type="number" min="1" value="" placeholder="default">',
    );
    expect(form).toContain(
      '<input id="k-day" name="day" type="number" min="1" value="5" placeholder="default">',
    );
    // A key's page not sent shows the stored values.
    const stored = (await t.get("/keys/9")).text;
    expect(stored).toContain('<input id="k-name" name="name" value="billing">');
    expect(stored).toContain(
      '<input id="k-minute" name="minute" type="number" min="1" value="100" placeholder="default">',
    );
  });

  it("shows one user's usage from their page, over the range asked for", async () => {
    const t = build();
    expect((await t.get("/users/2")).text).toContain('<a href="/usage?userId=2">');
    const page = (await t.get("/usage?userId=2&range=1h")).text;
    expect(page).toContain("<h1>Usage of Ada's keys</h1>");
    expect(page).toContain('href="/usage?userId=2&amp;range=7d"');
    await t.get("/usage");
    await t.get("/usage?userId=abc");
    expect(t.calls.filter(([name]) => name === "usageSummary").map(([, q]) => q)).toEqual([
      { from: "2026-12-03T11:00:00.000Z", to: NOW.toISOString(), limit: 20, userId: 2 },
      { from: "2026-12-02T12:00:00.000Z", to: NOW.toISOString(), limit: 20, userId: undefined },
      { from: "2026-12-02T12:00:00.000Z", to: NOW.toISOString(), limit: 20, userId: undefined },
    ]);
  });

  it("charts every key's usage per minute over an hour, between the totals and the busiest keys", async () => {
    const t = build();
    const page = (await t.get("/usage?range=1h")).text;
    expect(page).toContain('<script src="/assets/chart.umd.min.js"></script>');
    // Succeeded = requests - 5xx - 4xx; the other 4xx leave the 429s out.
    expect(page).toContain(
      '<script type="application/json" id="chart-traffic">{"type":"bar","stacked":true,"labels":["11:57","11:58","11:59"],"yTitle":"requests","datasets":[' +
        '{"label":"succeeded","data":[0,30,6],"color":"#2f5bd3"},{"label":"other 4xx","data":[0,1,1],"color":"#b26a00"},' +
        '{"label":"429 rate limited","data":[0,5,0],"color":"#7b1fa2"},{"label":"5xx errors","data":[0,4,0],"color":"#c62828"}]}</script>',
    );
    // A minute without requests has no response time: a gap in the lines, not a zero.
    expect(page).toContain(
      '<script type="application/json" id="chart-latency">{"type":"line","labels":["11:57","11:58","11:59"],"yTitle":"ms","datasets":[' +
        '{"label":"p50","data":[null,20,15.5],"color":"#2e7d32"},{"label":"p95","data":[null,310,90],"color":"#c62828"}]}</script>',
    );
    // The charts come between the totals and the busiest keys and endpoints.
    const at = [
      '<div class="cards">',
      "<h2>Requests by outcome</h2>",
      "<h2>Response time (p50 / p95)</h2>",
      "<h2>Busiest keys</h2>",
    ].map((text) => page.indexOf(text));
    expect(at).not.toContain(-1);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    // By minute the charts are exact; the keys' and endpoints' p95 is an estimate, and says so.
    expect(page).toContain(
      '<p class="muted">The busiest keys&#39; and endpoints&#39; p95 is estimated from latency histograms, within 9%.</p>',
    );
    // Asked for alongside the summary, over the same range.
    expect(t.calls.filter(([name]) => name === "usage" || name === "usageSummary")).toEqual([
      [
        "usageSummary",
        { from: "2026-12-03T11:00:00.000Z", to: NOW.toISOString(), limit: 20, userId: undefined },
      ],
      [
        "usage",
        { from: "2026-12-03T11:00:00.000Z", to: NOW.toISOString(), granularity: "minute", userId: undefined },
      ],
    ]);
  });

  it("lists the busiest keys with their p95, linked to their pages over the same range", async () => {
    const t = build({
      keys: {
        usageSummary: async () => ({
          ...emptyUsageSummary("", ""),
          requests: 12,
          topKeys: [
            { keyId: 9, name: "billing", requests: 10, errors: 2, p95ResponseTimeMs: 310.4 },
            { keyId: 4, name: null, requests: 2, errors: 0, p95ResponseTimeMs: null },
          ],
        }),
      },
    });
    const page = (await t.get("/usage?range=7d")).text;
    expect(page).toContain(
      '<tr><td data-label="Key"><a href="/keys/9?range=7d">billing</a></td><td class="num" data-label="Requests">10</td><td class="num" data-label="5xx">2</td><td class="num" data-label="p95">310 ms</td></tr>',
    );
    // A deleted key is named by its id.
    expect(page).toContain(
      '<tr><td data-label="Key"><a href="/keys/4?range=7d">#4</a></td><td class="num" data-label="Requests">2</td><td class="num" data-label="5xx">0</td><td class="num" data-label="p95">—</td></tr>',
    );
  });

  it("shows the busiest keys and endpoints as the other tables of records: a block of labelled values a row on a phone", async () => {
    const t = build({
      keys: {
        usageSummary: async () => ({
          ...emptyUsageSummary("", ""),
          requests: 12,
          topKeys: [{ keyId: 9, name: "billing", requests: 12, errors: 1, p95ResponseTimeMs: 80 }],
          topEndpoints: [
            {
              method: "GET",
              endpoint: "/api/reports/:id/export",
              requests: 12,
              errors: 1,
              p95ResponseTimeMs: 80,
            },
          ],
        }),
      },
    });
    const page = (await t.get("/usage")).text;
    expect(page).toContain(
      '<h2>Busiest keys</h2><div class="table"><table class="stack"><thead><tr><th>Key</th>',
    );
    expect(page).toContain(
      '<h2>Busiest endpoints</h2><div class="table"><table class="stack"><thead><tr><th>Endpoint</th>',
    );
    expect(page).toContain(
      '<tr><td class="mono" data-label="Endpoint">GET /api/reports/:id/export</td><td class="num" data-label="Requests">12</td><td class="num" data-label="5xx">1</td><td class="num" data-label="p95">80 ms</td></tr>',
    );
  });

  it("labels every total in words that read the same upper-cased, as the stylesheet shows them: no 429s to read as 4295", async () => {
    const t = build();
    const css = await (await t.app.request("/assets/console.css")).text();
    expect(css).toContain(".stat .l { color:var(--muted); font-size:12px; text-transform:uppercase;");
    for (const path of ["/usage", "/usage?userId=2", "/keys/9", "/reports"]) {
      const labels = [...(await t.get(path)).text.matchAll(/<div class="l">([^<]*)<\/div>/g)].map(
        (m) => m[1],
      );
      expect(labels.length).toBeGreaterThan(0);
      // A digit then an s upper-cased is a digit then an S, which reads as a 5.
      expect([path, labels.filter((label) => /\ds/i.test(label ?? ""))]).toEqual([path, []]);
    }
    expect((await t.get("/usage")).text).toContain('<div class="l">4xx errors, rate limits included</div>');
  });

  it("totals what the charts draw: from the start of the range's first bucket", async () => {
    const now = new Date("2026-12-03T12:34:56.789Z");
    const t = build({}, { now });
    await t.get("/usage?range=1h");
    await t.get("/usage?range=24h&userId=2");
    const asked = (name: string) =>
      t.calls.filter(([call]) => call === name).map(([, q]) => (q as { from: string }).from);
    expect(asked("usageSummary")).toEqual(["2026-12-03T11:34:00.000Z", "2026-12-02T12:00:00.000Z"]);
    expect(asked("usage")).toEqual(asked("usageSummary"));
  });

  it("charts one user's keys' usage per hour over a day or a week", async () => {
    const t = build();
    const page = (await t.get("/usage?userId=2&range=7d")).text;
    expect(page).toContain("<h1>Usage of Ada's keys</h1>");
    expect(page).toContain('<canvas data-chart="chart-traffic" aria-label="Requests by outcome"></canvas>');
    expect(page).toContain(
      '<canvas data-chart="chart-latency" aria-label="Response time (p50 / p95)"></canvas>',
    );
    // A week's labels carry the day.
    expect(page).toContain('"labels":["12-03 11:57","12-03 11:58","12-03 11:59"]');
    // By hour every response time is an estimate.
    expect(page).toContain(
      "Response times here are estimated from hourly latency histograms, within 9%; over 1h they are exact.",
    );
    await t.get("/usage?userId=2");
    expect(t.calls.filter(([name]) => name === "usage").map(([, query]) => query)).toEqual([
      { from: "2026-11-26T12:00:00.000Z", to: NOW.toISOString(), granularity: "hour", userId: 2 },
      { from: "2026-12-02T12:00:00.000Z", to: NOW.toISOString(), granularity: "hour", userId: 2 },
    ]);
  });

  it("shows a range without traffic: empty charts and no busiest keys", async () => {
    const hours = Array.from({ length: 24 }, (_, i) =>
      emptyUsageBucket(new Date(Date.parse("2026-12-02T12:00:00.000Z") + i * 3_600_000).toISOString()),
    );
    // Zeros in every bucket, as the keys API answers a quiet range; and no buckets at all.
    for (const buckets of [hours, []]) {
      const t = build({ keys: { usage: async () => ({ ...stackUsage, granularity: "hour", buckets }) } });
      const res = await t.get("/usage");
      expect(res.status).toBe(200);
      expect(res.text).toContain('<canvas data-chart="chart-traffic"');
      expect(res.text).toContain('<canvas data-chart="chart-latency"');
      expect(res.text).toContain(`{"label":"succeeded","data":[${buckets.map(() => 0).join(",")}]`);
      expect(res.text).toContain('<h2>Busiest keys</h2><p class="muted">No traffic in this range.</p>');
    }
  });

  it("charts 30 days of usage by day across the stack, a user's keys or one key", async () => {
    const days = ["2026-11-03", "2026-11-04"].map((day) => ({
      ...emptyUsageBucket(`${day}T00:00:00.000Z`),
      requests: 3,
    }));
    const usageAsked: unknown[] = [];
    const t = build({
      keys: {
        usage: async (query) => {
          usageAsked.push(query);
          return { ...stackUsage, granularity: "day", buckets: days };
        },
      },
    });
    const page = (await t.get("/usage?range=30d")).text;
    expect(page).toContain('<a href="/usage?range=30d" class="active">30d</a>');
    // A day's bucket is labelled by its date.
    expect(page).toContain('"labels":["11-03","11-04"]');
    expect(page).toContain('{"label":"succeeded","data":[3,3]');
    await t.get("/usage?userId=2&range=30d");
    // From the start of the day 30 days ago: at most 31 days, as the keys API allows.
    expect(usageAsked).toEqual([
      { from: "2026-11-03T00:00:00.000Z", to: NOW.toISOString(), granularity: "day", userId: undefined },
      { from: "2026-11-03T00:00:00.000Z", to: NOW.toISOString(), granularity: "day", userId: 2 },
    ]);
    expect(t.calls.filter(([name]) => name === "usageSummary").map(([, q]) => q)).toEqual([
      { from: "2026-11-03T00:00:00.000Z", to: NOW.toISOString(), limit: 20, userId: undefined },
      { from: "2026-11-03T00:00:00.000Z", to: NOW.toISOString(), limit: 20, userId: 2 },
    ]);
    // A key's page: the keys API rounds the start down to the day.
    const keyPage = (await t.get("/keys/9?range=30d")).text;
    expect(keyPage).toContain('<a href="/keys/9?range=30d" class="active">30d</a>');
    expect(keyPage).toContain(
      '<p class="muted">Response times here are estimated from hourly latency histograms, within 9%; over 1h they are exact.</p>',
    );
    expect(t.calls.filter(([name]) => name === "keyUsage").map(([, args]) => args)).toEqual([
      [9, { from: "2026-11-03T12:00:00.000Z", to: NOW.toISOString(), granularity: "day" }],
    ]);
  });

  it("charts a key's usage per minute over an hour, per hour over a day or a week", async () => {
    const t = build();
    const page = await t.get("/keys/9?range=1h");
    expect(page.text).toContain('<div class="n" id="usage-requests">10</div>');
    expect(page.text).toContain('<script src="/assets/chart.umd.min.js"></script>');
    // Chart data is inert JSON: labels, and succeeded = 10 - 2 errors - 3 client errors.
    expect(page.text).toContain('"labels":["11:58"]');
    expect(page.text).toContain('{"label":"succeeded","data":[5]');
    // Its alerts, active and past, are a click away.
    expect(page.text).toContain(
      '<dt>Alerts</dt><dd><a href="/alerts?apiKeyId=9">active</a> · <a href="/history?apiKeyId=9">history</a></dd>',
    );
    // By minute the keys service reads every request: exact response times.
    expect(page.text).not.toContain("estimated from hourly latency histograms");
    await t.get("/keys/9?range=7d");
    expect(t.calls.filter(([name]) => name === "keyUsage").map(([, args]) => args)).toEqual([
      [9, { from: "2026-12-03T11:00:00.000Z", to: NOW.toISOString(), granularity: "minute" }],
      [9, { from: "2026-11-26T12:00:00.000Z", to: NOW.toISOString(), granularity: "hour" }],
    ]);
  });
});

const customer = (id: number): UserView => ({
  id,
  email: `customer-${id}@example.com`,
  name: id === 1 ? "Demo user" : `Customer ${id}`,
  createdAt: NOW.toISOString(),
});

/**
 * A keys API with `total` users (ids 1..total): it lists them by id, a page at a time, finds
 * them by a part of their name or email, and records every user asked for by id.
 */
function withUsers(total: number, keysOfUsers: ApiKeyView[] = [], overrides: Partial<KeysClient> = {}) {
  const users = Array.from({ length: total }, (_, i) => customer(i + 1));
  const t = build({
    keys: {
      listUsers: async (
        params: { ids?: readonly number[]; search?: string; cursor?: string; limit?: number } = {},
      ) => {
        t.calls.push(["listUsers", params]);
        const text = params.search?.toLowerCase();
        const after = Number(params.cursor ?? 0);
        const found = users.filter(
          (u) =>
            u.id > after &&
            (!text || `${u.name} ${u.email}`.toLowerCase().includes(text)) &&
            (params.ids === undefined || params.ids.includes(u.id)),
        );
        const items = found.slice(0, params.limit ?? 50);
        return { items, nextCursor: found.length > items.length ? String(items.at(-1)?.id) : null };
      },
      getUser: async (id: number) => {
        t.calls.push(["getUser", id]);
        const user = users.find((u) => u.id === id);
        if (!user) throw new ApiError(404, { detail: "User not found" });
        return user;
      },
      listKeys: async (params: { userId?: number }) => {
        t.calls.push(["listKeys", params]);
        const items = keysOfUsers.filter((k) => params.userId === undefined || k.userId === params.userId);
        return { items, nextCursor: null };
      },
      ...overrides,
    } as unknown as Partial<KeysClient>,
  });
  return t;
}

/** The options of the select `id` on `page` that are selected, as `value label`. */
function selectedOptions(page: string, id: string): string[] {
  const select = new RegExp(`<select id="${id}"[^>]*>([\\s\\S]*?)</select>`).exec(page)?.[1] ?? "";
  return [...select.matchAll(/<option value="([^"]*)" selected>([^<]*)<\/option>/g)].map(
    ([, value, label]) => `${value} ${label}`,
  );
}

describe("more users than a select holds", () => {
  const keyOf106: ApiKeyView = { ...key, id: 31, userId: 106, name: "customer-106 key" };

  it("selects the user the page is about in both selects and creates the key for them, however far down the list", async () => {
    const t = withUsers(106, [keyOf106]);
    const page = (await t.get("/keys?userId=106")).text;
    expect(selectedOptions(page, "f-user")).toEqual(["106 Customer 106 (customer-106@example.com)"]);
    expect(selectedOptions(page, "k-user")).toEqual(["106 Customer 106 (customer-106@example.com)"]);
    // The select holds the first 100 and the one asked for; the page says where the others are.
    expect(t.calls).toContainEqual(["listUsers", { limit: 100 }]);
    expect(page.match(/<option value="\d+"/g)).toHaveLength(2 * 101);
    expect(page).toContain(
      '<p class="small muted more-users">This list holds the first 100 users: <a href="/users">',
    );
    expect(page).toContain('<td data-label="User"><a href="/users/106">Customer 106</a></td>');

    const created = await t.post("/keys", { userId: "106", name: "for 106", minute: "" });
    expect(t.calls).toContainEqual(["createKey", { userId: 106, name: "for 106", rateLimits: {} }]);
    // The form keeps the user for the next key, not the first in the list.
    expect(selectedOptions(created.text, "k-user")).toEqual(["106 Customer 106 (customer-106@example.com)"]);
  });

  it("keeps the user a refused form named, even beyond the first 100", async () => {
    const t = withUsers(106, [], {
      createKey: async () => {
        throw fieldError("name", "must not be empty");
      },
    });
    const res = await t.post("/keys", { userId: "105", name: "" });
    expect(res.status).toBe(400);
    expect(res.text).toContain('data-field="name">must not be empty');
    expect(selectedOptions(res.text, "k-user")).toEqual(["105 Customer 105 (customer-105@example.com)"]);
  });

  it("keeps a user the keys API does not know selected by id, rather than another user", async () => {
    const t = withUsers(106);
    const page = (await t.get("/keys?userId=999")).text;
    expect(selectedOptions(page, "f-user")).toEqual(["999 #999"]);
    expect(selectedOptions(page, "k-user")).toEqual(["999 #999"]);
  });

  it("names the users of the keys shown, asking only for those beyond the first page, and the id of one deleted", async () => {
    const keys = [2, 150, 151, 150, 999].map((userId, i) => ({ ...key, id: 40 + i, userId }));
    const t = withUsers(151, keys);
    const page = (await t.get("/keys")).text;
    const userOf = (id: number) =>
      new RegExp(`<tr data-key-id="${id}">[\\s\\S]*?<td data-label="User">(.*?)</td>`).exec(page)?.[1];
    expect([40, 41, 42, 43, 44].map(userOf)).toEqual([
      '<a href="/users/2">Customer 2</a>',
      '<a href="/users/150">Customer 150</a>',
      '<a href="/users/151">Customer 151</a>',
      '<a href="/users/150">Customer 150</a>',
      '<a href="/users/999">#999</a>',
    ]);
    // One call for the users beyond the first page.
    expect(t.calls).toContainEqual(["listUsers", { ids: [150, 151, 999], limit: 3 }]);
    expect(t.calls.filter(([name]) => name === "getUser")).toEqual([]);
    // The select holds the first 100 only: nobody is selected when the page is about nobody.
    expect(selectedOptions(page, "f-user")).toEqual([]);
  });

  it("says nothing about other users when the select holds them all", async () => {
    const page = (await withUsers(3).get("/keys")).text;
    expect(page).not.toContain("more-users");
  });
});

describe("users pages", () => {
  it("finds users by a part of their name or email, each row leading to their page", async () => {
    const t = withUsers(120);
    const page = (await t.get("/users?search=%20customer-11%20")).text;
    expect(t.calls).toContainEqual(["listUsers", { search: "customer-11", cursor: undefined, limit: 50 }]);
    expect(page).toContain('<input id="f-search" name="search" value="customer-11"');
    const rows = [...page.matchAll(/<tr data-user-id="(\d+)">/g)].map(([, id]) => Number(id));
    expect(rows).toEqual([11, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119]);
    expect(page).toContain(
      '<tr data-user-id="110"><td class="whole" data-label="#"><a href="/users/110">110</a></td><td data-label="Name"><a href="/users/110">Customer 110</a></td><td data-label="Email">customer-110@example.com</td>',
    );
    expect(page).not.toContain("Next page");
    expect((await t.get("/users?search=nobody")).text).toContain(
      "No user has “nobody” in their name or email.",
    );
  });

  it("wraps a long unbroken email anywhere rather than widen the list past the page, ids and times kept whole", async () => {
    const email = `${"a".repeat(300)}@example.com`;
    const t = build({
      keys: {
        listUsers: async () => ({
          items: [{ id: 10, email, name: "x", createdAt: NOW.toISOString() }],
          nextCursor: null,
        }),
      },
    });
    expect((await t.get("/users")).text).toContain(
      `<tr data-user-id="10"><td class="whole" data-label="#"><a href="/users/10">10</a></td><td data-label="Name"><a href="/users/10">x</a></td><td data-label="Email">${email}</td>`,
    );
    const css = await (await t.app.request("/assets/console.css")).text();
    // Every table's cells, not the users list's alone: names, endpoints, notes are the APIs' text too.
    expect(css).toContain(
      "td { overflow-wrap:anywhere; } td.num, td.whole, td time { overflow-wrap:normal; }",
    );
  });

  it("pages on with the API's cursor, keeping the search, and back to the first page", async () => {
    const t = withUsers(120);
    const first = (await t.get("/users?search=example")).text;
    expect(first.match(/<tr data-user-id=/g)).toHaveLength(50);
    expect(first).toContain('href="/users?search=example&amp;cursor=50">Next page »</a>');
    expect(first).not.toContain("First page");
    const last = (await t.get("/users?search=example&cursor=100")).text;
    expect([...last.matchAll(/<tr data-user-id="(\d+)">/g)].map(([, id]) => Number(id))).toEqual(
      Array.from({ length: 20 }, (_, i) => 101 + i),
    );
    expect(last).toContain('href="/users?search=example">« First page</a>');
    expect(last).not.toContain("Next page");
  });

  it("adds a user and opens their page, or shows an email another user has next to the field", async () => {
    const t = build();
    const added = await t.post("/users", { name: "Grace", email: "grace@example.com" });
    expect(added.location).toBe("/users/7?done=user");
    expect(t.calls).toContainEqual(["createUser", { name: "Grace", email: "grace@example.com" }]);
    const taken = build({
      keys: {
        createUser: async () => {
          throw new ApiError(409, { detail: "A user with this email already exists" });
        },
      },
    });
    const res = await taken.post("/users", { name: "Grace", email: "ada@example.com" });
    expect(res.status).toBe(400);
    expect(res.text).toContain('data-field="email">A user with this email already exists');
    expect(res.text).toContain('<input id="u-email" name="email" type="email" value="ada@example.com"');
  });

  it("creates a key for the user of the page from their page, with no user to choose, and shows its plaintext once", async () => {
    const t = withUsers(106, [keyOf(106)]);
    const page = (await t.get("/users/106")).text;
    expect(page).toContain('<form method="post" action="/users/106/keys" id="create-key">');
    expect(page).not.toContain('name="userId"');
    const res = await t.post("/users/106/keys", {
      name: "billing",
      description: "for invoices",
      expiresAt: "2030-01-31T18:30",
      minute: "50",
      hour: "",
      day: "",
    });
    expect(res.status).toBe(200);
    expect(res.location).toBeNull();
    expect(t.calls).toContainEqual([
      "createKey",
      {
        userId: 106,
        name: "billing",
        description: "for invoices",
        expiresAt: "2030-01-31T18:30:00Z",
        rateLimits: { minute: 50 },
      },
    ]);
    expect(res.text).toContain('<code id="plaintext-key">ak_Xy12abcdPLAINTEXT</code>');
    expect(res.text).toContain('<div class="notice" role="status">Key created.</div>');
    // The form is empty again, and the plaintext is not on the page the next time.
    expect(res.text).toContain('<input id="k-name" name="name" value="" required>');
    expect((await t.get("/users/106")).text).not.toContain("PLAINTEXT");
  });

  it("shows the keys API's refusals next to the fields of the user page's new key, keeping what was typed", async () => {
    const t = withUsers(106, [], {
      createKey: async () => {
        throw new ApiError(400, {
          detail: "Invalid body",
          errors: [
            { field: "rateLimits.minute", message: "must be at most 1000000" },
            { field: "expiresAt", message: "must be in the future" },
          ],
        });
      },
    });
    const res = await t.post("/users/106/keys", {
      name: "big",
      expiresAt: "2020-01-01T00:00",
      minute: "99999999",
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain(
      '<input id="k-minute" name="minute" type="number" min="1" value="99999999" placeholder="default"><div class="error" data-field="rateLimits.minute">must be at most 1000000</div>',
    );
    expect(res.text).toContain(
      '<input id="k-expires" name="expiresAt" type="datetime-local" value="2020-01-01T00:00" data-utc><div class="error" data-field="expiresAt">must be in the future</div>',
    );
    // UTC as sent; the script names the browser's zone in the label and shows its time.
    expect(res.text).toContain(
      '<label for="k-expires">Expires (<span data-time-zone>UTC</span>; optional)</label>',
    );
    expect(res.text).toContain('<input id="k-name" name="name" value="big" required>');
    expect(res.text).not.toContain('id="plaintext-key"');
    // A refusal that names no field is shown above the button.
    const vague = withUsers(106, [], {
      createKey: async () => {
        throw new ApiError(400, { detail: "Too many keys for this user" });
      },
    });
    const refused = await vague.post("/users/106/keys", { name: "one more" });
    expect(refused.text).toContain(
      '<div class="error" data-field="(body)">Too many keys for this user</div>',
    );
  });
});

const keyOf = (userId: number): ApiKeyView => ({ ...key, id: 30 + userId, userId, name: `key of ${userId}` });

describe("alerts page", () => {
  const counts = async () => ({ total: 0, bySeverity: {}, byStatus: {}, byType: {}, silenced: 0 });

  it("counts the active alerts a silence holds back, leading to the silences", async () => {
    const t = build({
      alerts: {
        counts: async () => ({ ...(await counts()), total: 4, byStatus: { firing: 4 }, silenced: 3 }),
        listActive: async () => ({ items: [], nextCursor: null }),
      } as Partial<AlertsClient>,
    });
    expect((await t.get("/alerts")).text).toContain(
      '<a class="stat " href="/silences"><div class="n">3</div><div class="l">silenced</div></a>',
    );
  });

  it("pages on with the API's cursor, keeping the filters, and back to the first page", async () => {
    const t = build({
      alerts: { counts, listActive: async () => ({ items: [], nextCursor: "c2" }) } as Partial<AlertsClient>,
    });
    const first = await t.get("/alerts?severity=critical&apiKeyId=9");
    expect(first.text).toContain('href="/alerts?severity=critical&amp;apiKeyId=9&amp;cursor=c2" rel="next"');
    const second = await t.get("/alerts?severity=critical&apiKeyId=9&cursor=c2");
    expect(second.text).toContain('href="/alerts?severity=critical&amp;apiKeyId=9">« First page</a>');
  });

  it("filters by endpoint or a pattern of them, keeping it in the form and across pages", async () => {
    const asked: unknown[] = [];
    const t = build({
      alerts: {
        counts,
        listActive: async (filters: unknown) => {
          asked.push(filters);
          return { items: [], nextCursor: "c2" };
        },
      } as Partial<AlertsClient>,
    });
    const { text } = await t.get("/alerts?endpoint=*+%2Fapi%2Fbilling%2F*");
    expect(text).toContain('<input id="f-endpoint" name="endpoint" maxlength="512" value="* /api/billing/*"');
    expect(text).toContain('href="/alerts?endpoint=*+%2Fapi%2Fbilling%2F*&amp;cursor=c2" rel="next"');
    expect(asked).toEqual([expect.objectContaining({ endpoint: "* /api/billing/*" })]);
  });

  it("names each alert's key with one call to the keys API, and shows ids when it cannot answer", async () => {
    const alert = (id: number, apiKeyId: number | null): AlertView => ({
      ...hostile,
      id,
      apiKeyId,
      message: "m",
    });
    const items = [alert(1, 9), alert(2, 9), alert(3, 12), alert(4, null)];
    const lists = {
      counts,
      listActive: async () => ({ items, nextCursor: null }),
      history: async () => ({ items, nextCursor: null }),
      get: async () => ({ ...alert(1, 9), timeline: [], deliveries: [] }),
    } as unknown as Partial<AlertsClient>;
    // Key 12 was deleted: the keys API leaves it out.
    const t = build({ alerts: lists });
    for (const path of ["/alerts", "/history"]) {
      const { text } = await t.get(path);
      expect(text).toContain('<a href="/keys/9">billing</a> <span class="muted small">#9</span>');
      expect(text).toContain('<a href="/keys/12">#12</a>');
    }
    expect((await t.get("/alerts/1")).text).toContain(
      '<dt>API key</dt><dd><a href="/keys/9">billing</a> <span class="muted small">#9</span></dd>',
    );
    expect(t.calls.filter(([name]) => name === "listKeys")).toEqual([
      ["listKeys", { ids: [9, 12], limit: 2 }],
      ["listKeys", { ids: [9, 12], limit: 2 }],
      ["listKeys", { ids: [9], limit: 1 }],
    ]);

    const down = build({
      alerts: lists,
      keys: {
        listKeys: async () => {
          throw new Error("cannot reach the keys service at http://127.0.0.1:8082: ECONNREFUSED");
        },
      },
    });
    const res = await down.get("/alerts");
    expect(res.status).toBe(200);
    expect(res.text).toContain('<a href="/keys/9">#9</a>');
    // A keys API that never answers holds the page up for a moment (NAMES_WAIT_MS), not for ever.
    const hung = build({ alerts: lists, keys: { listKeys: () => new Promise(() => {}) } });
    const slow = await hung.get("/alerts");
    expect(slow.status).toBe(200);
    expect(slow.text).toContain('<a href="/keys/9">#9</a>');
  });

  it("names the channels of an alert's timeline and deliveries, and keeps the id of one it does not know", async () => {
    const withChannels: AlertDetailView = {
      ...hostile,
      id: 8,
      message: "m",
      timeline: [
        {
          id: 1,
          at: NOW.toISOString(),
          kind: "opened",
          severity: "critical",
          observedValue: null,
          by: null,
          note: null,
          channelIds: [4, 77],
          silenceId: null,
          heldUntil: null,
        },
      ],
      deliveries: [delivery({ alertId: 8 })],
    };
    const t = build({ alerts: { get: async () => withChannels } as unknown as Partial<AlertsClient> });
    const { text } = await t.get("/alerts/8");
    expect(text).toContain(
      '<td data-label="Channels"><a href="/channels/4">ops slack</a> <span class="muted small">#4</span>, <a href="/channels/77">#77</a></td>',
    );
    expect(text).toContain(
      '<td data-label="Channel"><a href="/channels/4">ops slack</a> <span class="muted small">#4</span></td>',
    );
  });

  it("shows why an acknowledgement was refused on the alert's page", async () => {
    const resolved = {
      ...hostile,
      id: 5,
      type: "error_rate",
      severity: "critical",
      status: "resolved",
      message: "m",
      observedValue: 0.2,
      threshold: 0.1,
      timeline: [],
      deliveries: [],
    };
    const t = build({
      alerts: {
        get: async () => resolved,
        acknowledge: async () => {
          throw new ApiError(409, { detail: "Alert is resolved and cannot be acknowledged" });
        },
      } as unknown as Partial<AlertsClient>,
    });
    const res = await t.post("/alerts/5/acknowledge", { note: "late" });
    expect(res.status).toBe(400);
    expect(res.text).toContain(
      '<div class="alert-box" role="alert">Alert is resolved and cannot be acknowledged</div>',
    );
  });

  it("keeps the name and note typed in a refused acknowledgement, as text", async () => {
    const t = build({
      alerts: {
        get: async () => ({ ...hostile, timeline: [], deliveries: [] }),
        acknowledge: async () => {
          throw fieldError("note", "must be at most 2000 characters");
        },
      } as unknown as Partial<AlertsClient>,
    });
    const res = await t.post("/alerts/7/acknowledge", {
      by: 'ada "<b>"',
      note: "restarted </textarea><b>x</b>\nline 2",
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain(
      '<div class="alert-box" role="alert">note: must be at most 2000 characters</div>',
    );
    expect(res.text).toContain(
      '<input id="ack-by" name="by" maxlength="200" value="ada &quot;&lt;b&gt;&quot;">',
    );
    expect(res.text).toContain(
      'placeholder="What you found, what you did">restarted &lt;/textarea&gt;&lt;b&gt;x&lt;/b&gt;\nline 2</textarea>',
    );
    // Not sent, the form is empty.
    expect((await t.get("/alerts/7")).text).toContain(
      '<input id="ack-by" name="by" maxlength="200" value=""></div></div>\n<div class="field"><label for="ack-note">Note (optional)</label><textarea id="ack-note" name="note" maxlength="2000" placeholder="What you found, what you did"></textarea>',
    );
  });

  it("shows the API's refusal of a filter instead of failing the page", async () => {
    const t = build({
      alerts: {
        counts,
        listActive: async () => {
          throw new ApiError(400, {
            detail: "Invalid query",
            errors: [{ field: "type", message: "must be one of …" }],
          });
        },
      } as Partial<AlertsClient>,
    });
    const res = await t.get("/alerts?type=nonsense");
    expect(res.status).toBe(200);
    expect(res.text).toContain('<div class="alert-box" role="alert">type: must be one of …</div>');
  });
});

describe("acknowledging several alerts from the list", () => {
  const counts = async () => ({ total: 3, bySeverity: {}, byStatus: {}, byType: {}, silenced: 0 });
  const items: AlertView[] = [
    { ...hostile, id: 12, message: "slow upstream" },
    {
      ...hostile,
      id: 13,
      status: "acknowledged",
      message: "slow upstream",
      acknowledgedAt: NOW.toISOString(),
    },
    { ...hostile, id: 14, message: "slow upstream", silencedBy: 3 },
  ];
  type Answer = Awaited<ReturnType<AlertsClient["acknowledgeMany"]>>;
  const nothing: Answer = { acknowledged: [], alreadyAcknowledged: [], resolved: [], notFound: [] };
  function withList(
    answer: (body: { ids: number[] }) => Answer = ({ ids }) => ({ ...nothing, acknowledged: ids }),
  ) {
    const t = build({
      alerts: {
        counts,
        listActive: async (filter: { type?: string } = {}) => ({
          items: items.filter((a) => filter.type === undefined || a.type === filter.type),
          nextCursor: "c2",
        }),
        history: async () => ({ items, nextCursor: null }),
        acknowledgeMany: async (body: { ids: number[] }) => {
          t.calls.push(["acknowledgeMany", body]);
          return answer(body);
        },
      } as unknown as Partial<AlertsClient>,
    });
    return t;
  }
  const row = (text: string, id: number) =>
    text.slice(text.indexOf(`data-alert-id="${id}"`)).split("</tr>")[0];
  const acknowledgeCalls = (t: ReturnType<typeof build>) =>
    t.calls.filter(([name]) => name === "acknowledgeMany");

  it("offers a labelled checkbox on each firing row only, joined to a form outside the refreshed region that keeps the filters", async () => {
    const t = withList();
    const { text } = await t.get("/alerts?severity=critical&apiKeyId=3");
    for (const id of [12, 14]) {
      expect(row(text, id)).toContain(
        `<td class="select"><label class="tick"><input type="checkbox" name="ids" value="${id}" form="acknowledge-selected" ><span class="visually-hidden">Select alert ${id}</span></label></td>`,
      );
    }
    expect(row(text, 13)).toContain('<td class="select"></td>');
    expect(row(text, 13)).not.toContain("checkbox");
    // "Select all" waits for the console script; it names no field, so the form never sends it.
    expect(text).toContain(
      '<th class="select"><label class="tick" hidden><input type="checkbox" data-select-all><span class="visually-hidden">Select all firing alerts shown</span></label></th>',
    );
    const form = text.slice(text.indexOf('<form id="acknowledge-selected"'), text.indexOf('<div id="live"'));
    expect(form).toContain(
      '<form id="acknowledge-selected" class="bulk" method="post" action="/alerts/acknowledge?severity=critical&amp;apiKeyId=3" data-joined-by-boxes><input type="hidden" name="_csrf"',
    );
    expect(form).toContain('<input id="bulk-note" name="note" maxlength="2000" value=""');
    expect(form).toContain('<input id="bulk-by" name="by" maxlength="200" value="">');
    expect(form).toContain('<button type="submit">Acknowledge selected</button>');
    // A list with nothing firing hides the form until a refresh brings a row to tick.
    const quiet = (await t.get("/alerts?type=usage_spike")).text;
    expect(quiet).toContain("data-joined-by-boxes hidden>");
    // No checkbox elsewhere: not in the history, nor in a list of acknowledged alerts.
    for (const path of ["/history", "/alerts?status=acknowledged"]) {
      const other = (await t.get(path)).text;
      expect(other).not.toContain('type="checkbox"');
      expect(other).not.toContain("acknowledge-selected");
    }
  });

  it("acknowledges the ticked alerts with the note and name, and back on the list says what became of each, keeping the filters", async () => {
    const t = withList(() => ({
      acknowledged: [12, 14, 20],
      alreadyAcknowledged: [13],
      resolved: [15],
      notFound: [],
    }));
    const res = await t.post(
      "/alerts/acknowledge?type=response_time&severity=critical&status=firing&apiKeyId=3&cursor=c2",
      {
        ids: ["14", "12", "13", "15", "20", "12"],
        note: "  Upstream <b>GC</b> pause; on it \n",
        by: " ada ",
      },
    );
    expect(res).toMatchObject({
      status: 303,
      location:
        "/alerts?type=response_time&severity=critical&status=firing&apiKeyId=3&done=acknowledged&acknowledged=3&alreadyAcknowledged=1&resolved=1",
    });
    expect(acknowledgeCalls(t)).toEqual([
      ["acknowledgeMany", { ids: [12, 13, 14, 15, 20], by: "ada", note: "Upstream <b>GC</b> pause; on it" }],
    ]);
    const { text } = await t.get(res.location as string);
    expect(text).toContain(
      '<div class="notice" role="status">3 alerts acknowledged; 1 had been acknowledged already; 1 had resolved meanwhile.</div>',
    );
    // The notice stays out of the pages the list links to.
    expect(text).toContain(
      'href="/alerts?type=response_time&amp;severity=critical&amp;status=firing&amp;apiKeyId=3&amp;cursor=c2" rel="next"',
    );
    expect(text).toContain(
      'action="/alerts/acknowledge?type=response_time&amp;severity=critical&amp;status=firing&amp;apiKeyId=3"',
    );

    // Without a name or a note, neither is sent; one alert, and one that was not found.
    const one = withList(() => ({ ...nothing, acknowledged: [12], notFound: [99] }));
    const second = await one.post("/alerts/acknowledge", { ids: ["12", "99"], note: " ", by: "" });
    expect(second.location).toBe("/alerts?done=acknowledged&acknowledged=1&notFound=1");
    expect(acknowledgeCalls(one)).toEqual([["acknowledgeMany", { ids: [12, 99] }]]);
    expect((await one.get(second.location as string)).text).toContain(
      '<div class="notice" role="status">1 alert acknowledged; 1 was not found.</div>',
    );
    const late = withList(() => ({ ...nothing, resolved: [12, 14] }));
    const third = await late.post("/alerts/acknowledge", { ids: ["12", "14"] });
    expect((await late.get(third.location as string)).text).toContain(
      '<div class="notice" role="status">No alerts acknowledged; 2 had resolved meanwhile.</div>',
    );
  });

  it("says that no alert was ticked, on the list with the filters and what was typed, without calling the API", async () => {
    const t = withList();
    const res = await t.post("/alerts/acknowledge?severity=critical", { note: "on it", by: "ada" });
    expect(res.status).toBe(400);
    expect(res.text).toContain(
      '<div class="alert-box" role="alert">No alert selected: tick the firing alerts to acknowledge first.</div>',
    );
    expect(res.text).toContain('<option value="critical" selected>critical</option>');
    expect(res.text).toContain('<input id="bulk-note" name="note" maxlength="2000" value="on it"');
    expect(res.text).toContain('<input id="bulk-by" name="by" maxlength="200" value="ada">');
    // Its address is the form's: the page does not refresh itself from it.
    expect(res.text).toContain('<body data-refresh="0">');
    expect(acknowledgeCalls(t)).toEqual([]);
  });

  it("refuses ids that are not alert ids and shows a hostile note as text, without calling the API", async () => {
    const t = withList();
    for (const ids of [["12", "12); DROP TABLE alerts"], ["0"], ["-3"], ["1.5"], ["99999999999999999999"]]) {
      const res = await t.post("/alerts/acknowledge", { ids, note: '"><script>alert(1)</script>' });
      expect(res.status).toBe(400);
      expect(res.text).toContain(
        '<div class="alert-box" role="alert">Nothing was acknowledged: the selection must be alert ids, whole numbers.</div>',
      );
      expect(res.text).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
      expect(res.text).not.toContain("<script>alert(1)");
    }
    // What was ticked and is on the list stays ticked.
    const res = await t.post("/alerts/acknowledge", { ids: ["14", "x<b>"] });
    expect(row(res.text, 14)).toContain('value="14" form="acknowledge-selected" checked>');
    expect(row(res.text, 12)).toContain('value="12" form="acknowledge-selected" >');
    expect(acknowledgeCalls(t)).toEqual([]);
  });

  it("shows the API's refusal on the list, keeping the ticks and the note: more alerts than it takes at once", async () => {
    const t = withList(() => {
      throw fieldError("ids", "may name at most 500 alerts");
    });
    const ids = Array.from({ length: 501 }, (_, i) => String(i + 1));
    const res = await t.post("/alerts/acknowledge?type=response_time", { ids, note: "storm" });
    expect(res.status).toBe(400);
    expect(res.text).toContain(
      '<div class="alert-box" role="alert">Nothing was acknowledged: ids: may name at most 500 alerts</div>',
    );
    expect(row(res.text, 12)).toContain("checked>");
    expect(res.text).toContain('value="storm"');
    expect(acknowledgeCalls(t)).toHaveLength(1);
  });

  it("needs the session and the CSRF token, as every form does", async () => {
    const t = withList();
    const { cookie } = await signIn(t.app);
    const bare = await t.app.request("/alerts/acknowledge", form({ ids: "12" }));
    expect(bare.status).toBe(401);
    for (const token of [undefined, "AAAA"]) {
      const refused = await t.app.request("/alerts/acknowledge", {
        ...form({ ids: "12", ...(token && { _csrf: token }) }),
        headers: { "content-type": "application/x-www-form-urlencoded", cookie },
      });
      expect(refused.status).toBe(403);
      expect(await refused.text()).toContain("security token");
    }
    expect(acknowledgeCalls(t)).toEqual([]);
  });
});

describe("history, reports and failures", () => {
  it("asks for whole UTC days, the end day included, resolved alerts by default", async () => {
    const t = build();
    await t.get("/history?from=2026-12-01&to=2026-12-02&type=error_rate");
    expect(t.calls).toEqual([
      [
        "history",
        {
          type: "error_rate",
          severity: undefined,
          status: "resolved",
          apiKeyId: undefined,
          cursor: undefined,
          limit: 50,
          from: "2026-12-01T00:00:00.000Z",
          to: "2026-12-03T00:00:00.000Z",
        },
      ],
    ]);
  });

  it("reports durations in words and charts alerts per day by type and severity", async () => {
    const t = build();
    const page = await t.get("/reports");
    expect(page.text).toContain("90 s");
    expect(page.text).toContain("2.0 h");
    expect(page.text).toContain('id="chart-by-type"');
    expect(page.text).toContain('{"label":"critical","data":[1],"color":"#c62828"}');
  });

  it("lists the endpoints with most alerts, each with a link to set its own thresholds", async () => {
    const text = (await build().get("/reports")).text;
    const section = text.slice(text.indexOf("Endpoints with most alerts"));
    expect(section).toContain('<td class="mono" data-label="Endpoint">GET /api/reports/:id/export</td>');
    expect(section).toContain('<td class="num" data-label="Self-resolved">2</td>');
    expect(section).toContain(
      '<a href="/settings?endpoint=GET+%2Fapi%2Freports%2F%3Aid%2Fexport#overrides">Set thresholds</a>',
    );
  });

  it("names the keys with most alerts, keeping the id of a key the keys API no longer has", async () => {
    const named = build();
    expect((await named.get("/reports")).text).toContain(
      '<a href="/keys/9">billing</a> <span class="muted small">#9</span>',
    );
    expect(named.calls.filter(([name]) => name === "listKeys")).toEqual([
      ["listKeys", { ids: [9], limit: 1 }],
    ]);
    const gone = build({ keys: { listKeys: async () => ({ items: [], nextCursor: null }) } });
    expect((await gone.get("/reports")).text).toContain('<a href="/keys/9">#9</a>');
  });

  const throws = (error: Error) => async () => {
    throw error;
  };

  it.each([
    {
      name: "answers 502 with the reason, never a stack, when an API cannot be reached",
      failing: {
        keys: {
          listKeys: throws(new Error("cannot reach the keys service at http://127.0.0.1:8082: ECONNREFUSED")),
        },
      },
      path: "/keys",
      status: 502,
      shown: "cannot reach the keys service",
      hidden: /at .*\.ts:\d+/,
    },
    {
      name: "answers 500 with a plain sentence for an unexpected error",
      failing: { alerts: { report: throws(new TypeError("boom")) } },
      path: "/reports",
      status: 500,
      shown: "Something went wrong",
      hidden: "boom",
    },
  ])("$name", async ({ failing, path, status, shown, hidden }) => {
    const res = await build(failing).get(path);
    expect(res.status).toBe(status);
    expect(res.text).toContain(shown);
    expect(res.text).not.toMatch(hidden);
  });
});

describe("silences page", () => {
  const HOUR_MS = 3_600_000;
  const rowOf = (text: string, id: number) =>
    text.slice(
      text.indexOf(`<tr id="silence-${id}"`),
      text.indexOf("</tr>", text.indexOf(`<tr id="silence-${id}"`)),
    );

  it("lists the active and pending silences by what they match, naming keys, and the recently expired below", async () => {
    const t = build();
    const { status, text } = await t.get("/silences");
    expect(status).toBe(200);
    expect(text).toContain('<a href="/silences" class="active">Silences</a>');
    expect(rowOf(text, 3)).toContain(
      '<td data-label="Matches"><span>type <strong>Error rate</strong> · key <a href="/keys/9">billing</a> <span class="muted small">#9</span> · endpoint <span class="mono">GET /x</span> · any client</span></td>',
    );
    expect(rowOf(text, 3)).toContain('<td class="num" data-label="Open alerts">4</td>');
    expect(rowOf(text, 5)).toContain('<td class="num" data-label="Open alerts">0</td>');
    expect(rowOf(text, 3)).toContain('<td data-label="By">ada</td>');
    expect(rowOf(text, 3)).toContain(
      '<time datetime="2026-12-03T13:00:00.000Z">2026-12-03 13:00:00 UTC</time>',
    );
    expect(rowOf(text, 5)).toContain(
      '<td data-label="Matches"><span>any type · any key · any endpoint · any client</span></td>',
    );
    expect(rowOf(text, 5)).toContain('<span class="badge pending">pending</span>');
    // The current ones can be ended, after a confirmation; the expired one cannot.
    for (const id of [3, 5]) {
      expect(rowOf(text, id)).toContain(
        `<form method="post" action="/silences/${id}/end" data-confirm="End silence #${id} now? Notifications about the alerts it matches resume."><input type="hidden" name="_csrf"`,
      );
    }
    const expired = text.slice(text.indexOf("<h2>Recently expired</h2>"));
    expect(rowOf(expired, 2)).toContain('client <span class="mono">203.0.113.7</span>');
    expect(rowOf(expired, 2)).toContain('<span class="badge expired">expired</span>');
    expect(rowOf(expired, 2)).not.toContain("End now");
    expect(rowOf(expired, 2)).toContain('<td class="num" data-label="Open alerts"></td>');
    expect(t.calls.filter(([name]) => name === "listSilences" || name === "listKeys")).toEqual([
      ["listSilences", { limit: 100 }],
      ["listSilences", { state: "expired", limit: 20 }],
      ["listKeys", { ids: [9], limit: 1 }],
    ]);
  });

  it("shows a comment with markup as text", async () => {
    const { text } = await build().get("/silences");
    expect(text).toContain(
      '<td class="message" data-label="Comment">&lt;img src=x onerror=&quot;alert(1)&quot;&gt; deploy</td>',
    );
    expect(text).not.toContain("<img src=x");
  });

  it("fills in the new silence's form from the link's query", async () => {
    const { text } = await build().get(
      "/silences?type=usage_spike&apiKeyId=9&endpoint=GET%20%2Fapi%2Fusers%2F%3Aid&clientIp=10.0.0.1",
    );
    expect(text).toContain('<option value="usage_spike" selected>Usage spike</option>');
    expect(text).toContain('name="apiKeyId" type="number" min="1" value="9"');
    expect(text).toContain('name="endpoint" value="GET /api/users/:id"');
    expect(text).toContain(
      '<div class="small muted hint" id="s-endpoint-help"><span class="mono">*</span> stands for any run of characters',
    );
    expect(text).toContain('name="clientIp" value="10.0.0.1"');
    // Two hours unless another duration is chosen.
    expect(text).toContain('<option value="2h" selected>2 hours</option>');
  });

  it("creates a silence ending the chosen duration from now, and says so after the redirect", async () => {
    const t = build();
    const created = await t.post("/silences", {
      type: "error_rate",
      apiKeyId: "9",
      endpoint: " GET /x ",
      clientIp: "",
      duration: "3d",
      comment: "deploy of billing",
      createdBy: "",
    });
    expect(created).toMatchObject({ status: 303, location: "/silences?done=created" });
    await t.post("/silences", { clientIp: "203.0.113.7", comment: "noisy scanner", createdBy: "ada" });
    expect(t.calls.filter(([name]) => name === "createSilence")).toEqual([
      [
        "createSilence",
        {
          type: "error_rate",
          apiKeyId: 9,
          endpoint: "GET /x",
          endsAt: new Date(NOW.getTime() + 72 * HOUR_MS).toISOString(),
          comment: "deploy of billing",
        },
      ],
      [
        "createSilence",
        {
          clientIp: "203.0.113.7",
          endsAt: new Date(NOW.getTime() + 2 * HOUR_MS).toISOString(),
          comment: "noisy scanner",
          createdBy: "ada",
        },
      ],
    ]);
    expect((await t.get("/silences?done=created")).text).toContain(
      '<div class="notice" role="status">Silence created:',
    );
  });

  it("shows the API's refusals next to their fields with 400, keeping what was typed", async () => {
    const t = build({
      alerts: {
        createSilence: async () => {
          throw new ApiError(400, {
            detail: "Invalid body",
            errors: [
              { field: "comment", message: "must not be empty" },
              { field: "endsAt", message: "must be in the future" },
            ],
          });
        },
      },
    });
    const res = await t.post("/silences", { endpoint: "GET /x", duration: "8h", comment: "" });
    expect(res.status).toBe(400);
    expect(res.text).toContain('<div class="error" data-field="comment">must not be empty</div>');
    expect(res.text).toContain('<div class="error" data-field="endsAt">must be in the future</div>');
    expect(res.text).toContain('name="endpoint" value="GET /x"');
    expect(res.text).toContain('<option value="8h" selected>8 hours</option>');
  });

  it("refuses a key id that is not a number and a duration it does not offer, without calling the API", async () => {
    const t = build();
    const res = await t.post("/silences", { apiKeyId: "billing", duration: "99y", comment: "x" });
    expect(res.status).toBe(400);
    expect(res.text).toContain(
      '<div class="error" data-field="apiKeyId">must be a key id, a whole number</div>',
    );
    expect(res.text).toContain(
      '<div class="error" data-field="duration">must be one of the durations offered</div>',
    );
    expect(t.calls.filter(([name]) => name === "createSilence")).toEqual([]);
  });

  it("ends a silence now and says so after the redirect", async () => {
    const t = build();
    expect(await t.post("/silences/3/end", {})).toMatchObject({
      status: 303,
      location: "/silences?done=ended",
    });
    expect(t.calls).toEqual([["endSilence", 3]]);
    expect((await t.get("/silences?done=ended")).text).toContain("Silence ended: notifications");
  });

  it("extends a silence by an hour from its end, and says why when the API refuses", async () => {
    const t = build();
    const { text } = await t.get("/silences");
    expect(text).toContain('<form method="post" action="/silences/3/extend">');
    expect(text).toContain('<form method="post" action="/silences/5/extend">');
    expect(text).not.toContain('action="/silences/2/extend"');
    expect(await t.post("/silences/3/extend", {})).toMatchObject({
      status: 303,
      location: "/silences?done=extended",
    });
    expect(t.calls).toContainEqual(["updateSilence", [3, { endsAt: "2026-12-03T14:00:00.000Z" }]]);

    // Its end already passed by the page's clock: an hour from now, and the API's refusal shown.
    const late = build({
      alerts: {
        getSilence: async () => silence(4, { endsAt: "2026-12-03T11:30:00.000Z" }),
        updateSilence: async (id: number, patch: unknown) => {
          expect([id, patch]).toEqual([4, { endsAt: "2026-12-03T13:00:00.000Z" }]);
          throw new ApiError(409, { detail: "Silence is over: create a new one" });
        },
      } as unknown as Partial<AlertsClient>,
    });
    const refused = await late.post("/silences/4/extend", {});
    expect(refused.status).toBe(400);
    expect(refused.text).toContain("Silence #4 was not extended: Silence is over: create a new one");
  });
});

/**
 * The console whose active alerts are `first` (id 1) and a plain one (id 2); `row(id)` is that
 * alert's row of the alerts list.
 */
async function alertsListOf(first: Partial<AlertView>, alerts: Partial<AlertsClient> = {}) {
  const t = build({
    alerts: {
      counts: async () => ({ total: 2, bySeverity: {}, byStatus: {}, byType: {} }),
      listActive: async () => ({
        items: [
          { ...hostile, id: 1, ...first },
          { ...hostile, id: 2 },
        ],
        nextCursor: null,
      }),
      ...alerts,
    } as unknown as Partial<AlertsClient>,
  });
  const { text } = await t.get("/alerts");
  const row = (id: number) => text.slice(text.indexOf(`data-alert-id="${id}"`)).split("</tr>")[0];
  return { t, row };
}

describe("silenced alerts", () => {
  it("marks the alerts a silence holds back in the list", async () => {
    const { row } = await alertsListOf({ silencedBy: 3 });
    expect(row(1)).toContain(
      '<td><span class="badge firing">firing</span> <span class="badge silenced" title="Not notified: held back by silence #3">silenced</span></td>',
    );
    expect(row(2)).not.toContain("silenced");
  });

  it("names the silence holding an alert back and links to a silence of alerts like it", async () => {
    const silenced: AlertDetailView = {
      ...hostile,
      silencedBy: 3,
      clientIp: null,
      timeline: [
        {
          id: 1,
          at: NOW.toISOString(),
          kind: "opened",
          severity: "critical",
          observedValue: 2.5,
          by: null,
          note: null,
          channelIds: [],
          silenceId: 3,
          heldUntil: null,
        },
        {
          id: 2,
          at: NOW.toISOString(),
          kind: "released",
          severity: "critical",
          observedValue: null,
          by: null,
          note: null,
          channelIds: [4],
          silenceId: null,
          heldUntil: null,
        },
      ],
      deliveries: [],
    };
    const t = build({ alerts: { get: async () => silenced } as unknown as Partial<AlertsClient> });
    const { text } = await t.get("/alerts/7");
    expect(text).toContain(
      '<dt>Silenced</dt><dd id="silenced-by">by <a href="/silences#silence-3">silence #3</a> until <time datetime="2026-12-03T13:00:00.000Z">2026-12-03 13:00:00 UTC</time>: <span class="message">&lt;img src=x onerror=&quot;alert(1)&quot;&gt; deploy</span>. Not notified while it lasts.</dd>',
    );
    expect(t.calls).toContainEqual(["getSilence", 3]);
    // The alert's scope, the fields it has: no client IP.
    const link =
      /<a class="button secondary" href="([^"]+)" id="silence-like-this">Silence alerts like this<\/a>/.exec(
        text,
      )?.[1];
    expect(link).toBe("/silences?type=response_time&amp;apiKeyId=3&amp;endpoint=%2Fusers%2F%3Aid");
    const form = (await t.get(link?.replaceAll("&amp;", "&") as string)).text;
    expect(form).toContain('<option value="response_time" selected>Response time</option>');
    expect(form).toContain('name="apiKeyId" type="number" min="1" value="3"');
    expect(form).toContain('name="endpoint" value="/users/:id"');
    expect(form).toContain('name="clientIp" value=""');
    // The timeline says which silence held an event back, and what a release is.
    expect(text).toContain(
      '<td data-label="Channels"><span>held by <a href="/silences#silence-3">silence #3</a></span></td>',
    );
    expect(text).toContain('<td data-label="Event">released: its silence ended</td>');
    expect(text).toContain("No notification was sent for this alert (a silence held it back).");
  });

  it("links an acknowledged alert to the audit log, which names who acknowledged it", async () => {
    const acknowledgement = {
      at: NOW.toISOString(),
      kind: "acknowledged",
      severity: "critical",
      observedValue: null,
      by: "ann",
      note: "on it",
      channelIds: [],
      silenceId: null,
      heldUntil: null,
    };
    const withTimeline = (timeline: unknown[]) =>
      build({
        alerts: {
          get: async () => ({ ...hostile, timeline, deliveries: [] }),
        } as unknown as Partial<AlertsClient>,
      });
    const acknowledged = (await withTimeline([acknowledgement]).get(`/alerts/${hostile.id}`)).text;
    expect(acknowledged).toContain(
      `<a href="/activity?targetType=alert&amp;targetId=${hostile.id}" id="alert-changes">the audit log</a>`,
    );
    expect((await withTimeline([]).get(`/alerts/${hostile.id}`)).text).not.toContain("alert-changes");
  });

  it("still names the silence by its id when it cannot be read", async () => {
    const t = build({
      alerts: {
        get: async () => ({ ...hostile, silencedBy: 3, timeline: [], deliveries: [] }),
        getSilence: async () => {
          throw new Error("cannot reach the alerts service");
        },
      } as unknown as Partial<AlertsClient>,
    });
    const res = await t.get("/alerts/7");
    expect(res.status).toBe(200);
    expect(res.text).toContain(
      '<dt>Silenced</dt><dd id="silenced-by">by <a href="/silences#silence-3">silence #3</a>. Not notified while it lasts.</dd>',
    );
  });
});

describe("alerts held for their group", () => {
  it("marks a held alert in the list and says until when on its page", async () => {
    const heldUntil = "2026-12-03T12:05:00.000Z";
    const { t, row } = await alertsListOf({ heldUntil }, {
      get: async () => ({ ...hostile, heldUntil, timeline: [], deliveries: [] }),
    } as unknown as Partial<AlertsClient>);
    expect(row(1)).toContain(
      '<span class="badge held" title="Not notified yet: held back to go with the others of its type and endpoint">held</span>',
    );
    expect(row(2)).not.toContain("held");
    const page = (await t.get("/alerts/7")).text;
    expect(page).toContain(
      '<dt>Held</dt><dd id="held-until">until <time datetime="2026-12-03T12:05:00.000Z">2026-12-03 12:05:00 UTC</time>: an alert of its type and endpoint was notified shortly before',
    );
    expect(page).toContain(
      '<div class="card muted" id="no-deliveries">Not notified yet: it waits to go with the others of its type and endpoint (see Held above).</div>',
    );
  });

  it("says a resolved alert's resolution waits for its group", async () => {
    const t = build({
      alerts: {
        get: async () => ({
          ...hostile,
          status: "resolved",
          heldUntil: "2026-12-03T12:05:00.000Z",
          timeline: [],
          deliveries: [],
        }),
      } as unknown as Partial<AlertsClient>,
    });
    expect((await t.get("/alerts/7")).text).toContain(
      "2026-12-03 12:05:00 UTC</time>: another resolution of its type and endpoint was told shortly before, so its resolution goes then",
    );
  });

  it("says an alert's rise in severity waits for its group, in the list and on its page", async () => {
    const heldUntil = "2026-12-03T12:05:00.000Z";
    const rising = { heldUntil, status: "acknowledged" as const, lastNotifiedAt: "2026-12-03T11:58:00.000Z" };
    const { t, row } = await alertsListOf(rising, {
      get: async () => ({ ...hostile, ...rising, timeline: [], deliveries: [] }),
    } as unknown as Partial<AlertsClient>);
    expect(row(1)).toContain(
      '<span class="badge held" title="Its rise in severity is held back to go with the others of its type and endpoint">held</span>',
    );
    expect((await t.get("/alerts/7")).text).toContain(
      "2026-12-03 12:05:00 UTC</time>: another alert of its type and endpoint rose in severity shortly before, so its rise to critical goes then, in one message with the others rising meanwhile.",
    );
  });

  it("says in the timeline until when an event was held for its group", async () => {
    const event = {
      id: 1,
      at: NOW.toISOString(),
      kind: "escalated" as const,
      severity: "critical" as const,
      observedValue: 6,
      by: null,
      note: null,
      channelIds: [],
      silenceId: null,
      heldUntil: "2026-12-03T12:05:00.000Z",
    };
    const t = build({
      alerts: {
        get: async () => ({ ...hostile, timeline: [event], deliveries: [] }),
      } as unknown as Partial<AlertsClient>,
    });
    expect((await t.get("/alerts/7")).text).toContain(
      '<td data-label="Channels"><span class="muted">held for its group until <time datetime="2026-12-03T12:05:00.000Z">2026-12-03 12:05:00 UTC</time></span></td>',
    );
  });

  it("names the grouped notification in the timeline and the message it went in among the deliveries", async () => {
    const grouped: AlertDetailView = {
      ...hostile,
      timeline: [
        {
          id: 1,
          at: NOW.toISOString(),
          kind: "grouped",
          severity: "critical",
          observedValue: null,
          by: null,
          note: null,
          channelIds: [4],
          silenceId: null,
          heldUntil: null,
        },
      ],
      deliveries: [delivery({ alertId: 5, otherAlertIds: [6, 7], responseCode: 250 })],
    };
    const t = build({ alerts: { get: async () => grouped } as unknown as Partial<AlertsClient> });
    const { text } = await t.get("/alerts/7");
    expect(text).toContain(
      '<td data-label="Event">notified with the others of its type and endpoint held back</td>',
    );
    expect(text).toContain(
      '<span class="muted small">(one message about 3 alerts, alert <a href="/alerts/5">#5</a> first)</span>',
    );
    expect(text).not.toContain("No notification was sent");
  });

  it("takes the group interval from the settings form", () => {
    const form: Record<string, unknown> = {};
    for (const g of SETTINGS_GROUPS) for (const f of g.fields) form[f.path] = "7";
    form.groupIntervalSeconds = "0";
    const { document, errors } = settingsFromForm(form);
    expect(errors).toEqual([]);
    expect(document).toMatchObject({ groupIntervalSeconds: 0 });
  });
});

describe("activity page", () => {
  /** The row of one change of the page. */
  const rowOf = (text: string, id: number) =>
    text.slice(text.indexOf(`<tr data-audit-id="${id}">`)).split("</tr>")[0] as string;

  it("lists acknowledgements with the alert linked, and offers alerts as a target to filter by", async () => {
    const acknowledged = auditEvent(43, {
      action: "alert.acknowledged",
      targetType: "alert",
      targetId: 17,
      summary: 'acknowledged critical response_time alert 17 (key 9, GET /users/:id) as "ann"',
      changes: { status: { from: "firing", to: "acknowledged" } },
    });
    const t = build({ alerts: { listAudit: async () => ({ items: [acknowledged], nextCursor: null }) } });
    const text = (await t.get("/activity")).text;
    expect(rowOf(text, 43)).toContain(
      '<td data-label="Target"><span><a href="/alerts/17">alert #17</a> <a class="muted small" href="/activity?targetType=alert&amp;targetId=17" title="Only the changes of alert #17">its changes</a></span></td>',
    );
    expect(text).toContain('<option value="alert" >Alert</option>');
  });

  it("lists the changes newest first: when, what was changed, the target linked, the source and the address", async () => {
    const t = build();
    const res = await t.get("/activity");
    expect(res.status).toBe(200);
    expect(res.text).toContain('<a href="/activity" class="active">Activity</a>');
    expect([...res.text.matchAll(/<tr data-audit-id="(\d+)">/g)].map(([, id]) => Number(id))).toEqual([
      42, 41, 40, 39, 38,
    ]);
    expect(t.calls).toEqual([
      [
        "listAudit",
        {
          targetType: undefined,
          targetId: undefined,
          action: undefined,
          source: undefined,
          cursor: undefined,
          limit: 50,
        },
      ],
    ]);
    const deactivated = rowOf(res.text, 42);
    expect(deactivated).toContain(
      '<td data-label="When"><time datetime="2026-12-03T11:58:00.000Z">2026-12-03 11:58:00 UTC</time></td>',
    );
    expect(deactivated).toContain(
      '<span class="message">Key billing deactivated</span> <a class="muted small mono" href="/activity?action=key.deactivated" title="Only key.deactivated">key.deactivated</a>',
    );
    expect(deactivated).toContain(
      '<ul class="changes"><li><span class="mono">isActive</span>: <span>true</span> → <span>false</span></li></ul>',
    );
    expect(deactivated).toContain(
      '<td data-label="Target"><span><a href="/keys/9">key #9</a> <a class="muted small" href="/activity?targetType=key&amp;targetId=9" title="Only the changes of key #9">its changes</a></span></td>',
    );
    expect(deactivated).toContain(
      '<td data-label="Source" title="Mozilla/5.0 (X11; Linux x86_64) · request req-42">console</td>',
    );
    expect(deactivated).toContain('<td class="mono whole" data-label="Address">198.51.100.7</td>');
    // Each kind of target leads to where the console shows it; the settings have no id.
    expect(rowOf(res.text, 41)).toContain('<a href="/channels/4">channel #4</a>');
    expect(rowOf(res.text, 41)).toContain('<td data-label="Source" title="">CLI</td>');
    expect(rowOf(res.text, 40)).toContain(
      '<td data-label="Target"><a href="/settings">alert settings</a></td>',
    );
    expect(rowOf(res.text, 40)).toContain('<td class="mono whole" data-label="Address"></td>');
    expect(rowOf(res.text, 39)).toContain('<a href="/silences#silence-3">silence #3</a>');
    expect(rowOf(res.text, 38)).toContain('<a href="/users/2">user #2</a>');
    expect(rowOf(res.text, 38)).not.toContain('class="changes"');
  });

  it("names who made each change, linked to their row on the operators page, or the admin token; and links an operator target there", async () => {
    const t = build({
      alerts: {
        listAudit: async () => ({
          items: [
            auditEvent(51, { operator: { id: 3, name: "alice" } }),
            auditEvent(50, {
              action: "operator.revoked",
              targetType: "operator",
              targetId: 6,
              summary: "Operator carol revoked",
              operator: { id: 5, name: "<b>bob</b>" },
            }),
            auditEvent(49, { operator: null }),
          ],
          nextCursor: null,
        }),
      },
    });
    const text = (await t.get("/activity?source=console")).text;
    expect(text).toContain("<th>Target</th><th>By</th><th>Source</th>");
    expect(rowOf(text, 51)).toContain(
      `<td data-label="By"><span><a href="/operators#operator-3">alice #3</a> <a class="muted small" href="/activity?source=console&amp;operatorId=3" title="Only the changes made with alice's token">theirs</a></span></td>`,
    );
    expect(rowOf(text, 50)).toContain('<a href="/operators#operator-5">&lt;b&gt;bob&lt;/b&gt; #5</a>');
    expect(rowOf(text, 50)).toContain(
      '<td data-label="Target"><span><a href="/operators#operator-6">operator #6</a> <a class="muted small" href="/activity?targetType=operator&amp;targetId=6"',
    );
    expect(rowOf(text, 49)).toContain('<td data-label="By"><span class="muted">admin token</span></td>');
    expect(text).toContain('<option value="operator" >Operator</option>');
    expect(text).toContain(
      '<optgroup label="Operator"><option value="operator.created" >operator.created</option><option value="operator.updated" >operator.updated</option><option value="operator.revoked" >operator.revoked</option></optgroup>',
    );
  });

  it("filters by the operator chosen, keeping it in the form, the action links and across pages", async () => {
    const t = build({
      alerts: {
        listAudit: async (filter: unknown) => {
          t.calls.push(["listAudit", filter]);
          return {
            items: [auditEvent(51, { operator: { id: 3, name: "alice" } })],
            nextCursor: "51",
          };
        },
      } as unknown as Partial<AlertsClient>,
    });
    const text = (await t.get("/activity?operatorId=3&action=key.updated")).text;
    expect(t.calls).toEqual([
      [
        "listAudit",
        {
          targetType: undefined,
          targetId: undefined,
          action: "key.updated",
          source: undefined,
          operatorId: 3,
          cursor: undefined,
          limit: 50,
        },
      ],
    ]);
    expect(text).toContain(
      '<select id="f-operator" name="operatorId"><option value="">anyone</option><option value="3" selected>alice #3</option><option value="5" >bob #5</option><option value="6" >carol #6 (revoked)</option></select>',
    );
    // The list is theirs already: no link to it again.
    expect(rowOf(text, 51)).toContain(
      '<td data-label="By"><span><a href="/operators#operator-3">alice #3</a></span></td>',
    );
    expect(text).toContain('href="/activity?action=key.updated&amp;operatorId=3&amp;cursor=51" rel="next"');
    expect(rowOf(text, 51)).toContain(
      'href="/activity?action=key.updated&amp;operatorId=3" title="Only key.updated"',
    );

    // One the select does not hold stays chosen by its id; the keys API's silence leaves the ids.
    const unlisted = build({ keys: { listOperators: async () => Promise.reject(new Error("down")) } });
    expect((await unlisted.get("/activity?operatorId=12")).text).toContain(
      '<option value="">anyone</option><option value="12" selected>#12</option></select>',
    );
  });

  it("shows each change as field: from → to, none as —, times as times, lists by their items, objects by the parts that changed, and folds a long list", async () => {
    const changes = {
      name: { from: "billing", to: "billing-v2" },
      description: { from: null, to: "" },
      expiresAt: { from: null, to: "2027-01-31T18:30:00.000Z" },
      alertTypes: { from: ["error_rate", "response_time"], to: [] },
      rateLimits: { from: { minute: 100, hour: 1000 }, to: { minute: 50, hour: 1000, day: 900 } },
      "alertThresholds.overrides[GET /x]": {
        from: null,
        to: { endpoint: "GET /x", response_time: { warning: 1 } },
      },
      note: { from: "x".repeat(100), to: null },
    };
    const t = build({
      alerts: { listAudit: async () => ({ items: [auditEvent(7, { changes })], nextCursor: null }) },
    });
    const row = rowOf((await t.get("/activity")).text, 7);
    expect(row).toContain(
      '<ul class="changes"><li><span class="mono">name</span>: <span>billing</span> → <span>billing-v2</span></li>' +
        '<li><span class="mono">description</span>: <span class="muted">—</span> → <span>&quot;&quot;</span></li>' +
        '<li><span class="mono">expiresAt</span>: <span class="muted">—</span> → <time datetime="2027-01-31T18:30:00.000Z">2027-01-31 18:30:00 UTC</time></li>' +
        '<li><span class="mono">alertTypes</span>: <span>error_rate, response_time</span> → <span>none</span></li></ul>',
    );
    expect(row).toContain(
      '<details class="changes"><summary>4 more fields</summary><ul class="changes">' +
        '<li><span class="mono">rateLimits.minute</span>: <span>100</span> → <span>50</span></li>' +
        '<li><span class="mono">rateLimits.day</span>: <span class="muted">—</span> → <span>900</span></li>' +
        '<li><span class="mono">alertThresholds.overrides[GET /x]</span>: <span class="muted">—</span> → <span>{&quot;endpoint&quot;:&quot;GET /x&quot;,&quot;response_time&quot;:{&quot;warning&quot;:1}}</span></li>' +
        `<li><span class="mono">note</span>: <span title="${"x".repeat(100)}">${"x".repeat(79)}…</span> → <span class="muted">—</span></li></ul></details>`,
    );
  });

  it("shows a hostile summary, field and value as text", async () => {
    const t = build({
      alerts: {
        listAudit: async () => ({
          items: [
            auditEvent(7, {
              summary: '<script>alert("x")</script> renamed',
              changes: { "<b>name</b>": { from: "<img src=x onerror=alert(1)>", to: "ok" } },
              userAgent: '"><script>alert(2)</script>',
            }),
          ],
          nextCursor: null,
        }),
      },
    });
    const text = (await t.get("/activity")).text;
    expect(text).not.toContain("<script>alert");
    expect(text).not.toContain("<img src=x");
    expect(text).not.toContain("<b>name</b>");
    expect(text).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; renamed");
    expect(text).toContain(
      '<span class="mono">&lt;b&gt;name&lt;/b&gt;</span>: <span>&lt;img src=x onerror=alert(1)&gt;</span>',
    );
  });

  it("asks the API for the filters of the URL, keeps them in the form, the action links and the pager, and pages back to the first", async () => {
    const t = build({
      alerts: {
        listAudit: async (filter: unknown) => {
          t.calls.push(["listAudit", filter]);
          return { items: auditEvents.slice(0, 2), nextCursor: "40" };
        },
      } as unknown as Partial<AlertsClient>,
    });
    const first = (await t.get("/activity?targetType=channel&action=+channel.updated+&source=cli")).text;
    expect(t.calls).toEqual([
      [
        "listAudit",
        {
          targetType: "channel",
          targetId: undefined,
          action: "channel.updated",
          source: "cli",
          cursor: undefined,
          limit: 50,
        },
      ],
    ]);
    expect(first).toContain('<option value="channel" selected>Channel</option>');
    expect(first).toContain('<option value="cli" selected>CLI</option>');
    expect(first).toContain('<option value="channel.updated" selected>channel.updated</option>');
    expect(first).toContain('<optgroup label="API key"><option value="key.created" >key.created</option>');
    expect(first).toContain(
      'href="/activity?targetType=channel&amp;action=key.deactivated&amp;source=cli" title="Only key.deactivated"',
    );
    expect(first).toContain(
      '<a class="button secondary" href="/activity?targetType=channel&amp;action=+channel.updated+&amp;source=cli&amp;cursor=40" rel="next">Next page »</a>',
    );
    expect(first).toContain("2 shown, 50 per page");
    expect(first).not.toContain("First page");
    const next = (await t.get("/activity?targetType=channel&source=cli&cursor=40")).text;
    expect(t.calls[1]).toEqual([
      "listAudit",
      expect.objectContaining({ targetType: "channel", source: "cli", cursor: "40" }),
    ]);
    expect(next).toContain(
      '<a class="button secondary" href="/activity?targetType=channel&amp;source=cli">« First page</a>',
    );
  });

  it("shows one record's changes from the link on its page, keeping it as the target until let go", async () => {
    const t = build();
    expect((await t.get("/keys/9")).text).toContain(
      '<dt>Changes</dt><dd><a href="/activity?targetType=key&amp;targetId=9" id="key-changes">',
    );
    expect((await t.get("/users/2")).text).toContain(
      '<dt>Changes</dt><dd><a href="/activity?targetType=user&amp;targetId=2" id="user-changes">',
    );
    expect((await t.get("/channels/4")).text).toContain(
      '<a href="/activity?targetType=channel&amp;targetId=4" id="channel-changes">changes</a>',
    );
    expect((await t.get("/settings")).text).toContain(
      '<a href="/activity?targetType=settings" id="settings-changes">Changes</a>',
    );

    t.calls.length = 0;
    const text = (await t.get("/activity?targetType=key&targetId=9&source=console")).text;
    expect(t.calls).toEqual([
      [
        "listAudit",
        {
          targetType: "key",
          targetId: 9,
          action: undefined,
          source: "console",
          cursor: undefined,
          limit: 50,
        },
      ],
    ]);
    expect(text).toContain(
      '<input type="hidden" name="targetType" value="key"><input type="hidden" name="targetId" value="9">',
    );
    expect(text).toContain(
      '<div class="target"><a href="/keys/9">key #9</a> · <a href="/activity?source=console">every target</a></div>',
    );
    expect(text).not.toContain('id="f-target"');
    // The record the list is about needs no link to its own changes; another one keeps it.
    expect(rowOf(text, 42)).toContain('<td data-label="Target"><a href="/keys/9">key #9</a></td>');
    expect(rowOf(text, 41)).toContain("its changes");
  });

  it.each([
    [
      "/activity",
      "No changes recorded yet: changes to users, keys, alert settings, channels, silences and operators appear here as they are made.",
    ],
    ["/activity?source=api", "No changes match these filters."],
    ["/activity?targetType=silence&targetId=5", "No changes of silence #5 match."],
  ])("says so when %s has no changes", async (path, said) => {
    const t = build({ alerts: { listAudit: async () => ({ items: [], nextCursor: null }) } });
    const res = await t.get(path);
    expect(res.status).toBe(200);
    expect(res.text).toContain(`<div class="card muted" id="no-activity">${said}</div>`);
    expect(res.text).not.toContain("<table");
  });

  it("shows the API's refusal of a filter above the form's values instead of a list", async () => {
    const t = build({
      alerts: {
        listAudit: async () => {
          throw fieldError("action", "must be one of user.created, …");
        },
      },
    });
    const res = await t.get("/activity?action=Deleted");
    expect(res.status).toBe(200);
    expect(res.text).toContain(
      '<div class="alert-box" role="alert">action: must be one of user.created, …</div>',
    );
    expect(res.text).not.toContain('id="no-activity"');
    expect(res.text).not.toContain("per page");
  });

  it("answers 502 with the reason when the alerts API cannot be reached", async () => {
    const t = build({
      alerts: {
        listAudit: async () => {
          throw new Error("cannot reach the alerts service at http://127.0.0.1:8081: ECONNREFUSED");
        },
      },
    });
    const res = await t.get("/activity");
    expect(res.status).toBe(502);
    expect(res.text).toContain("<h1>Service unavailable</h1>");
    expect(res.text).toContain("cannot reach the alerts service at http://127.0.0.1:8081: ECONNREFUSED");
    // The menu stays, Activity among it.
    expect(res.text).toContain('<a href="/activity" class="">Activity</a>');
  });
});

describe("calls to the APIs", () => {
  /** The console over real API clients whose fetch records what each call says about its caller. */
  function overRecordingFetch() {
    const sent: { call: string; source: string | null; address: string | null; auth: string | null }[] = [];
    const fetch = async (url: string, init: RequestInit) => {
      const headers = new Headers(init.headers);
      const auth = headers.get("authorization");
      const call = `${init.method} ${new URL(url).pathname}`;
      const json = (body: unknown, status = 200) =>
        new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
      sent.push({
        call,
        source: headers.get("x-apimon-source"),
        address: headers.get("x-apimon-operator-address"),
        auth,
      });
      if (call === "GET /api/v1/operators/me") {
        const caller = CALLERS[auth?.replace(/^Bearer /, "") ?? ""];
        if (!caller) return json({ detail: "Not authenticated" }, 401);
        return json({ ...caller, role: caller.operator?.role ?? "admin" });
      }
      // Later than the other request's own call, so that the two requests' calls interleave.
      await new Promise((resolve) => setTimeout(resolve, 5));
      const list = ["/api/v1/audit", "/api/v1/operators"].includes(new URL(url).pathname);
      return json(list ? { items: [], nextCursor: null } : key);
    };
    const operator = createOperatorScope();
    const api = { adminToken: () => operator.token() ?? ADMIN_TOKEN, headers: operator.headers, fetch };
    const alerts = createAlertsClient({ baseUrl: "http://alerts.test", ...api });
    const keys = createKeysClient({ baseUrl: "http://keys.test", ...api });
    const app = createApp({ ...appDeps({ trustedProxyHops: 1 }), alerts, keys, operator });
    /** A session signed in with `token`, and its CSRF token. */
    const sessionOf = async (token: string) => {
      const signIn = await app.request("/sign-in", form({ token }));
      const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] as string;
      const page = await (await app.request("/keys/9", { headers: { cookie } })).text();
      return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(page)?.[1] as string };
    };
    return { app, alerts, sent, sessionOf };
  }

  it("makes each call with the token of whoever signed in to its page, for the address of their browser as the console's proxy saw it", async () => {
    const { app, alerts, sent, sessionOf } = overRecordingFetch();
    const admin = await sessionOf(ADMIN_TOKEN);
    const bobs = await sessionOf(BOB_TOKEN);
    sent.length = 0;

    // Two operators at once: each call carries its own request's token and browser. The entry the
    // client wrote itself (left of the proxy's) is not taken.
    const [listed, deactivated] = await Promise.all([
      app.request("/activity", {
        headers: { cookie: admin.cookie, "x-forwarded-for": "203.0.113.50, 198.51.100.7" },
      }),
      app.request("/keys/9/deactivate", {
        ...form({ _csrf: bobs.csrf }),
        headers: { ...form({}).headers, cookie: bobs.cookie, "x-forwarded-for": "2001:db8::44" },
      }),
    ]);
    expect([listed.status, deactivated.status]).toEqual([200, 303]);
    expect(sent.sort((a, b) => a.call.localeCompare(b.call))).toEqual([
      {
        call: "GET /api/v1/audit",
        source: "console",
        address: "198.51.100.7",
        auth: `Bearer ${ADMIN_TOKEN}`,
      },
      {
        call: "GET /api/v1/operators",
        source: "console",
        address: "198.51.100.7",
        auth: `Bearer ${ADMIN_TOKEN}`,
      },
      // An operator's request first asks whose the token is now (their role may have changed).
      {
        call: "GET /api/v1/operators/me",
        source: "console",
        address: "2001:db8::44",
        auth: `Bearer ${BOB_TOKEN}`,
      },
      {
        call: "PATCH /api/v1/keys/9",
        source: "console",
        address: "2001:db8::44",
        auth: `Bearer ${BOB_TOKEN}`,
      },
    ]);

    // Outside a request (or with no address to give) the console still names itself, and no
    // browser, with its own token.
    sent.length = 0;
    await alerts.listAudit();
    expect(sent).toEqual([
      { call: "GET /api/v1/audit", source: "console", address: null, auth: `Bearer ${ADMIN_TOKEN}` },
    ]);
  });

  it("verifies a sign-in by asking the keys API with the token presented, not the console's own", async () => {
    const { app, sent } = overRecordingFetch();
    const signIn = await app.request("/sign-in", form({ token: BOB_TOKEN }), {
      incoming: { socket: { remoteAddress: "198.51.100.7" } },
    });
    expect(signIn.status).toBe(303);
    const wrong = await app.request("/sign-in", form({ token: "apimon_op_revoked-or-never-made-0000" }));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    expect(sent).toEqual([
      {
        call: "GET /api/v1/operators/me",
        source: "console",
        address: "198.51.100.7",
        auth: `Bearer ${BOB_TOKEN}`,
      },
      {
        call: "GET /api/v1/operators/me",
        source: "console",
        address: null,
        auth: "Bearer apimon_op_revoked-or-never-made-0000",
      },
    ]);
  });
});
