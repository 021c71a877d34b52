import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { getRequestListener } from "@hono/node-server";
import type { Hono } from "hono";
import { INVALID_TARGET_DETAIL } from "./edge-handler";
import { isWebSocketUpgrade, sendSocketJsonError } from "./proxy/websocket-tunnel";

/** The one path the client port answers itself; /readyz and /metrics there are the upstream's. */
export const LIVENESS_PATH = "/healthz";
const LIVENESS_BODY = JSON.stringify({ status: "ok" });

/**
 * Whether this node lets the server choose which upgrade requests become 'upgrade' events
 * (`shouldUpgradeCallback`, node 24.9). Without it, every request with an Upgrade field would
 * leave the request listener once an 'upgrade' listener exists, HTTP/2 cleartext upgrades
 * (`Upgrade: h2c`, which the edge answers as plain HTTP/1.1) included.
 */
export function nodeChoosesUpgrades(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > 24 || (major === 24 && minor >= 9);
}

export const WEBSOCKETS_NEED_NODE_DETAIL = "WebSocket upgrades need Node.js 24.9 or later at the edge";

/** What the client port hands on: requests, and WebSocket handshakes with their socket. */
export interface DataPlane {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export interface EdgeServer {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

function isLiveness(req: IncomingMessage): boolean {
  const url = req.url ?? "";
  return (
    url.startsWith(LIVENESS_PATH) &&
    (url.length === LIVENESS_PATH.length || url.charCodeAt(LIVENESS_PATH.length) === 0x3f) /* "?" */ &&
    (req.method === "GET" || req.method === "HEAD")
  );
}

function listen(server: Server, port: number, host: string): Promise<EdgeServer> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve({
        server,
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeIdleConnections();
          }),
      });
    });
  });
}

/** The admin port: the Hono app with /healthz, /readyz (every check) and /metrics. */
export function startAdminServer(
  admin: Hono,
  { port, host }: { port: number; host: string },
): Promise<EdgeServer> {
  return listen(createServer(getRequestListener(admin.fetch)), port, host);
}

/**
 * The client port: a bare /healthz for load balancers, everything else to the data-plane
 * handler on node's own objects (no fetch Request/Response on the hot path). WebSocket
 * handshakes go to the data plane's `upgrade`; any other Upgrade field is ignored, and the
 * request answered as HTTP/1.1.
 */
export function startEdgeServer(
  dataPlane: DataPlane,
  {
    port,
    host,
    exchangeTimeoutMs,
    configure,
    webSockets = nodeChoosesUpgrades(),
  }: {
    port: number;
    host: string;
    exchangeTimeoutMs: number;
    /** Called with the server before it listens (connection caps). */
    configure?: (server: Server) => void;
    /** False on a node that cannot pick out WebSocket upgrades: they are answered 501. */
    webSockets?: boolean;
  },
): Promise<EdgeServer> {
  const server = createServer(
    // Bounded header size: oversize headers get node's own 431 before any of our code runs.
    // node's own clocks are backstops: a request must arrive whole within the exchange deadline
    // (plus a second, so that the edge's own 504 comes first), its headers within 10 s. node
    // enforces both only when it sweeps its connections, every 30 s by default: every second,
    // a connection that never sends its headers is closed soon after 10 s, not up to 40 s.
    {
      maxHeaderSize: 16 * 1024,
      requestTimeout: exchangeTimeoutMs + 1000,
      headersTimeout: Math.min(10_000, exchangeTimeoutMs + 1000),
      connectionsCheckingInterval: 1000,
      // Only WebSocket handshakes leave the request listener (node 24.9 and later).
      ...(webSockets ? { shouldUpgradeCallback: isWebSocketUpgrade } : {}),
    },
    (req, res) => {
      if (isLiveness(req)) {
        res.writeHead(200, { "content-type": "application/json", "content-length": LIVENESS_BODY.length });
        res.end(req.method === "HEAD" ? undefined : LIVENESS_BODY);
        return;
      }
      if (!webSockets && isWebSocketUpgrade(req)) {
        // Forwarded as a plain request, the handshake would reach the upstream without its
        // Upgrade field and the client would get an answer it cannot use.
        res.writeHead(501, { "content-type": "application/json" });
        res.end(JSON.stringify({ detail: WEBSOCKETS_NEED_NODE_DETAIL }));
        return;
      }
      dataPlane.request(req, res);
    },
  );
  if (webSockets) {
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // An Upgrade this edge does not tunnel can only arrive here on a node without
      // shouldUpgradeCallback, where webSockets is false: answered, never dropped.
      if (!isWebSocketUpgrade(req)) return sendSocketJsonError(socket, 400, "Unsupported upgrade");
      dataPlane.upgrade(req, socket, head);
    });
  }
  // CONNECT asks for a tunnel, which the edge never opens; node hands it to this event, not to
  // the request listener, and would drop the connection without an answer.
  server.on("connect", (_req: IncomingMessage, socket: Duplex) => {
    socket.on("error", () => {});
    sendSocketJsonError(socket, 400, INVALID_TARGET_DETAIL);
  });
  // Keep-alive sockets would hold close() open for their whole idle timeout; clients of a proxy
  // reuse connections heavily, so keep them a little longer than node's 5 s default.
  server.keepAliveTimeout = 10_000;
  configure?.(server);
  return listen(server, port, host);
}
