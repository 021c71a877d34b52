import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as net from "node:net";
import { createLogger, Registry } from "@apimon/observability";
import { metricValue, waitFor } from "@apimon/testkit";
import { defaultMaxConnections, limitConnections, openFilesLimit } from "./connection-limits";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            20000                524288               files
Max locked memory         8388608              8388608              bytes
`;

describe("the default connection cap", () => {
  it("reads the soft open-files limit", () => {
    expect(openFilesLimit(LIMITS)).toBe(20000);
    expect(openFilesLimit(LIMITS.replace("20000     ", "unlimited "))).toBe(Number.POSITIVE_INFINITY);
    expect(openFilesLimit("nothing here")).toBeUndefined();
  });

  it("keeps the upstream pool and 512 descriptors, within 64 and 65,536", () => {
    expect(defaultMaxConnections(128, LIMITS)).toBe(20000 - 128 - 512);
    expect(defaultMaxConnections(128, LIMITS.replace("20000", "1024 "))).toBe(1024 - 128 - 512);
    expect(defaultMaxConnections(128, LIMITS.replace("20000", "256  "))).toBe(64);
    expect(defaultMaxConnections(128, LIMITS.replace("20000", "1048576"))).toBe(65_536);
    expect(defaultMaxConnections(128, "no limits file")).toBe(10_000);
  });
});

describe("limitConnections on a real server", () => {
  let server: Server;
  let port: number;
  let registry: Registry;
  let caps: ReturnType<typeof limitConnections>;
  const sockets: net.Socket[] = [];

  const start = async (limits: { maxConnections: number; maxPerSource: number }) => {
    registry = new Registry();
    server = createServer((_req, res) => res.end("ok"));
    caps = limitConnections(server, limits, {
      logger: createLogger({ service: "test", level: "silent" }),
      registry,
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  };

  /** A connection from that local address, once connected; `closed` settles when it ends. */
  const connect = (localAddress: string) =>
    new Promise<{ socket: net.Socket; closed: Promise<void> }>((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port, localAddress });
      sockets.push(socket);
      const closed = new Promise<void>((done) => socket.once("close", () => done()));
      socket.on("error", () => {});
      socket.once("connect", () => resolve({ socket, closed }));
      socket.once("error", reject);
    });

  /** Whether the server answers a request on a fresh connection from that address. */
  const answers = async (localAddress: string) => {
    const { socket, closed } = await connect(localAddress);
    let text = "";
    socket.on("data", (d) => {
      text += d.toString();
    });
    socket.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await closed;
    return text.startsWith("HTTP/1.1 200");
  };

  const refused = async (reason: string) =>
    (await registry.getSingleMetric("edge_connections_refused_total")?.get())?.values.find(
      (v) => v.labels.reason === reason,
    )?.value ?? 0;

  /** Until the server has seen the closes and holds `n` connections. */
  const openConnections = (n: number) =>
    waitFor(async () => (await metricValue(registry, "edge_client_connections")) === n, {
      what: `${n} open connections`,
    });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it("closes a source's connection beyond its share, and others still get in", async () => {
    await start({ maxConnections: 100, maxPerSource: 3 });
    for (let i = 0; i < 3; i++) await connect("127.0.0.1");
    expect(await answers("127.0.0.1")).toBe(false);
    expect(await refused("source_full")).toBe(1);
    expect(await answers("127.0.0.2")).toBe(true);

    // A source that closes a connection may open another.
    sockets[0]?.destroy();
    await openConnections(2);
    expect(await answers("127.0.0.1")).toBe(true);
  });

  it("closes any connection beyond the edge's cap until one ends", async () => {
    await start({ maxConnections: 4, maxPerSource: 0 });
    const held = [];
    for (let i = 0; i < 4; i++) held.push(await connect(`127.0.0.${i + 1}`));
    expect(await answers("127.0.0.9")).toBe(false);
    expect(await refused("edge_full")).toBe(1);
    const open = await registry.getSingleMetric("edge_client_connections")?.get();
    expect(open?.values[0]?.value).toBe(4);

    held[0]?.socket.destroy();
    await held[0]?.closed;
    await openConnections(3);
    expect(await answers("127.0.0.9")).toBe(true);
  });

  it("gives a place of the cap to each descriptor held beyond the client connections (open WebSockets)", async () => {
    await start({ maxConnections: 4, maxPerSource: 0 });
    await connect("127.0.0.1");
    caps.holdDescriptors(2);
    expect(await answers("127.0.0.2")).toBe(true);
    await openConnections(1);
    await connect("127.0.0.3");
    // 2 connections + 2 held descriptors: full.
    expect(await answers("127.0.0.4")).toBe(false);
    expect(await refused("edge_full")).toBe(1);
    caps.holdDescriptors(1);
    expect(await answers("127.0.0.4")).toBe(true);
  });
});
