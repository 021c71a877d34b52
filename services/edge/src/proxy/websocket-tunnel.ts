// WebSockets through the edge. The handshake goes to the upstream as an HTTP/1.1 request on a
// connection of its own (a tunnel holds it for its whole life, so it never comes from the keep-
// alive pool); once the upstream answers 101 the client's socket and the upstream's are joined
// byte for byte. The edge never reads the frames: a WebSocket is one call, authenticated, counted
// and recorded at its handshake.

import type { IncomingMessage, OutgoingHttpHeader } from "node:http";
import * as http from "node:http";
import * as https from "node:https";
import { isIP, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import {
  clientProto,
  clientResponseHeaders,
  UPSTREAM_TIMEOUT_DETAIL,
  UPSTREAM_UNAVAILABLE_DETAIL,
  upstreamRequestHeaders,
} from "./upstream-proxy";

/** A WebSocket opening handshake (RFC 6455 § 4.1): GET with `Upgrade: websocket`. */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  return req.method === "GET" && typeof upgrade === "string" && upgrade.trim().toLowerCase() === "websocket";
}

export const EDGE_STOPPING_DETAIL = "Edge stopping";

/**
 * A browser's `WebSocket` cannot set header fields, only subprotocols: it may present its key as
 * the subprotocol `x-api-key.<key>` (an API key is base64url, so it is a valid protocol token).
 */
export const KEY_PROTOCOL_PREFIX = "x-api-key.";

/** The `Sec-WebSocket-Protocol` entries of a handshake, in the client's order. */
function offeredProtocols(req: IncomingMessage): string[] {
  const value = req.headers["sec-websocket-protocol"];
  if (value === undefined) return [];
  return value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
}

const isKeyProtocol = (entry: string) =>
  entry.length > KEY_PROTOCOL_PREFIX.length && entry.toLowerCase().startsWith(KEY_PROTOCOL_PREFIX);

/** The first subprotocol entry that carries a key, if the client offered one. */
export function keyProtocolOf(req: IncomingMessage): { entry: string; key: string } | undefined {
  const entry = offeredProtocols(req).find(isKeyProtocol);
  return entry === undefined ? undefined : { entry, key: entry.slice(KEY_PROTOCOL_PREFIX.length) };
}

/**
 * The handshake's fields for the upstream without any subprotocol entry that carries a key: the
 * upstream never sees a key, however it was presented. The field goes when nothing is left in it.
 */
export function withoutKeyProtocols(req: IncomingMessage, fields: string[]): string[] {
  let at = 0;
  while (at < fields.length && fields[at] !== "sec-websocket-protocol") at += 2;
  if (at >= fields.length) return fields;
  const rest = offeredProtocols(req).filter((entry) => !isKeyProtocol(entry));
  if (rest.length > 0) fields[at + 1] = rest.join(", ");
  else fields.splice(at, 2);
  return fields;
}

/** What a client may send after its handshake before the upstream has answered it. */
const MAX_EARLY_BYTES = 64 * 1024;

/** How long a refused client's socket stays open for it to read the answer. */
const CLOSE_GRACE_MS = 1000;

/**
 * Idle time after which the kernel probes a tunnel's connections. A WebSocket has no deadline,
 * so a peer that vanished without closing (a phone that lost its network, a machine switched
 * off) would otherwise hold its tunnel, and a place of its key's cap, until the edge restarts:
 * node (libuv 1.49 and later) probes every second after this, ten times, then cuts the connection.
 */
export const TUNNEL_KEEPALIVE_MS = 30_000;

/** A status line and header block; `fields` is a flat [name, value, …] list, values may repeat. */
export function responseHead(statusCode: number, fields: readonly OutgoingHttpHeader[]): string {
  let head = `HTTP/1.1 ${statusCode} ${http.STATUS_CODES[statusCode] ?? "Unknown"}\r\n`;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1];
    for (const each of Array.isArray(value) ? value : [value]) head += `${fields[i]}: ${each}\r\n`;
  }
  return `${head}\r\n`;
}

/**
 * Answers on a socket that node's HTTP parser has let go (an upgrade request): a `{"detail"}` JSON
 * body, then the connection ends. The socket is destroyed after a grace period in case the client
 * never closes its side.
 */
export function sendSocketJsonError(
  socket: Duplex,
  statusCode: number,
  detail: string,
  headers: Record<string, string> = {},
): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ detail });
  const fields: string[] = [];
  for (const name of Object.keys(headers)) fields.push(name, headers[name] as string);
  fields.push("Content-Type", "application/json", "Content-Length", String(Buffer.byteLength(body)));
  fields.push("Connection", "close");
  socket.end(responseHead(statusCode, fields) + body);
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
}

