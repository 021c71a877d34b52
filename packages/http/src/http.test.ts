import { connect } from "node:net";
import { createLogger, createMetricsRegistry } from "@apimon/observability";
import { captureLogger } from "@apimon/testkit";
import { z } from "zod";
import { createHttpApp } from "./app";
import { conflict } from "./errors";
import { createShutdown, startServer } from "./server";
import { readJson, readOptionalJson, readQuery } from "./validation";

function setup() {
  const { logger, lines } = captureLogger();
  const app = createHttpApp({ logger, maxBodyBytes: 1024 });
  const body = z
    .object({
      name: z.string().max(10),
      limits: z.object({ minute: z.number().int().positive().max(1000) }).strict(),
    })
    .strict();
  app.post("/things", async (c) => c.json(await readJson(c, body), 201));
  app.post("/notes", async (c) =>
    c.json(await readOptionalJson(c, z.object({ note: z.string().max(10).optional() }).strict())),
  );
  app.get("/things", (c) => c.json(readQuery(c, z.object({ limit: z.coerce.number().int().max(100) }))));
  app.get("/codes", (c) =>
    c.json(
      readQuery(c, z.object({ code: z.string().max(4, "must be a code").regex(/^\d+$/, "must be a code") })),
    ),
  );
  app.get("/conflict", () => {
    throw conflict("Email already registered");
  });
  app.get("/boom", () => {
    throw new Error("database exploded at 10.0.0.5");
  });
  return { app, lines };
}

const json = (value: unknown) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: typeof value === "string" ? value : JSON.stringify(value),
});

describe("http conventions", () => {
  it("accepts a valid body", async () => {
    const res = await setup().app.request("/things", json({ name: "a", limits: { minute: 5 } }));
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ name: "a", limits: { minute: 5 } });
  });

  it("answers 400 with every offending field for a bad body", async () => {
    const res = await setup().app.request(
      "/things",
      json({ name: 5, limits: { minute: -1, hour: 1 }, extra: true, more: 1 }),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      detail: "Invalid body",
      errors: [
        { field: "name", message: "must be a string" },
        { field: "limits.minute", message: "must be greater than 0" },
        { field: "limits.hour", message: "is not a known field" },
        { field: "extra", message: "is not a known field" },
        { field: "more", message: "is not a known field" },
      ],
    });
  });

  it("names only the tightest bound a number breaks, not int()'s safe range beside the schema's maximum", async () => {
    const res = await setup().app.request("/things", json({ name: "a", limits: { minute: 1e300 } }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      detail: "Invalid body",
      errors: [{ field: "limits.minute", message: "must be at most 1000" }],
    });
  });

  it("says a message once for a field whose checks share it", async () => {
    const res = await setup().app.request("/codes?code=abcdefgh");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      detail: "Invalid query",
      errors: [{ field: "code", message: "must be a code" }],
    });
  });

  it("answers 400 for malformed JSON, a missing content type and a non-object body", async () => {
    const { app } = setup();
    const malformed = await app.request("/things", json("{not json"));
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ detail: "Malformed JSON body" });
    const noType = await app.request("/things", { method: "POST", body: "{}" });
    expect(noType.status).toBe(400);
    expect(await noType.json()).toEqual({ detail: "Expected a JSON body (Content-Type: application/json)" });
    const array = await app.request("/things", json([1, 2]));
    expect(array.status).toBe(400);
  });

  it("answers 413 for an oversize body", async () => {
    const res = await setup().app.request("/things", json({ name: "x".repeat(5000) }));
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ detail: "Request body larger than 1024 bytes" });
  });

  it("validates query strings", async () => {
    const res = await setup().app.request("/things?limit=500");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      detail: "Invalid query",
      errors: [{ field: "limit", message: "must be at most 100" }],
    });
  });

  it("maps typed errors to their status and the spec's detail body", async () => {
    const res = await setup().app.request("/conflict");
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ detail: "Email already registered" });
  });

  it("hides unknown errors behind a 500 and logs them with the request id", async () => {
    const { app, lines } = setup();
    const res = await app.request("/boom", { headers: { "x-request-id": "req-42" } });
    expect(res.status).toBe(500);
    expect(res.headers.get("x-request-id")).toBe("req-42");
    expect(await res.json()).toEqual({ detail: "Internal server error" });
    expect(lines.find((l) => l.msg === "unhandled error")).toMatchObject({
      requestId: "req-42",
      level: "error",
    });
  });

  it("replaces a hostile request id and answers unknown paths with 404", async () => {
    const res = await setup().app.request("/nowhere", { headers: { "x-request-id": "<script>".repeat(40) } });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.json()).toEqual({ detail: "Not found" });
  });
});

