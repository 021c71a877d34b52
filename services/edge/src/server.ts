import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { getRequestListener } from "@hono/node-server";
import type { Hono } from "hono";

/** Paths the edge answers itself (health and metrics); every other path goes upstream. */
export const CONTROL_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

const INVALID_TARGET_BODY = JSON.stringify({ detail: "Invalid request target" });

export interface EdgeServer {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return "/";
  const cut = url.indexOf("?");
  return cut === -1 ? url : url.slice(0, cut);
}

/**
 * One listener for both planes: the control paths go to a small Hono app, everything else to
 * the data-plane handler on node's own objects (no fetch Request/Response on the hot path).
 */
export function startEdgeServer(
  control: Hono,
  dataPlane: (req: IncomingMessage, res: ServerResponse) => void,
  { port, host, exchangeTimeoutMs }: { port: number; host: string; exchangeTimeoutMs: number },
): Promise<EdgeServer> {
  const controlListener = getRequestListener(control.fetch);
  const server = createServer(
    // Bounded header size: oversize headers get node's own 431 before any of our code runs.
    // node's own clocks are backstops: a request must arrive whole within the exchange deadline
    // (plus a second, so that the edge's own 504 comes first), its headers within 10 s.
    {
      maxHeaderSize: 16 * 1024,
      requestTimeout: exchangeTimeoutMs + 1000,
      headersTimeout: Math.min(10_000, exchangeTimeoutMs + 1000),
    },
    (req, res) => {
      if (CONTROL_PATHS.has(pathOf(req.url)) && (req.method === "GET" || req.method === "HEAD")) {
        void controlListener(req, res);
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