/** An open WebSocket: the client's socket joined to the upstream's. */
export interface Tunnel {
  /** Cuts both connections (the key was revoked, the edge is stopping). */
  close(): void;
  /** Resolves once both connections are closed, whichever side ended first. */
  readonly closed: Promise<void>;
}

export type TunnelOutcome =
  /** The upstream switched protocols: the tunnel is open. */
  | { kind: "upgraded"; statusCode: 101; tunnel: Tunnel }
  /** The upstream declined the upgrade: its answer went to the client, and the connection ends. */
  | { kind: "response"; statusCode: number }
  | { kind: "unreachable"; statusCode: 502; error: Error }
  | { kind: "timeout"; statusCode: 504; error: Error }
  /** The client went away during the handshake. */
  | { kind: "aborted"; statusCode: 499; error?: Error }
  /** The edge is shutting down: 503. */
  | { kind: "stopping"; statusCode: 503 };

export interface TunnelRequest {
  /** The client's address, appended to X-Forwarded-For. */
  clientIp: string;
  /** Added to (and replacing) the handshake's header fields sent upstream, e.g. identity fields. */
  requestHeaders: Record<string, string>;
  /** Added to the answer sent to the client, 101 included, e.g. rate-limit fields. */
  responseHeaders: Record<string, string>;
  /** The hash of the key that opens it, which closeWhere is asked about. */
  keyHash: string;
  /**
   * The subprotocol entry the key came in, if it came that way. A browser fails a WebSocket whose
   * 101 names none of the subprotocols it offered, so when the upstream chooses none the edge
   * answers with this one, the only entry it can vouch for.
   */
  keyProtocol?: string;
}

export interface WebSocketTunnels {
  /** Sends the handshake upstream and answers the client; never throws. */
  open(req: IncomingMessage, socket: Duplex, head: Buffer, request: TunnelRequest): Promise<TunnelOutcome>;
  /** Tunnels open now. */
  size(): number;
  /** Cuts the open tunnels whose key hash `revoked` says yes to; returns how many. */
  closeWhere(revoked: (keyHash: string) => boolean): number;
  /** Cuts every open tunnel; handshakes after this get 503 (the edge is stopping). */
  closeAll(): void;
}

export interface WebSocketTunnelOptions {
  /** Origin and optional base path, as for the HTTP proxy. */
  upstreamUrl: string;
  /** Until the upstream answers the handshake. */
  timeoutMs?: number;
  /** Keep an incoming X-Forwarded-Proto: only behind proxies the edge trusts. */
  trustForwardedProto?: boolean;
  /** Called whenever the number of open tunnels changes. */
  onCountChange?: (open: number) => void;
}

class HandshakeTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`the upstream did not answer the WebSocket handshake within ${timeoutMs} ms`);
    this.name = "HandshakeTimeoutError";
  }
}

function join(client: Duplex, upstream: Duplex): Tunnel {
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  const sides = [client, upstream].map((socket) => {
    socket.on("error", () => {});
    const tcp = socket as Partial<Pick<Socket, "setNoDelay" | "setKeepAlive">>;
    tcp.setNoDelay?.(true);
    tcp.setKeepAlive?.(true, TUNNEL_KEEPALIVE_MS);
    // One side gone: the other has nobody to talk to.
    return new Promise<void>((resolve) => socket.once("close", () => resolve(close())));
  });
  client.pipe(upstream);
  upstream.pipe(client);
  return { close, closed: Promise.all(sides).then(() => undefined) };
}

