import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { getRequestListener } from "@hono/node-server";
import type { Hono } from "hono";

/** The one path the client port answers itself; /readyz and /metrics there are the upstream's. */
export const LIVENESS_PATH = "/healthz";
const LIVENESS_BODY = JSON.stringify({ status: "ok" });

const INVALID_TARGET_BODY = JSON.stringify({ detail: "Invalid request target" });

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
 * handler on node's own objects (no fetch Request/Response on the hot path).
 */
export function startEdgeServer(
  dataPlane: (req: IncomingMessage, res: ServerResponse) => void,
  {
    port,
    host,
    exchangeTimeoutMs,
    configure,
  }: {
    port: number;
    host: string;
    exchangeTimeoutMs: number;
    /** Called with the server before it listens (connection caps). */
    configure?: (server: Server) => void;
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
    },
    (req, res) => {
      if (isLiveness(req)) {
        res.writeHead(200, { "content-type": "application/json", "content-length": LIVENESS_BODY.length });
        res.end(req.method === "HEAD" ? undefined : LIVENESS_BODY);
        return;
      }
      dataPlane(req, res);
    },
  );
  // CONNECT asks for a tunnel, which the edge never opens; node hands it to this event, not to
  // the request listener, and would drop the connection without an answer.
  server.on("connect", (_req: IncomingMessage, socket: Duplex) => {
    socket.on("error", () => {});
    socket.end(
      `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${INVALID_TARGET_BODY.length}\r\nConnection: close\r\n\r\n${INVALID_TARGET_BODY}`,
    );
  });
  // Keep-alive sockets would hold close() open for their whole idle timeout; clients of a proxy
  // reuse connections heavily, so keep them a little longer than node's 5 s default.
  server.keepAliveTimeout = 10_000;
  configure?.(server);
  return listen(server, port, host);
}
