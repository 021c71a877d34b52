import { createLogger } from "@apimon/observability";
import { createHttpApp } from "./app";
import { bearerToken, requireAdminToken, tokenMatches } from "./auth";

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
