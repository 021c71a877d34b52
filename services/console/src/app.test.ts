import type { AlertDetailView, AlertsClient, AlertView, KeysClient } from "@apimon/client";
import { ApiError } from "@apimon/client";
import { createLogger, createMetricsRegistry } from "@apimon/observability";
import { createApp } from "./app";
import { createSessionManager } from "./session";

const ADMIN_TOKEN = "console-unit-admin-token-0123456789";

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
  createdAt: "2026-12-01T10:00:00.000Z",
  updatedAt: "2026-12-01T10:00:00.000Z",
};

function build() {
  const acknowledged: unknown[] = [];
  const alerts = {
    listActive: async () => ({ items: [hostile], nextCursor: null }),
    counts: async () => ({
      total: 1,
      bySeverity: { warning: 0, critical: 1 },
      byStatus: { firing: 1, acknowledged: 0 },
      byType: {},
    }),
    get: async (id: number): Promise<AlertDetailView> => {
      if (id !== 7) throw new ApiError(404, { detail: "Alert not found" });
      return { ...hostile, timeline: [], deliveries: [] };
    },
    acknowledge: async (id: number, body: unknown) => {
      acknowledged.push({ id, body });
      return { ...hostile, timeline: [], deliveries: [] };
    },
  } as unknown as AlertsClient;
  const keys = {} as KeysClient;
  const app = createApp({
    logger: createLogger({ service: "console-test", level: "silent" }),
    registry: createMetricsRegistry("console-test", { defaultMetrics: false }),
    alerts,
    keys,
    sessions: createSessionManager({ secret: "s".repeat(40), ttlSeconds: 3600 }),
    chartJs: "/* chart */",
    config: { adminToken: ADMIN_TOKEN, sessionTtlSeconds: 3600, secureCookie: false, refreshSeconds: 15 },
    isShuttingDown: () => false,
  });
  return { app, acknowledged };
}

const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});

async function signIn(app: ReturnType<typeof build>["app"]) {
  const res = await app.request("/sign-in", form({ token: ADMIN_TOKEN, next: "/alerts" }));
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] as string;
  const page = await (await app.request("/alerts", { headers: { cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] as string;
  return { res, cookie, csrf };
}

describe("console sign-in and session", () => {
  it("sends a page request without a session to sign-in, keeping where it was going", async () => {
    const { app } = build();
    const res = await app.request("/alerts?severity=critical");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/sign-in?next=%2Falerts%3Fseverity%3Dcritical");
    const post = await app.request("/alerts/7/acknowledge", form({ note: "x" }));
    expect(post.status).toBe(401);
  });

  it("shows an error for a wrong token, without a stack or a cookie", async () => {
    const { app } = build();
    const res = await app.request("/sign-in", form({ token: "wrong-token-wrong-token" }));
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    const body = await res.text();
    expect(body).toContain("That is not the admin token.");
    expect(body).not.toMatch(/at .*\.ts:\d+/);
  });

  it("sets an HttpOnly, SameSite=Strict session cookie with an expiry, and redirects only to local paths", async () => {
    const { app } = build();
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
    const { app } = build();
    const res = await app.request("/sign-in", {
      ...form({ token: ADMIN_TOKEN }),
      headers: { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "cross-site" },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("refuses a form POST without the CSRF token, and accepts it with the token", async () => {
    const { app, acknowledged } = build();
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
    const { app } = build();
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

describe("console pages", () => {
  it("shows alert text as text, under a CSP without inline script", async () => {
    const { app } = build();
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
    const { app } = build();
    const { cookie } = await signIn(app);
    const res = await app.request("/alerts/99", { headers: { cookie } });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("Alert not found");
  });

  it("serves its script, stylesheet and Chart.js without a session", async () => {
    const { app } = build();
    for (const path of ["/assets/console.js", "/assets/console.css", "/assets/chart.umd.min.js"]) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
    }
  });
});