describe("request metrics", () => {
  it("counts requests by route pattern, not by raw path", async () => {
    const registry = createMetricsRegistry("t", { defaultMetrics: false });
    const app = createHttpApp({ logger: createLogger({ service: "t", level: "silent" }), registry });
    app.get("/users/:id", (c) => c.json({ id: c.req.param("id") }));
    await app.request("/users/1");
    await app.request("/users/2");
    await app.request("/nope");
    const values = (await registry.getSingleMetric("http_requests_total")?.get())?.values;
    expect(values).toEqual([
      { labels: { method: "GET", route: "/users/:id", status: "200" }, value: 2 },
      { labels: { method: "GET", route: "unmatched", status: "404" }, value: 1 },
    ]);
  });
});

describe("server lifecycle", () => {
  it("serves on a free port and closes", async () => {
    const { app } = setup();
    const server = await startServer(app, { port: 0, hostname: "127.0.0.1" });
    const res = await fetch(`http://127.0.0.1:${server.port}/conflict`);
    expect(res.status).toBe(409);
    await server.close();
    await expect(fetch(`http://127.0.0.1:${server.port}/conflict`)).rejects.toThrow();
  });

  it("reads an optional body left out the way curl -X POST leaves it out: no Content-Length, no Transfer-Encoding", async () => {
    const server = await startServer(setup().app, { port: 0, hostname: "127.0.0.1" });
    try {
      const raw = (head: string, body = "") =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(server.port, "127.0.0.1");
          let answer = "";
          socket.setEncoding("utf8");
          socket.on("data", (chunk) => {
            answer += chunk;
          });
          socket.on("end", () => resolve(answer));
          socket.on("error", reject);
          socket.end(`POST /notes HTTP/1.1\r\nHost: t\r\nConnection: close\r\n${head}\r\n${body}`);
        });
      const status = (answer: string) => answer.slice(9, 12);
      const body = (answer: string) => answer.slice(answer.indexOf("\r\n\r\n") + 4);

      const bare = await raw("");
      expect([status(bare), body(bare)]).toEqual(["200", "{}"]);
      const typed = await raw("Content-Type: application/json\r\n");
      expect([status(typed), body(typed)]).toEqual(["200", "{}"]);
      const zero = await raw("Content-Length: 0\r\n");
      expect([status(zero), body(zero)]).toEqual(["200", "{}"]);
      const given = await raw("Content-Type: application/json\r\nContent-Length: 13\r\n", '{"note":"hi"}');
      expect([status(given), body(given)]).toEqual(["200", '{"note":"hi"}']);
      const chunked = await raw(
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
        '11\r\n{"note":"chunks"}\r\n0\r\n\r\n',
      );
      expect([status(chunked), body(chunked)]).toEqual(["200", '{"note":"chunks"}']);
      const untyped = await raw("Content-Length: 13\r\n", '{"note":"hi"}');
      expect(status(untyped)).toBe("400");
    } finally {
      await server.close();
    }
  });

  it("runs shutdown steps in order once, even when one fails, and exits non-zero", async () => {
    const { lines } = setup();
    const order: string[] = [];
    const exits: number[] = [];
    const shutdown = createShutdown({
      logger: createLogger({ service: "t", level: "silent" }),
      timeoutMs: 1000,
      exit: (code) => exits.push(code),
      steps: [
        { name: "readiness", run: () => void order.push("readiness") },
        {
          name: "server",
          run: () => {
            order.push("server");
            throw new Error("already closed");
          },
        },
        { name: "producer", run: async () => void order.push("producer") },
      ],
    });
    await Promise.all([shutdown.run("SIGTERM"), shutdown.run("SIGINT")]);
    expect(order).toEqual(["readiness", "server", "producer"]);
    expect(exits).toEqual([1]);
    expect(lines).toEqual([]);
  });
});
