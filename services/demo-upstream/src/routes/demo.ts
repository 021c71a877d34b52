import { Readable } from "node:stream";
import { type AppEnv, parseOr400 } from "@apimon/http";
import { Hono } from "hono";
import { z } from "zod";

const USERS = [
  { id: 1, name: "Ada Lovelace", email: "ada@example.com" },
  { id: 2, name: "Grace Hopper", email: "grace@example.com" },
  { id: 3, name: "Alan Turing", email: "alan@example.com" },
];

const MAX_DOWNLOAD = 256 * 1024 * 1024;
const MAX_DELAY_MS = 30_000;

/** A few JSON endpoints: fast, slow, failing, headers, echo and a streamed download. */
export function createDemoRoutes({ slowMs }: { slowMs: number }): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  routes.get("/api/users", (c) => c.json({ items: USERS }));

  routes.get("/api/users/:id", (c) => {
    const user = USERS.find((u) => String(u.id) === c.req.param("id"));
    return user ? c.json(user) : c.json({ detail: "User not found" }, 404);
  });

  routes.get("/api/slow", async (c) => {
    const { ms } = parseOr400(
      z.object({ ms: z.coerce.number().int().min(0).max(MAX_DELAY_MS).default(slowMs) }),
      c.req.query(),
      "query",
    );
    await new Promise((r) => setTimeout(r, ms));
    return c.json({ slept: ms });
  });

  routes.get("/api/fail", (c) => c.json({ detail: "Demo failure" }, 500));

  routes.get("/api/status/:code", (c) => {
    const { code } = parseOr400(
      z.object({ code: z.coerce.number().int().min(200).max(599) }),
      c.req.param(),
      "path",
    );
    return c.json({ status: code }, code as 200);
  });

  // What the upstream was sent: lets a user (and the tests) see what the edge forwards.
  routes.get("/api/headers", (c) =>
    c.json({ method: c.req.method, path: c.req.path, headers: c.req.header() }),
  );

  // Streams the request body back without holding it in memory.
  routes.post("/api/echo", (c) => {
    const type = c.req.header("content-type") ?? "application/octet-stream";
    return new Response(c.req.raw.body, { status: 200, headers: { "content-type": type } });
  });

  // Streams `bytes` bytes, generated chunk by chunk.
  routes.get("/api/bytes/:bytes", (c) => {
    const { bytes } = parseOr400(
      z.object({ bytes: z.coerce.number().int().min(0).max(MAX_DOWNLOAD) }),
      c.req.param(),
      "path",
    );
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let left = bytes;
    const stream = new Readable({
      read() {
        if (left <= 0) return void this.push(null);
        const n = Math.min(left, chunk.length);
        left -= n;
        this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      },
    });
    return new Response(Readable.toWeb(stream) as ReadableStream, {
      headers: { "content-type": "application/octet-stream", "content-length": String(bytes) },
    });
  });

  return routes;
}
