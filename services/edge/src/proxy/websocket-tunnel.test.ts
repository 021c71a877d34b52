// The tunnels over real loopback sockets: an upstream WebSocket server and a front server of the
// test's own, nothing else.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import { waitFor } from "@apimon/testkit";
import WebSocket, { WebSocketServer } from "ws";
import {
  createWebSocketTunnels,
  isWebSocketUpgrade,
  keyProtocolOf,
  responseHead,
  type TunnelOutcome,
  type WebSocketTunnels,
  withoutKeyProtocols,
} from "./websocket-tunnel";

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}

describe("isWebSocketUpgrade", () => {
  const req = (method: string, upgrade?: string) =>
    ({ method, headers: upgrade === undefined ? {} : { upgrade } }) as http.IncomingMessage;

  it("is a GET with Upgrade: websocket, in any case", () => {
    expect(isWebSocketUpgrade(req("GET", "websocket"))).toBe(true);
    expect(isWebSocketUpgrade(req("GET", "WebSocket"))).toBe(true);
    expect(isWebSocketUpgrade(req("POST", "websocket"))).toBe(false);
    expect(isWebSocketUpgrade(req("GET", "h2c"))).toBe(false);
    expect(isWebSocketUpgrade(req("GET"))).toBe(false);
  });
});

describe("a key presented as a subprotocol", () => {
  const req = (protocols?: string) =>
    ({
      headers: protocols === undefined ? {} : { "sec-websocket-protocol": protocols },
    }) as http.IncomingMessage;

  it("is the first entry that starts with x-api-key.", () => {
    expect(keyProtocolOf(req("chat, x-api-key.ak_one,x-api-key.ak_two"))).toEqual({
      entry: "x-api-key.ak_one",
      key: "ak_one",
    });
    expect(keyProtocolOf(req("X-Api-Key.ak_one"))).toEqual({ entry: "X-Api-Key.ak_one", key: "ak_one" });
    expect(keyProtocolOf(req("chat, x-api-key."))).toBeUndefined();
    expect(keyProtocolOf(req("chat"))).toBeUndefined();
    expect(keyProtocolOf(req())).toBeUndefined();
  });

  it("never reaches the upstream: its entries are taken out, and the field when nothing is left", () => {
    const fields = () => [
      "accept",
      "*/*",
      "sec-websocket-protocol",
      "placeholder",
      "x-forwarded-for",
      "1.2.3.4",
    ];
    expect(withoutKeyProtocols(req("chat, x-api-key.ak_one, superchat, x-api-key.ak_two"), fields())).toEqual(
      ["accept", "*/*", "sec-websocket-protocol", "chat, superchat", "x-forwarded-for", "1.2.3.4"],
    );
    expect(withoutKeyProtocols(req("x-api-key.ak_one"), fields())).toEqual([
      "accept",
      "*/*",
      "x-forwarded-for",
      "1.2.3.4",
    ]);
    expect(withoutKeyProtocols(req(), ["accept", "*/*"])).toEqual(["accept", "*/*"]);
    // Only names are looked at: a value that reads like the field's name is another field's.
    expect(
      withoutKeyProtocols(req("x-api-key.ak_one"), [
        "x-note",
        "sec-websocket-protocol",
        "accept",
        "*/*",
        "sec-websocket-protocol",
        "placeholder",
      ]),
    ).toEqual(["x-note", "sec-websocket-protocol", "accept", "*/*"]);
  });
});

describe("responseHead", () => {
  it("writes the status line and every value of a repeated field", () => {
    expect(responseHead(429, ["Retry-After", "3", "set-cookie", ["a=1", "b=2"]])).toBe(
      "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n\r\n",
    );
  });
});

