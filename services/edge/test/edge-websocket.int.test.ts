// WebSockets through the edge, end to end: real edge processes in front of the demo upstream's
// echo socket, keys from the keys service, Redis counting, Kafka carrying the events.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { awayFromMinuteEnd, freePort, launchChromium, waitFor } from "@apimon/testkit";
import type { Browser } from "playwright-core";
import WebSocket, { WebSocketServer } from "ws";
import { nodeChoosesUpgrades } from "../src/server";
import { type EdgeProcess, type EdgeStack, startEdgeStack } from "./harness";

let stack: EdgeStack;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!nodeChoosesUpgrades()) {
    throw new Error(
      `WebSockets through the edge need Node.js 24.9 or later; these tests run on ${process.version}. ` +
        "bash .ci/run runs them on the images' Node.js line.",
    );
  }
  stack = await startEdgeStack({
    label: "edge-ws",
    // A short exchange deadline: a WebSocket must outlive it. A generous Redis deadline keeps a
    // loaded machine's decisions global (the fallback is tested in edge-outages).
    edgeEnv: {
      EDGE_EXCHANGE_TIMEOUT_MS: "2000",
      EDGE_MAX_WEBSOCKETS_PER_KEY: "2",
      RATE_LIMIT_TIMEOUT_MS: "1000",
    },
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const edge = () => {
  const e = stack.edges[0];
  if (!e) throw new Error("no edge");
  return e;
};

const wsUrl = (e: EdgeProcess, path = "/api/ws/echo") => `${e.url.replace("http:", "ws:")}${path}`;

interface Opened {
  kind: "open";
  socket: WebSocket;
  /** The 101's header fields. */
  headers: http.IncomingHttpHeaders;
  /** The upstream's first message: the handshake as it received it. */
  seen: { path: string; headers: Record<string, string> };
  /** The next message, as text. */
  next(): Promise<string>;
  closed: Promise<number>;
}

interface Refused {
  kind: "refused";
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Opens a WebSocket through the edge; a refused handshake resolves with the answer instead. */
function connect(
  url: string,
  headers: Record<string, string> = {},
  protocols: string[] = [],
): Promise<Opened | Refused> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, { headers });
    const queue: string[] = [];
    const waiting: Array<(text: string) => void> = [];
    let upgradeHeaders: http.IncomingHttpHeaders = {};
    const closed = new Promise<number>((done) => socket.once("close", (code) => done(code)));
    socket.on("upgrade", (res) => {
      upgradeHeaders = res.headers;
    });
    socket.on("message", (data, isBinary) => {
      const text = isBinary ? `binary:${Buffer.from(data as Buffer).toString("hex")}` : String(data);
      const taker = waiting.shift();
      if (taker) taker(text);
      else queue.push(text);
    });
    const next = () =>
      new Promise<string>((take) => {
        const queued = queue.shift();
        if (queued !== undefined) take(queued);
        else waiting.push(take);
      });
    socket.once("open", async () => {
      const seen = JSON.parse(await next());
      resolve({ kind: "open", socket, headers: upgradeHeaders, seen, next, closed });
    });
    socket.once("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () =>
        resolve({ kind: "refused", status: res.statusCode ?? 0, headers: res.headers, body }),
      );
    });
    socket.once("error", reject);
  });
}

async function opened(
  url: string,
  headers: Record<string, string>,
  protocols: string[] = [],
): Promise<Opened> {
  const result = await connect(url, headers, protocols);
  if (result.kind !== "open") throw new Error(`expected 101, got ${result.status}: ${result.body}`);
  return result;
}

async function refused(
  url: string,
  headers: Record<string, string> = {},
  protocols: string[] = [],
): Promise<Refused> {
  const result = await connect(url, headers, protocols);
  if (result.kind !== "refused") {
    result.socket.close();
    throw new Error("expected the handshake to be refused, it was accepted");
  }
  return result;
}

