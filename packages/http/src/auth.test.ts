import { createLogger } from "@apimon/observability";
import { getFrom } from "@apimon/testkit";
import { createHttpApp } from "./app";
import { bearerToken, type Operator, requireAdminToken, tokenMatches } from "./auth";
import { createGuessLimit } from "./guess-limit";
import { startServer } from "./server";

describe("admin token comparison", () => {
  it("accepts only the exact token", () => {
    expect(tokenMatches("s3cret-admin-token", "s3cret-admin-token")).toBe(true);
    expect(tokenMatches("s3cret-admin-token", "s3cret-admin-tokeN")).toBe(false);
    expect(tokenMatches("s3cret-admin-token", "s3cret-admin-token ")).toBe(false);
  });

  it("compares tokens of any length without throwing (timingSafeEqual needs equal lengths)", () => {
    expect(tokenMatches("s3cret-admin-token", "")).toBe(false);
    expect(tokenMatches("s3cret-admin-token", "x".repeat(10_000))).toBe(false);
  });

  it("reads the token of a Bearer header and nothing else", () => {
    expect(bearerToken("Bearer abc.def")).toBe("abc.def");
    expect(bearerToken("bearer abc")).toBe("abc");
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken("Basic YWRtaW46YWRtaW4=")).toBeUndefined();
    expect(bearerToken("Bearer a b")).toBeUndefined();
  });
});

describe("admin authentication middleware", () => {
  const app = createHttpApp({ logger: createLogger({ service: "test", level: "silent" }) });
  app.use("/admin/*", requireAdminToken("s3cret-admin-token"));
  app.get("/admin/thing", (c) => c.json({ ok: true }));

  it("lets the right token through", async () => {
    const res = await app.request("/admin/thing", {
      headers: { authorization: "Bearer s3cret-admin-token" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it.each([
    ["no header", {}],
    ["a wrong token", { authorization: "Bearer wrong-token" }],
    ["the bare token", { authorization: "s3cret-admin-token" }],
  ])("answers 401 with WWW-Authenticate: Bearer for %s", async (_case, headers) => {
    const res = await app.request("/admin/thing", { headers });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
    expect(await res.json()).toEqual({ detail: "Not authenticated" });
  });
});

describe("operators' tokens", () => {
  const operators = new Map<string, Operator>([
    ["apimon_op_alice", { id: 3, name: "alice", role: "admin" }],
    ["apimon_op_victor", { id: 4, name: "victor", role: "viewer" }],
  ]);
  const asked: string[] = [];
  const app = createHttpApp({ logger: createLogger({ service: "test", level: "silent" }) });
  app.use(
    "/admin/*",
    requireAdminToken("s3cret-admin-token", {
      operators: {
        find: async (token) => {
          asked.push(token);
          return operators.get(token) ?? null;
        },
      },
    }),
  );
  app.on(["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"], "/admin/thing", (c) =>
    c.json({ operator: c.get("operator") }),
  );
  const call = (method: string, token: string) =>
    app.request("/admin/thing", { method, headers: { authorization: `Bearer ${token}` } });

  beforeEach(() => {
    asked.length = 0;
  });

  it("admits an operator's token and keeps who it is; the admin token is no operator and asks no directory", async () => {
    const res = await call("POST", "apimon_op_alice");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ operator: { id: 3, name: "alice", role: "admin" } });
    expect(await (await call("DELETE", "s3cret-admin-token")).json()).toEqual({ operator: null });
    expect(asked).toEqual(["apimon_op_alice"]);
  });

  it("lets a viewer read and refuses any change with 403 naming it", async () => {
    for (const method of ["GET", "HEAD"]) expect((await call(method, "apimon_op_victor")).status).toBe(200);
    for (const method of ["POST", "PATCH", "PUT", "DELETE"]) {
      const res = await call(method, "apimon_op_victor");
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({
        detail: 'Operator "victor" is a viewer: its token may read, not change anything',
      });
    }
  });

  it("answers 401 to a token the directory does not know (unknown or revoked)", async () => {
    const res = await call("GET", "apimon_op_mallory");
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ detail: "Not authenticated" });
  });
});

describe("admin authentication under guessing", () => {
  /** An app whose admin route allows `perMinute` wrong tokens a minute, on a real server. */
  async function guarded(perMinute: number, trustedProxyHops = 0) {
    const app = createHttpApp({ logger: createLogger({ service: "test", level: "silent" }) });
    app.use(
      "/admin/*",
      requireAdminToken("s3cret-admin-token", {
        guesses: createGuessLimit({ perMinute }),
        trustedProxyHops,
        // One instant throughout, so the attempts cannot straddle the turn of a minute.
        now: () => 1_800_000_030_000,
      }),
    );
    app.get("/admin/thing", (c) => c.json({ ok: true }));
    return startServer(app, { port: 0, hostname: "127.0.0.1" });
  }

  /** GET /admin/thing from the local address `from`, with `token` and further fields when given. */
  const get = (port: number, from: string, token?: string, fields: Record<string, string> = {}) =>
    getFrom(from, `http://127.0.0.1:${port}/admin/thing`, {
      ...fields,
      ...(token !== undefined && { authorization: `Bearer ${token}` }),
    });

  it("refuses an address that sent too many wrong tokens, even with the right one, and no other address", async () => {
    const server = await guarded(3);
    try {
      for (let i = 0; i < 5; i++) expect((await get(server.port, "127.0.0.2")).status).toBe(401);
      for (let i = 0; i < 3; i++)
        expect((await get(server.port, "127.0.0.2", `wrong-${i}`)).status).toBe(401);
      const refused = await get(server.port, "127.0.0.2", "s3cret-admin-token");
      expect(refused.status).toBe(429);
      expect(refused.headers["retry-after"]).toBe("30");
      expect(JSON.parse(refused.body)).toEqual({
        detail: "Too many wrong admin tokens from this address. Try again in 30 seconds",
      });
      expect((await get(server.port, "127.0.0.3", "s3cret-admin-token")).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("behind a trusted proxy counts the client the proxy saw, whatever the client wrote further left", async () => {
    const server = await guarded(3, 1);
    const via = (client: string) => ({ "x-forwarded-for": `6.6.6.6, ${client}` });
    try {
      for (let i = 0; i < 3; i++) {
        expect((await get(server.port, "127.0.0.2", `wrong-${i}`, via("203.0.113.1"))).status).toBe(401);
      }
      expect((await get(server.port, "127.0.0.2", "s3cret-admin-token", via("203.0.113.1"))).status).toBe(
        429,
      );
      expect((await get(server.port, "127.0.0.2", "s3cret-admin-token", via("203.0.113.2"))).status).toBe(
        200,
      );
    } finally {
      await server.close();
    }
  });
});