describe("WebSocket tunnels", () => {
  let upstream: http.Server;
  let upstreamSockets: WebSocketServer;
  let front: http.Server;
  let frontPort: number;
  let tunnels: WebSocketTunnels;
  let outcomes: Promise<TunnelOutcome>[];
  const counts: number[] = [];
  /** Upgrade sockets the upstream never answered: a server's close waits for them. */
  const hung: Duplex[] = [];

  beforeEach(async () => {
    upstream = http.createServer((_req, res) => res.end());
    upstreamSockets = new WebSocketServer({ noServer: true });
    upstreamSockets.on("connection", (ws, req) => {
      if (req.url === "/protocols") ws.send(`offered ${req.headers["sec-websocket-protocol"] ?? "none"}`);
      else ws.send(`hello ${req.headers["x-apimon-key-id"]}`);
      ws.on("message", (data) => ws.send(data, { binary: false }));
    });
    upstream.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (req.url === "/hang") {
        // Never answers; reads, so that the edge's side ending shows as 'end'.
        hung.push(socket);
        socket.resume();
        return;
      }
      upstreamSockets.handleUpgrade(req, socket, head, (ws) => upstreamSockets.emit("connection", ws, req));
    });
    const upstreamPort = await listen(upstream);
    counts.length = 0;
    tunnels = createWebSocketTunnels({
      upstreamUrl: `http://127.0.0.1:${upstreamPort}`,
      timeoutMs: 300,
      onCountChange: (n) => counts.push(n),
    });
    outcomes = [];
    front = http.createServer((_req, res) => res.end());
    front.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      outcomes.push(
        tunnels.open(req, socket, head, {
          clientIp: "127.0.0.1",
          requestHeaders: { "x-apimon-key-id": "7" },
          responseHeaders: { "X-RateLimit-Minute-Remaining": "41" },
          keyHash: "key-7",
          keyProtocol: keyProtocolOf(req)?.entry,
        }),
      );
    });
    frontPort = await listen(front);
  });

  afterEach(async () => {
    tunnels.closeAll();
    for (const ws of upstreamSockets.clients) ws.terminate();
    for (const socket of hung.splice(0)) socket.destroy();
    upstream.closeAllConnections();
    front.closeAllConnections();
    await Promise.all([
      new Promise((resolve) => upstream.close(resolve)),
      new Promise((resolve) => front.close(resolve)),
    ]);
  });

  /** Opens a client WebSocket through the front; resolves once open with the 101's fields and the first message. */
  const open = (path = "/", protocols: string[] = []) =>
    new Promise<{ ws: WebSocket; headers: http.IncomingHttpHeaders; first: string; closed: Promise<void> }>(
      (resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${frontPort}${path}`, protocols);
        let headers: http.IncomingHttpHeaders = {};
        const closed = new Promise<void>((done) => ws.once("close", () => done()));
        ws.once("upgrade", (res) => {
          headers = res.headers;
        });
        ws.once("message", (data) => resolve({ ws, headers, first: String(data), closed }));
        ws.once("error", reject);
      },
    );

  /** The answer to a handshake the tunnel refuses. */
  const refusal = (path = "/") =>
    new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${frontPort}${path}`);
      ws.once("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      });
      ws.once("open", () => reject(new Error("opened")));
      ws.once("error", () => {});
    });

  it("joins the client to the upstream: its handshake fields and the edge's, then messages both ways", async () => {
    const { ws, headers, first, closed } = await open();
    expect(headers["sec-websocket-accept"]).toBeDefined();
    expect(headers["x-ratelimit-minute-remaining"]).toBe("41");
    expect(first).toBe("hello 7");
    ws.send("ping");
    const echoed = await new Promise((resolve) => ws.once("message", (d) => resolve(String(d))));
    expect(echoed).toBe("ping");
    expect(await outcomes[0]).toMatchObject({ kind: "upgraded", statusCode: 101 });
    expect(tunnels.size()).toBe(1);
    ws.close();
    await closed;
    await waitFor(() => tunnels.size() === 0, { what: "the tunnel to close" });
    expect(counts).toEqual([1, 0]);
  });

  it("answers with the key's subprotocol entry when the upstream chooses none, and the upstream's choice otherwise", async () => {
    const alone = await open("/protocols", ["x-api-key.ak_secret"]);
    expect(alone.first).toBe("offered none");
    expect(alone.headers["sec-websocket-protocol"]).toBe("x-api-key.ak_secret");
    expect(alone.ws.protocol).toBe("x-api-key.ak_secret");

    // The upstream (ws' default) takes the first subprotocol it is offered.
    const withChat = await open("/protocols", ["x-api-key.ak_secret", "chat", "superchat"]);
    expect(withChat.first).toBe("offered chat, superchat");
    expect(withChat.headers["sec-websocket-protocol"]).toBe("chat");
    expect(withChat.ws.protocol).toBe("chat");
    alone.ws.close();
    withChat.ws.close();
    await Promise.all([alone.closed, withChat.closed]);
  });

  it("closes the client's side when the upstream goes away mid-tunnel", async () => {
    const { closed } = await open();
    const outcome = await outcomes[0];
    if (outcome?.kind !== "upgraded") throw new Error("not upgraded");
    for (const ws of upstreamSockets.clients) ws.terminate();
    await closed;
    await outcome.tunnel.closed;
    expect(tunnels.size()).toBe(0);
  });

  it("answers 504 with the edge's fields when the upstream does not answer the handshake in time", async () => {
    const answer = await refusal("/hang");
    expect(answer.status).toBe(504);
    expect(JSON.parse(answer.body)).toEqual({ detail: "Upstream timed out" });
    expect(answer.headers["x-ratelimit-minute-remaining"]).toBe("41");
    expect(await outcomes[0]).toMatchObject({ kind: "timeout", statusCode: 504 });
  });

  it("gives up the upstream's handshake when the client goes away before it is answered", async () => {
    const client = net.connect({ host: "127.0.0.1", port: frontPort });
    client.on("error", () => {});
    client.write(
      "GET /hang HTTP/1.1\r\nHost: edge\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    await waitFor(() => hung.length === 1, { what: "the handshake to reach the upstream" });
    const upstreamEnded = new Promise((resolve) => hung[0]?.once("end", resolve));
    client.destroy();
    expect(await outcomes[0]).toMatchObject({ kind: "aborted", statusCode: 499 });
    await upstreamEnded;
  });

  it("answers 502 when the upstream cannot be reached", async () => {
    await new Promise((resolve) => upstream.close(resolve));
    const answer = await refusal();
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body)).toEqual({ detail: "Upstream unavailable" });
    expect(await outcomes[0]).toMatchObject({ kind: "unreachable", statusCode: 502 });
    upstream = http.createServer();
    await listen(upstream);
  });

  it("cuts only the tunnels of the key hashes closeWhere says yes to", async () => {
    const { closed } = await open();
    expect(tunnels.closeWhere((keyHash) => keyHash === "another key")).toBe(0);
    expect(tunnels.size()).toBe(1);
    expect(tunnels.closeWhere((keyHash) => keyHash === "key-7")).toBe(1);
    await closed;
    await waitFor(() => tunnels.size() === 0, { what: "the tunnel to close" });
  });

  it("cuts every tunnel on closeAll and answers later handshakes 503", async () => {
    const a = await open();
    const b = await open();
    tunnels.closeAll();
    await Promise.all([a.closed, b.closed]);
    const later = await refusal();
    expect(later.status).toBe(503);
    expect(JSON.parse(later.body)).toEqual({ detail: "Edge stopping" });
    expect(later.headers["retry-after"]).toBe("1");
  });
});

