import * as net from "node:net";
import { type DataPlane, type EdgeServer, nodeChoosesUpgrades, startEdgeServer } from "./server";

describe("nodeChoosesUpgrades", () => {
  it("is true from node 24.9 on", () => {
    expect(nodeChoosesUpgrades("20.20.2")).toBe(false);
    expect(nodeChoosesUpgrades("22.23.5")).toBe(false);
    expect(nodeChoosesUpgrades("24.8.0")).toBe(false);
    expect(nodeChoosesUpgrades("24.9.0")).toBe(true);
    expect(nodeChoosesUpgrades("26.12.1")).toBe(true);
  });
});

/** Sends `request` on a fresh connection; resolves with everything the server wrote before closing. */
function exchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let text = "";
    socket.on("data", (d) => {
      text += d.toString();
    });
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
    socket.write(request);
  });
}

const HANDSHAKE =
  "GET /socket HTTP/1.1\r\nHost: edge\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

describe("the client port's WebSocket handshakes", () => {
  let server: EdgeServer | undefined;
  const seen: string[] = [];
  const plane: DataPlane = {
    request(req, res) {
      seen.push(`request ${req.url}`);
      res.writeHead(200, { connection: "close" });
      res.end("plain");
    },
    upgrade(req, socket) {
      seen.push(`upgrade ${req.url}`);
      socket.end("HTTP/1.1 418 I'm a teapot\r\nConnection: close\r\n\r\n");
    },
  };
  const start = async (webSockets: boolean) => {
    seen.length = 0;
    server = await startEdgeServer(plane, {
      port: 0,
      host: "127.0.0.1",
      exchangeTimeoutMs: 5000,
      webSockets,
    });
    return server.port;
  };

  afterEach(async () => {
    await server?.close();
  });

  it("go to the data plane's upgrade", async () => {
    const port = await start(true);
    expect(await exchange(port, HANDSHAKE)).toMatch(/^HTTP\/1\.1 418 /);
    expect(seen).toEqual(["upgrade /socket"]);
  });

  it("are answered 501 on a node that cannot pick them out, while plain requests are served", async () => {
    const port = await start(false);
    const answer = await exchange(port, HANDSHAKE);
    expect(answer).toMatch(/^HTTP\/1\.1 501 /);
    expect(answer).toContain('{"detail":"WebSocket upgrades need Node.js 24.9 or later at the edge"}');
    expect(await exchange(port, "GET /plain HTTP/1.1\r\nHost: edge\r\nConnection: close\r\n\r\n")).toMatch(
      /^HTTP\/1\.1 200 [\s\S]*plain/,
    );
    expect(seen).toEqual(["request /plain"]);
  });
});