export function createWebSocketTunnels({
  upstreamUrl,
  timeoutMs = 30_000,
  trustForwardedProto = false,
  onCountChange,
}: WebSocketTunnelOptions): WebSocketTunnels {
  const base = new URL(upstreamUrl);
  const basePath = base.pathname.replace(/\/+$/, "");
  const secure = base.protocol === "https:";
  /** The URL's host without an IPv6 address' brackets, as a connection wants it. */
  const host = base.hostname.replace(/^\[(.*)\]$/, "$1");
  const transport = secure ? https : http;
  /** Every open tunnel, with the hash of the key that opened it. */
  const open = new Map<Tunnel, string>();
  let stopping = false;

  function track(tunnel: Tunnel, keyHash: string): void {
    open.set(tunnel, keyHash);
    onCountChange?.(open.size);
    void tunnel.closed.then(() => {
      open.delete(tunnel);
      onCountChange?.(open.size);
    });
  }

  return {
    open(req, socket, head, { clientIp, requestHeaders, responseHeaders, keyHash, keyProtocol }) {
      socket.on("error", () => {});
      if (socket.destroyed) return Promise.resolve({ kind: "aborted", statusCode: 499 });
      if (stopping) {
        sendSocketJsonError(socket, 503, EDGE_STOPPING_DETAIL, { ...responseHeaders, "Retry-After": "1" });
        return Promise.resolve({ kind: "stopping", statusCode: 503 });
      }
      const proto = clientProto(req, trustForwardedProto);
      const headers = withoutKeyProtocols(
        req,
        upstreamRequestHeaders(req.headers, { clientIp, proto, extra: requestHeaders }),
      );
      headers.push("host", base.host, "connection", "Upgrade", "upgrade", "websocket");

      return new Promise<TunnelOutcome>((resolve) => {
        let settled = false;
        let timedOut = false;
        /** Stops watching the client for the handshake (before its socket is joined or answered). */
        const detach = () => {
          socket.off("close", onClientClose);
          socket.off("end", onClientClose);
          socket.off("data", onEarly);
        };
        const settle = (outcome: TunnelOutcome) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          detach();
          resolve(outcome);
        };
        const upstream = transport.request({
          host,
          port: base.port || (secure ? 443 : 80),
          path: basePath + (req.url ?? "/"),
          method: "GET",
          headers,
          agent: false,
          // SNI names a host, never an address (RFC 6066).
          ...(secure && isIP(host) === 0 ? { servername: host } : {}),
        });
        const onClientClose = () => {
          upstream.destroy();
          socket.destroy();
          settle({ kind: "aborted", statusCode: 499 });
        };
        // The socket is read from now on: a client that hangs up is noticed (its end arrives only
        // through reading), and what it sends before the upstream's answer is kept for the
        // upstream, within a bound.
        const early: Buffer[] = head.length > 0 ? [head] : [];
        let earlyBytes = head.length;
        const onEarly = (chunk: Buffer) => {
          early.push(chunk);
          earlyBytes += chunk.length;
          if (earlyBytes > MAX_EARLY_BYTES) onClientClose();
        };
        socket.on("data", onEarly);
        socket.once("end", onClientClose);
        socket.once("close", onClientClose);
        const timer = setTimeout(() => {
          timedOut = true;
          upstream.destroy(new HandshakeTimeoutError(timeoutMs));
        }, timeoutMs);

        upstream.on("upgrade", (answer: IncomingMessage, upstreamSocket: Duplex, upstreamHead: Buffer) => {
          if (settled || socket.destroyed) {
            upstreamSocket.destroy();
            return settle({ kind: "aborted", statusCode: 499 });
          }
          // The upstream's handshake fields as it sent them (Sec-WebSocket-Accept, the chosen
          // subprotocol and extensions), then the edge's.
          const fields: string[] = [...answer.rawHeaders];
          if (keyProtocol !== undefined && answer.headers["sec-websocket-protocol"] === undefined) {
            fields.push("Sec-WebSocket-Protocol", keyProtocol);
          }
          for (const name of Object.keys(responseHeaders)) fields.push(name, responseHeaders[name] as string);
          socket.write(responseHead(101, fields));
          if (upstreamHead.length > 0) socket.write(upstreamHead);
          for (const chunk of early) upstreamSocket.write(chunk);
          detach();
          const tunnel = join(socket, upstreamSocket);
          track(tunnel, keyHash);
          settle({ kind: "upgraded", statusCode: 101, tunnel });
        });

        upstream.on("response", (answer: IncomingMessage) => {
          if (settled) return void answer.destroy();
          // node has decoded the body's framing: it goes to the client delimited by the close.
          const fields = clientResponseHeaders(answer.headers, responseHeaders);
          fields.push("connection", "close");
          socket.write(responseHead(answer.statusCode ?? 502, fields));
          answer.on("error", () => socket.destroy());
          socket.once("close", () => answer.destroy());
          answer.pipe(socket);
          settle({ kind: "response", statusCode: answer.statusCode ?? 502 });
        });

        upstream.on("error", (error: Error) => {
          if (settled) return;
          if (timedOut) {
            sendSocketJsonError(socket, 504, UPSTREAM_TIMEOUT_DETAIL, responseHeaders);
            return settle({ kind: "timeout", statusCode: 504, error });
          }
          sendSocketJsonError(socket, 502, UPSTREAM_UNAVAILABLE_DETAIL, responseHeaders);
          settle({ kind: "unreachable", statusCode: 502, error });
        });
        upstream.end();
      });
    },
    size: () => open.size,
    closeWhere(revoked) {
      let closed = 0;
      for (const [tunnel, keyHash] of open) {
        if (!revoked(keyHash)) continue;
        tunnel.close();
        closed += 1;
      }
      return closed;
    },
    closeAll() {
      stopping = true;
      for (const tunnel of open.keys()) tunnel.close();
    },
  };
}