describe("a WebSocket tunnel to an upstream named by an IPv6 address", () => {
  it("connects to the address without the URL's brackets", async () => {
    const upstream = http.createServer();
    const sockets = new WebSocketServer({ server: upstream });
    sockets.on("connection", (ws) => ws.send("hello over IPv6"));
    await new Promise<void>((resolve) => upstream.listen(0, "::1", resolve));
    const tunnels = createWebSocketTunnels({
      upstreamUrl: `http://[::1]:${(upstream.address() as AddressInfo).port}`,
    });
    const front = http.createServer();
    const outcomes: Promise<TunnelOutcome>[] = [];
    front.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      outcomes.push(
        tunnels.open(req, socket, head, {
          clientIp: "::1",
          requestHeaders: {},
          responseHeaders: {},
          keyHash: "key-6",
        }),
      );
    });
    const frontPort = await listen(front);
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${frontPort}/`);
      const first = await new Promise<string>((resolve, reject) => {
        ws.once("message", (data) => resolve(String(data)));
        ws.once("error", reject);
      });
      expect(first).toBe("hello over IPv6");
      expect(await outcomes[0]).toMatchObject({ kind: "upgraded" });
      ws.close();
    } finally {
      tunnels.closeAll();
      for (const client of sockets.clients) client.terminate();
      await Promise.all([
        new Promise((resolve) => upstream.close(resolve)),
        new Promise((resolve) => front.close(resolve)),
      ]);
    }
  });
});
