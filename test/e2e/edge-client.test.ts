// The consumer client (`@apimon/client/edge`) against a real edge: keys service and edge as
// processes on real Kafka, Postgres and Redis, in front of an upstream held by this test.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createEdgeClient, type RateLimitedInfo } from "@apimon/client/edge";
import { freePort } from "@apimon/testkit";
import { type FullStack, startFullStack } from "./lib/full-stack";

let stack: FullStack;
let upstream: Server;
/** Requests to /hold wait here until the test answers them. */
const held: ServerResponse[] = [];
let onHeld: () => void = () => {};

beforeAll(async () => {
  upstream = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (req.url?.startsWith("/hold")) {
      held.push(res);
      onHeld();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ path: req.url }));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => upstream.listen(port, "127.0.0.1", resolve));
  stack = await startFullStack({
    label: "edge-client",
    services: ["keys", "edge"],
    env: {
      edge: {
        UPSTREAM_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
        EDGE_MAX_INFLIGHT_PER_KEY: "1",
      },
    },
  });
}, 240_000);

afterAll(async () => {
  for (const res of held) res.end();
  await stack?.stop();
  await new Promise((resolve) => upstream?.close(resolve));
});

describe("edge client through a real edge", () => {
  it("sends the key and exposes the remaining quota from the edge's headers", async () => {
    const { key } = await stack.newKey({ minute: 5, hour: 50, day: 500 });
    const client = createEdgeClient({ apiKey: key, baseUrl: stack.url("edge") });
    const res = await client.fetch("/api/users?page=2");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ path: "/api/users?page=2" });
    expect(client.quota).toEqual({
      minute: { limit: 5, remaining: 4, resetSeconds: expect.any(Number) },
      hour: { limit: 50, remaining: 49, resetSeconds: expect.any(Number) },
      day: { limit: 500, remaining: 499, resetSeconds: expect.any(Number) },
      remaining: 4,
    });
  });

  it("hands back a 429 whose Retry-After is beyond maxWaitMs, with the quota at zero", async () => {
    // A day's limit: no window boundary falls between the two calls (a minute's could).
    const { key } = await stack.newKey({ day: 1 });
    const waits: RateLimitedInfo[] = [];
    const client = createEdgeClient({
      apiKey: key,
      baseUrl: stack.url("edge"),
      maxWaitMs: 500,
      onRateLimited: (info) => waits.push(info),
    });
    expect((await client.fetch("/api/a")).status).toBe(200);
    const res = await client.fetch("/api/a");
    expect(res.status).toBe(429);
    expect(((await res.json()) as { detail: string }).detail).toMatch(
      /^Rate limit exceeded for day\. Try again in \d+ seconds$/,
    );
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(client.quota?.day).toEqual({ limit: 1, remaining: 0, resetSeconds: expect.any(Number) });
    expect(client.quota?.remaining).toBe(0);
    expect(waits).toEqual([]);
  });

  it("aborts its wait for a rate-limit window when the caller's signal fires", async () => {
    const { key } = await stack.newKey({ day: 1 });
    const controller = new AbortController();
    const waits: RateLimitedInfo[] = [];
    const client = createEdgeClient({
      apiKey: key,
      baseUrl: stack.url("edge"),
      maxWaitMs: 86_400_000,
      onRateLimited: (info) => {
        waits.push(info);
        controller.abort(new Error("no time to wait"));
      },
    });
    expect((await client.fetch("/api/a")).status).toBe(200);
    await expect(client.fetch("/api/a", { signal: controller.signal })).rejects.toThrow("no time to wait");
    expect(waits).toHaveLength(1);
    expect(waits[0]?.waitMs).toBeGreaterThanOrEqual(1000);
    expect(waits[0]?.quota?.day.remaining).toBe(0);
  });

  it("waits out a 429 by its Retry-After and then gets through", async () => {
    const { key } = await stack.newKey();
    // One request of this key is in flight and held: the edge allows one at a time.
    const heldArrived = new Promise<void>((resolve) => {
      onHeld = resolve;
    });
    const first = fetch(`${stack.url("edge")}/hold`, { headers: { "x-api-key": key } });
    await heldArrived;

    const waits: RateLimitedInfo[] = [];
    const client = createEdgeClient({
      apiKey: key,
      baseUrl: stack.url("edge"),
      onRateLimited: (info) => {
        waits.push(info);
        // Let the held request finish while the client waits; its retry then finds no request in flight.
        held.shift()?.end("done");
      },
    });
    const res = await client.fetch("/api/orders", { method: "POST", body: '{"n":1}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ path: "/api/orders" });
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(waits[0]?.waitMs).toBe(1000);
    expect(waits[0]?.response.status).toBe(429);
    expect((await first).status).toBe(200);
  });
});
