import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";

export const ECHO_SOCKET_PATH = "/api/ws/echo";

const NOT_FOUND_BODY = JSON.stringify({ detail: "Not found" });

/**
 * A WebSocket at /api/ws/echo. Its first message is the handshake as the upstream received it
 * (`{"path", "headers"}`: what the edge forwards); every message after that comes back as sent.
 * Any other upgrade gets 404, as a plain request to an unknown path would.
 */
export function createEchoSocket(): { attach(server: Server): void; close(): void } {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  sockets.on("connection", (socket, req: IncomingMessage) => {
    socket.send(JSON.stringify({ path: req.url, headers: req.headers }));
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  return {
    attach(server) {
      server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        socket.on("error", () => {});
        if ((req.url ?? "").split("?")[0] !== ECHO_SOCKET_PATH) {
          socket.end(
            `HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: ${NOT_FOUND_BODY.length}\r\nconnection: close\r\n\r\n${NOT_FOUND_BODY}`,
          );
          return;
        }
        sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit("connection", ws, req));
      });
    },
    /** Ends every open WebSocket (1001, going away): the server's close waits for them otherwise. */
    close() {
      for (const client of sockets.clients) {
        client.close(1001, "server stopping");
        setTimeout(() => client.terminate(), 1000).unref();
      }
      sockets.close();
    },
  };
}
