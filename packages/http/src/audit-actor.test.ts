import { Hono } from "hono";
import type { AppEnv } from "./app";
import { type AuditActor, auditActor, auditActorOf } from "./audit-actor";

/** The actor a request gets, served by a bare app whose peer is `peer` behind `hops` proxies. */
async function actorOf(headers: Record<string, string>, hops = 0, peer = "10.0.0.9"): Promise<AuditActor> {
  const app = new Hono<AppEnv>();
  app.get("/", (c) => {
    c.set("requestId", "req-1");
    return c.json(auditActorOf(c, hops));
  });
  const response = await app.request("/", { headers }, { incoming: { socket: { remoteAddress: peer } } });
  return (await response.json()) as AuditActor;
}

describe("the actor of an admin request", () => {
  it("is the console or the CLI when the caller says so, and any other caller is api", async () => {
    expect((await actorOf({ "x-apimon-source": "console" })).source).toBe("console");
    expect((await actorOf({ "x-apimon-source": " CLI " })).source).toBe("cli");
    expect((await actorOf({ "x-apimon-source": "root" })).source).toBe("api");
    expect((await actorOf({})).source).toBe("api");
  });

  it("names the operator's address when it is one, and otherwise the caller's", async () => {
    expect(await actorOf({ "x-apimon-operator-address": "203.0.113.7", "user-agent": "curl/8.5" })).toEqual({
      source: "api",
      clientAddress: "203.0.113.7",
      userAgent: "curl/8.5",
      requestId: "req-1",
      operator: null,
    });
    expect((await actorOf({ "x-apimon-operator-address": "2001:db8::1" })).clientAddress).toBe("2001:db8::1");
    expect((await actorOf({ "x-apimon-operator-address": "<script>" })).clientAddress).toBe("10.0.0.9");
    expect((await actorOf({ "x-forwarded-for": "198.51.100.4" }, 1)).clientAddress).toBe("198.51.100.4");
    expect((await actorOf({ "x-forwarded-for": "198.51.100.4" }, 0)).clientAddress).toBe("10.0.0.9");
  });

  it("keeps at most 200 characters of the user agent, and none of an empty one", async () => {
    expect((await actorOf({ "user-agent": "x".repeat(500) })).userAgent).toHaveLength(200);
    expect((await actorOf({ "user-agent": "" })).userAgent).toBeNull();
  });

  it("is worked out on the spot where no admin app set it", async () => {
    const app = new Hono<AppEnv>();
    app.get("/", (c) => c.json(auditActor(c)));
    const response = await app.request("/", { headers: { "x-apimon-source": "cli" } });
    expect(await response.json()).toEqual({
      source: "cli",
      clientAddress: null,
      userAgent: null,
      requestId: null,
      operator: null,
    });
  });

  it("names the operator whose token the request carries, which the caller cannot claim otherwise", async () => {
    const app = new Hono<AppEnv>();
    app.get("/", (c) => {
      c.set("operator", { id: 3, name: "alice", role: "admin" });
      return c.json(auditActor(c));
    });
    const response = await app.request("/", { headers: { "x-apimon-operator": "mallory" } });
    expect(((await response.json()) as AuditActor).operator).toEqual({ id: 3, name: "alice" });
  });
});
