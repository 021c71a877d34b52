import * as net from "node:net";
import { freePort } from "./broker";

export interface TcpProxy {
  /** The port clients connect to (on 127.0.0.1). */
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  /** Stops accepting and cuts every open connection: to the client the target "went away". */
  interrupt(): Promise<void>;
  /**
   * Keeps forwarding what clients send but holds back what the target answers, until the next
   * interrupt() drops it: a request that reached the target whose response was lost.
   */
  holdResponses(): void;
  /** Accepts and forwards again, on the same port. */
  resume(): Promise<void>;
  /** Like interrupt(), for good. */
  close(): Promise<void>;
}

/**
 * A TCP forwarder from a local port to `target` that a test can interrupt and resume, so that a
 * component under test sees Postgres, Redis or an HTTP target go away and come back, without
 * stopping the shared service every other test uses. Its port comes from `freePort` unless given:
 * resume() binds the same port again, so it must be one no outgoing connection can take meanwhile.
 */
export async function createTcpProxy(
  target: { host: string; port: number },
  port?: number,
): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let boundPort = port ?? (await freePort());
  const upstreams = new Map<net.Socket, net.Socket>();
  let holding = false;

  function listen(): Promise<void> {
    const srv = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      sockets.add(client);
      sockets.add(upstream);
      upstreams.set(upstream, client);
      const cleanup = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
        upstreams.delete(upstream);
      };
      client.on("error", cleanup).on("close", cleanup);
      upstream.on("error", cleanup).on("close", cleanup);
      client.pipe(upstream);
      if (holding) upstream.pause();
      else upstream.pipe(client);
    });
    server = srv;
    return new Promise((resolve, reject) => {
      srv.once("error", reject);
      srv.listen(boundPort, "127.0.0.1", () => {
        srv.off("error", reject);
        boundPort = (srv.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  async function interrupt(): Promise<void> {
    const srv = server;
    server = undefined;
    holding = false;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    upstreams.clear();
    if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
  }

  await listen();
  return {
    get port() {
      return boundPort;
    },
    get address() {
      return `127.0.0.1:${boundPort}`;
    },
    interrupt,
    holdResponses() {
      holding = true;
      for (const [upstream, client] of upstreams) {
        upstream.unpipe(client);
        upstream.pause();
      }
    },
    async resume() {
      if (!server) await listen();
    },
    close: interrupt,
  };
}
