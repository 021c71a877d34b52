import { createLogger, createMetricsRegistry } from "@apimon/observability";
import { createApp } from "./app";

const app = createApp({
  logger: createLogger({ service: "demo-upstream", level: "silent" }),
  registry: createMetricsRegistry("demo-upstream", { defaultMetrics: false }),
  slowMs: 5,
  isShuttingDown: () => false,
});

describe("demo upstream", () => {
  it("lists and finds users", async () => {
    const list = await app.request("/api/users");
    expect(list.status).toBe(200);
    expect(((await list.json()) as { items: unknown[] }).items).toHaveLength(3);
    const one = await app.request("/api/users/2");
    expect(await one.json()).toEqual({ id: 2, name: "Grace Hopper", email: "grace@example.com" });
    const missing = await app.request("/api/users/99");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ detail: "User not found" });
  });

  it("has a slow endpoint with a bounded delay", async () => {
    const res = await app.request("/api/slow?ms=20");
    expect(await res.json()).toEqual({ slept: 20 });
    const tooLong = await app.request("/api/slow?ms=999999");
    expect(tooLong.status).toBe(400);
  });

  it("has failing endpoints", async () => {
    const fail = await app.request("/api/fail");
    expect(fail.status).toBe(500);
    expect(await fail.json()).toEqual({ detail: "Demo failure" });
    const teapot = await app.request("/api/status/503");
    expect(teapot.status).toBe(503);
  });

  it("echoes uploads and streams downloads of a given size", async () => {
    const echo = await app.request("/api/echo", {
      method: "POST",
      body: "hello",
      headers: { "content-type": "text/plain" },
    });
    expect(await echo.text()).toBe("hello");
    const bytes = await app.request("/api/bytes/200000");
    expect(bytes.headers.get("content-length")).toBe("200000");
    expect((await bytes.arrayBuffer()).byteLength).toBe(200000);
  });

  it("shows the request headers it received", async () => {
    const res = await app.request("/api/headers", { headers: { "x-apimon-key-id": "7" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      method: "GET",
      path: "/api/headers",
      headers: expect.objectContaining({ "x-apimon-key-id": "7" }),
    });
  });

  it("serves health and metrics", async () => {
    expect((await app.request("/healthz")).status).toBe(200);
    expect((await app.request("/readyz")).status).toBe(200);
    expect((await app.request("/metrics")).status).toBe(200);
  });
});