async function openWebSockets(e: EdgeProcess): Promise<number> {
  const text = await (await fetch(`${e.adminUrl}/metrics`)).text();
  return Number(/^edge_websockets_open(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

function minuteRemaining(e: EdgeProcess, key: string): Promise<string | null> {
  return fetch(`${e.url}/api/users`, { headers: { "x-api-key": key } }).then((res) =>
    res.headers.get("x-ratelimit-minute-remaining"),
  );
}

const eventsOf = (apiKeyId: number) =>
  [...stack.usage.values()]
    .flatMap((seen) => seen.slice(0, 1))
    .filter((event) => event.apiKeyId === apiKeyId);

describe("WebSockets through the edge", () => {
  it("opens with a valid key: 101 with the rate-limit fields, messages both ways, one call counted and recorded", async () => {
    await awayFromMinuteEnd(10);
    const { key, id } = await stack.newKey({ minute: 5 });
    const ws = await opened(wsUrl(edge()), { "X-API-Key": key });

    expect(ws.headers["x-ratelimit-minute-limit"]).toBe("5");
    expect(ws.headers["x-ratelimit-minute-remaining"]).toBe("4");
    expect(ws.headers.ratelimit).toBe(`"minute";r=4;t=${ws.headers["x-ratelimit-minute-reset"]}`);
    expect(ws.headers["sec-websocket-accept"]).toBeDefined();
    // The upstream got the identity fields and the client's address, never the key.
    expect(ws.seen.path).toBe("/api/ws/echo");
    expect(ws.seen.headers["x-apimon-key-id"]).toBe(String(id));
    expect(ws.seen.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(ws.seen.headers["x-api-key"]).toBeUndefined();

    ws.socket.send("hello through the edge");
    expect(await ws.next()).toBe("hello through the edge");
    ws.socket.send(Buffer.from([0, 1, 2, 255]));
    expect(await ws.next()).toBe("binary:000102ff");
    for (let i = 0; i < 20; i++) ws.socket.send(`message ${i}`);
    for (let i = 0; i < 20; i++) expect(await ws.next()).toBe(`message ${i}`);

    // Messages are not calls: the handshake was the only one.
    expect(await minuteRemaining(edge(), key)).toBe("3");
    await waitFor(() => eventsOf(id).length === 2, {
      what: "the handshake's and the request's usage events",
    });
    const handshake = eventsOf(id).find((event) => event.statusCode === 101);
    expect(handshake).toMatchObject({ endpoint: "/api/ws/echo", method: "GET", rateLimited: false });

    expect(await openWebSockets(edge())).toBe(1);
    ws.socket.close(1000);
    expect(await ws.closed).toBe(1000);
    await waitFor(async () => (await openWebSockets(edge())) === 0, { what: "the tunnel to close" });
  });

  it("refuses a handshake without a key or with an unknown key (401, JSON) and records the failures", async () => {
    const missing = await refused(wsUrl(edge()));
    expect(missing.status).toBe(401);
    expect(missing.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(missing.body)).toEqual({ detail: "Missing API key" });
    const unknown = await refused(wsUrl(edge()), { "X-API-Key": "ak_websocketunknown0123456789" });
    expect(unknown.status).toBe(401);
    expect(JSON.parse(unknown.body)).toEqual({ detail: "Invalid API key" });
    await waitFor(
      () =>
        stack.authFailures.some((f) => f.reason === "missing" && f.endpoint === "/api/ws/echo") &&
        stack.authFailures.some((f) => f.reason === "invalid" && f.keyPrefix === "ak_websocke"),
      { what: "both auth failure events" },
    );
  });

  it("takes the key from an x-api-key. subprotocol, which the upstream never sees", async () => {
    await awayFromMinuteEnd(10);
    const { key, id } = await stack.newKey({ minute: 5 });
    const alone = await opened(wsUrl(edge()), {}, [`x-api-key.${key}`]);
    // The upstream chose no subprotocol: the edge answers with the key's, as a browser requires.
    expect(alone.headers["sec-websocket-protocol"]).toBe(`x-api-key.${key}`);
    expect(alone.headers["x-ratelimit-minute-remaining"]).toBe("4");
    expect(alone.seen.headers["x-apimon-key-id"]).toBe(String(id));
    expect(alone.seen.headers["sec-websocket-protocol"]).toBeUndefined();
    expect(JSON.stringify(alone.seen)).not.toContain(key);

    const withChat = await opened(wsUrl(edge()), {}, ["chat", `x-api-key.${key}`]);
    expect(withChat.seen.headers["sec-websocket-protocol"]).toBe("chat");
    expect(withChat.headers["sec-websocket-protocol"]).toBe("chat");
    expect(withChat.headers["x-ratelimit-minute-remaining"]).toBe("3");
    for (const ws of [alone, withChat]) ws.socket.close(1000);

    const unknown = await refused(wsUrl(edge()), {}, ["x-api-key.ak_protocolunknown0123456789"]);
    expect(unknown.status).toBe(401);
    expect(JSON.parse(unknown.body)).toEqual({ detail: "Invalid API key" });
    await waitFor(
      () =>
        eventsOf(id).filter((event) => event.statusCode === 101).length === 2 &&
        stack.authFailures.some((f) => f.reason === "invalid" && f.keyPrefix === "ak_protocol"),
      { what: "two handshakes' usage events and the auth failure" },
    );
  });

  it("serves a browser, which can only present its key as a subprotocol: chromium's WebSocket through the edge", async () => {
    const { key, id } = await stack.newKey();
    browser ??= await launchChromium();
    const tab = await browser.newPage();
    try {
      const talk = (protocol: string) =>
        tab.evaluate(
          ({ url, protocol }) =>
            new Promise<{ opened: boolean; protocol: string; messages: string[] }>((resolve) => {
              // The browser's own WebSocket: this file's `WebSocket` is ws, which the page lacks.
              const Browsers = (globalThis as unknown as { WebSocket: typeof WebSocket }).WebSocket;
              const ws = new Browsers(url, [protocol]);
              const messages: string[] = [];
              ws.onopen = () => ws.send("hello from chromium");
              ws.onmessage = (message) => {
                messages.push(String(message.data));
                if (messages.length === 2) ws.close(1000);
              };
              ws.onclose = () => resolve({ opened: messages.length > 0, protocol: ws.protocol, messages });
            }),
          { url: wsUrl(edge()), protocol },
        );
      const answer = await talk(`x-api-key.${key}`);
      expect(answer.opened).toBe(true);
      expect(answer.protocol).toBe(`x-api-key.${key}`);
      const seen = JSON.parse(answer.messages[0] as string);
      expect(seen.headers["x-apimon-key-id"]).toBe(String(id));
      expect(seen.headers.origin).toBeDefined();
      expect(JSON.stringify(seen)).not.toContain(key);
      expect(answer.messages[1]).toBe("hello from chromium");

      // A browser cannot read a refused handshake's answer: it sees the WebSocket fail.
      const wrong = await talk("x-api-key.ak_chromiumunknown0123456789");
      expect(wrong).toEqual({ opened: false, protocol: "", messages: [] });
      await waitFor(
        () =>
          eventsOf(id).some((event) => event.statusCode === 101) &&
          stack.authFailures.some((f) => f.reason === "invalid" && f.keyPrefix === "ak_chromium"),
        { what: "the browser's handshake recorded, and its refusal" },
      );
    } finally {
      await tab.close();
    }
  });

  it("answers 429 with Retry-After once the key's limit is used up", async () => {
    await awayFromMinuteEnd(10);
    const { key, id } = await stack.newKey({ minute: 1 });
    expect(await minuteRemaining(edge(), key)).toBe("0");
    const denied = await refused(wsUrl(edge()), { "X-API-Key": key });
    expect(denied.status).toBe(429);
    expect(JSON.parse(denied.body).detail).toMatch(
      /^Rate limit exceeded for minute\. Try again in \d+ seconds$/,
    );
    expect(Number(denied.headers["retry-after"])).toBeGreaterThan(0);
    expect(denied.headers["x-ratelimit-minute-remaining"]).toBe("0");
    await waitFor(() => eventsOf(id).some((event) => event.statusCode === 429 && event.rateLimited), {
      what: "the refused handshake's usage event",
    });
  });

  it("relays the upstream's refusal of an upgrade, and answers 502 when the upstream is unreachable", async () => {
    const { key, id } = await stack.newKey();
    const notFound = await refused(wsUrl(edge(), "/api/ws/nowhere"), { "X-API-Key": key });
    expect(notFound.status).toBe(404);
    expect(JSON.parse(notFound.body)).toEqual({ detail: "Not found" });
    expect(notFound.headers["x-ratelimit-minute-remaining"]).toBe("99");
    await waitFor(() => eventsOf(id).some((event) => event.statusCode === 404), {
      what: "the 404's usage event",
    });

    const lost = await stack.startEdge({ UPSTREAM_URL: `http://127.0.0.1:${await freePort()}` });
    try {
      const unreachable = await refused(wsUrl(lost), { "X-API-Key": key });
      expect(unreachable.status).toBe(502);
      expect(JSON.parse(unreachable.body)).toEqual({ detail: "Upstream unavailable" });
      expect(unreachable.headers["x-ratelimit-minute-limit"]).toBe("100");
    } finally {
      await stack.stopEdge(lost);
    }
  });

  it("holds a key to EDGE_MAX_WEBSOCKETS_PER_KEY open at once (429, uncounted) and frees a place when one closes", async () => {
    await awayFromMinuteEnd(10);
    const { key } = await stack.newKey();
    const first = await opened(wsUrl(edge()), { "X-API-Key": key });
    const second = await opened(wsUrl(edge()), { "X-API-Key": key });
    const third = await refused(wsUrl(edge()), { "X-API-Key": key });
    expect(third.status).toBe(429);
    expect(JSON.parse(third.body)).toEqual({
      detail: "Too many open WebSockets for this API key: at most 2",
    });
    expect(third.headers["retry-after"]).toBe("1");
    // Refused over the cap: no quota used (two handshakes so far).
    expect(third.headers["x-ratelimit-minute-remaining"]).toBe("98");
    // Plain requests of the key are not held back by its WebSockets.
    expect(await minuteRemaining(edge(), key)).toBe("97");

    first.socket.close();
    await first.closed;
    await waitFor(async () => (await connect(wsUrl(edge()), { "X-API-Key": key })).kind === "open", {
      what: "a place to free up",
    });
    second.socket.close();
  });

  it("has the kernel probe both connections of a WebSocket, so that a peer that vanished is cut", async () => {
    // An upstream of this test's own, so that the tunnel's is the only connection to it.
    const upstream = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    upstream.on("connection", (ws, req) => ws.send(JSON.stringify({ path: req.url, headers: req.headers })));
    await new Promise((resolve) => upstream.once("listening", resolve));
    const upstreamPort = (upstream.address() as AddressInfo).port;
    const own = await stack.startEdge({ UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}` });
    try {
      const { key } = await stack.newKey();
      const ws = await opened(wsUrl(own), { "X-API-Key": key });
      // The edge's two sockets, as the kernel sees them: timer:(keepalive,…) once probing is on.
      const established = (filter: string) =>
        execFileSync("ss", ["-tnoH", "state", "established", filter], { encoding: "utf8" });
      const probed = (text: string) => text.match(/timer:\(keepalive,/g)?.length ?? 0;
      const clients = () => established(`( sport = :${new URL(own.url).port} )`);
      // The client's side: the tunnel's connection is probed, the harness' plain HTTP ones are not.
      expect(probed(clients())).toBe(1);
      const toUpstream = established(`( dport = :${upstreamPort} )`);
      expect(toUpstream.trim().split("\n")).toHaveLength(1);
      expect(probed(toUpstream)).toBe(1);
      ws.socket.close(1000);
      await ws.closed;
      await waitFor(() => probed(clients()) === 0, { what: "the tunnel's connection to go" });
    } finally {
      await stack.stopEdge(own);
      await new Promise((resolve) => upstream.close(resolve));
    }
  });

  it("cuts a key's open WebSocket within seconds of its deactivation", async () => {
    const { key, id } = await stack.newKey();
    const ws = await opened(wsUrl(edge()), { "X-API-Key": key });
    const since = Date.now();
    await stack.keys.updateKey(id, { isActive: false });
    await ws.closed;
    const afterMs = Date.now() - since;
    process.stdout.write(`deactivation → WebSocket closed after ${afterMs} ms\n`);
    expect(afterMs).toBeLessThan(10_000);
    const again = await refused(wsUrl(edge()), { "X-API-Key": key });
    expect(again.status).toBe(403);
    expect(JSON.parse(again.body)).toEqual({ detail: "API key is inactive" });
  });

  it("keeps a WebSocket open past the exchange deadline and the request timeouts", async () => {
    const { key } = await stack.newKey();
    const ws = await opened(wsUrl(edge()), { "X-API-Key": key });
    // EDGE_EXCHANGE_TIMEOUT_MS is 2 s here, node's requestTimeout 3 s.
    await new Promise((resolve) => setTimeout(resolve, 4500));
    ws.socket.send("still here");
    expect(await ws.next()).toBe("still here");
    ws.socket.close();
    await ws.closed;
  });

  it("reaches an https upstream, trusting the CA named by NODE_EXTRA_CA_CERTS", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "apimon-ws-tls-"));
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        .concat(["-addext", "subjectAltName=IP:127.0.0.1"])
        .concat(["-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")]),
      { stdio: "ignore" },
    );
    const server = https.createServer({
      key: fs.readFileSync(path.join(dir, "key.pem")),
      cert: fs.readFileSync(path.join(dir, "cert.pem")),
    });
    const sockets = new WebSocketServer({ server });
    sockets.on("connection", (ws, req) => {
      ws.send(JSON.stringify({ path: req.url, headers: req.headers }));
      ws.on("message", (data) => ws.send(data, { binary: false }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const tlsEdge = await stack.startEdge({
      UPSTREAM_URL: `https://127.0.0.1:${port}/v1`,
      NODE_EXTRA_CA_CERTS: path.join(dir, "cert.pem"),
    });
    try {
      const { key, id } = await stack.newKey();
      const ws = await opened(wsUrl(tlsEdge), { "X-API-Key": key });
      expect(ws.seen.path).toBe("/v1/api/ws/echo");
      expect(ws.seen.headers["x-apimon-key-id"]).toBe(String(id));
      ws.socket.send("over TLS");
      expect(await ws.next()).toBe("over TLS");
      ws.socket.close();
      await ws.closed;
    } finally {
      await stack.stopEdge(tlsEdge);
      for (const client of sockets.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers any other Upgrade (h2c) as plain HTTP/1.1", async () => {
    const { key } = await stack.newKey();
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${edge().url}/api/users`, {
        agent: false,
        headers: {
          "X-API-Key": key,
          Connection: "Upgrade, HTTP2-Settings",
          Upgrade: "h2c",
          "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA",
        },
      });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("upgrade", () => reject(new Error("the edge switched protocols")));
      req.on("error", reject);
      req.end();
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).items).toHaveLength(3);
  });

  it("cuts open WebSockets on a graceful shutdown, which then completes", async () => {
    const extra = await stack.startEdge();
    const { key } = await stack.newKey();
    const ws = await opened(wsUrl(extra), { "X-API-Key": key });
    const exit = stack.stopEdge(extra);
    await ws.closed;
    expect(await exit).toBe(0);
  });
});
