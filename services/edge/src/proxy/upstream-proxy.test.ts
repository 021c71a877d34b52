// The proxy's body streaming over real loopback sockets: an upstream and a front server of the
// test's own, nothing else.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { createUpstreamProxy, type ProxyOutcome, type UpstreamProxy } from "./upstream-proxy";

const CHUNK = "x".repeat(64 * 1024);

interface Setup {
  frontUrl: string;
  outcomes: Promise<ProxyOutcome>[];
  /** Resolves when the upstream saw its request's connection close. */
  upstreamClosed: Promise<void>;
  close(): Promise<void>;
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

/** `answer` plays the upstream; every request to the front goes through the proxy. */
async function setup(answer: (res: http.ServerResponse) => void): Promise<Setup> {
  let closed: () => void = () => {};
  const upstreamClosed = new Promise<void>((resolve) => {
    closed = resolve;
  });
  const upstream = http.createServer((req, res) => {
    req.socket.on("close", closed);
    answer(res);
  });
  const proxy: UpstreamProxy = createUpstreamProxy({ upstreamUrl: await listen(upstream) });
  const outcomes: Promise<ProxyOutcome>[] = [];
  const front = http.createServer((req, res) => {
    outcomes.push(proxy.forward(req, res, { clientIp: "127.0.0.1" }));
  });
  const frontUrl = await listen(front);
  return {
    frontUrl,
    outcomes,
    upstreamClosed,
    async close() {
      await proxy.close();
      front.closeAllConnections();
      upstream.closeAllConnections();
      await Promise.all([front, upstream].map((s) => new Promise((r) => s.close(r))));
    },
  };
}

/** A GET that reads `readBytes` of the body (all when undefined), then hangs up. */
function get(
  url: string,
  readBytes?: number,
): Promise<{ status: number; bytes: number; complete: boolean; aborted: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      let bytes = 0;
      let aborted = false;
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        if (readBytes !== undefined && bytes >= readBytes) req.destroy();
      });
      res.on("aborted", () => {
        aborted = true;
      });
      res.on("error", () => {});
      res.on("close", () => resolve({ status: res.statusCode ?? 0, bytes, complete: res.complete, aborted }));
    });
    req.on("error", (error) => (readBytes === undefined ? reject(error) : undefined));
  });
}

describe("upstream proxy streaming", () => {
  it("streams the whole body and reports the response", async () => {
    const s = await setup((res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      for (let i = 0; i < 16; i++) res.write(CHUNK);
      res.end();
    });
    try {
      const got = await get(s.frontUrl);
      expect(got).toMatchObject({ status: 200, bytes: 16 * CHUNK.length, complete: true });
      expect(await s.outcomes[0]).toEqual({ kind: "response", statusCode: 200 });
    } finally {
      await s.close();
    }
  });

  it("cuts the client's connection when the upstream breaks off mid-body: 502 unreachable", async () => {
    const s = await setup((res) => {
      res.writeHead(200, { "content-type": "text/plain", "content-length": String(16 * CHUNK.length) });
      res.write(CHUNK, () => setTimeout(() => res.socket?.destroy(), 20));
    });
    try {
      const got = await get(s.frontUrl);
      expect(got.status).toBe(200);
      expect(got.complete).toBe(false);
      expect(got.bytes).toBeLessThan(16 * CHUNK.length);
      expect(await s.outcomes[0]).toMatchObject({ kind: "unreachable", statusCode: 502 });
    } finally {
      await s.close();
    }
  });

  it("stops the upstream exchange when the client hangs up mid-body: aborted", async () => {
    let ticker: NodeJS.Timeout | undefined;
    const s = await setup((res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      // An endless body, written as the socket takes it.
      ticker = setInterval(() => res.write(CHUNK), 5);
      res.on("close", () => clearInterval(ticker));
    });
    try {
      await get(s.frontUrl, CHUNK.length);
      expect(await s.outcomes[0]).toEqual({ kind: "aborted", statusCode: 200 });
      await s.upstreamClosed;
    } finally {
      clearInterval(ticker);
      await s.close();
    }
  });
});

/**
 * The response to a client that stopped reading once the kernel's buffers are full: it takes
 * writes into its buffer and never hands them on, so it never finishes.
 */
class StalledResponse extends Writable {
  statusCode = 0;
  writeHead(statusCode: number): this {
    this.statusCode = statusCode;
    return this;
  }
  override _write(_chunk: Buffer, _encoding: BufferEncoding, _done: (error?: Error) => void): void {}
}

describe("upstream proxy and a client that stopped reading", () => {
  it("ends the exchange at its deadline even when the upstream's whole body has arrived: timeout", async () => {
    const upstream = http.createServer((_req, res) => res.end("the whole body"));
    const proxy = createUpstreamProxy({ upstreamUrl: await listen(upstream), exchangeTimeoutMs: 300 });
    const req = { headers: {}, url: "/", method: "GET", socket: {} } as unknown as http.IncomingMessage;
    const res = new StalledResponse();
    try {
      const outcome = await proxy.forward(req, res as unknown as http.ServerResponse, {
        clientIp: "127.0.0.1",
      });
      expect(outcome).toMatchObject({ kind: "timeout", statusCode: 504 });
      expect(res.statusCode).toBe(200);
      expect(res.destroyed).toBe(true);
    } finally {
      await proxy.close();
      upstream.closeAllConnections();
      await new Promise((r) => upstream.close(r));
    }
  });
});

describe("upstream proxy and a client already gone", () => {
  it("answers nothing upstream and frees its connection when the client left before forwarding", async () => {
    let upstreamRequests = 0;
    const upstream = http.createServer((_req, res) => {
      upstreamRequests++;
      res.end("ok");
    });
    // One connection, a short wait for it: a connection the first exchange kept would turn the
    // second request into 503 Upstream busy.
    const proxy = createUpstreamProxy({
      upstreamUrl: await listen(upstream),
      connections: 1,
      poolWaitMs: 200,
    });
    let arrived: () => void = () => {};
    const firstArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let first: Promise<ProxyOutcome> | undefined;
    const front = http.createServer((req, res) => {
      if (first === undefined) {
        // As when the client hangs up while the edge waits for its rate-limit decision.
        first = new Promise((resolve) =>
          res.once("close", () => resolve(proxy.forward(req, res, { clientIp: "127.0.0.1" }))),
        );
        arrived();
        return;
      }
      void proxy.forward(req, res, { clientIp: "127.0.0.1" });
    });
    const frontUrl = await listen(front);
    try {
      const gone = http.get(frontUrl, { agent: false });
      gone.on("error", () => {});
      await firstArrived;
      gone.destroy();
      expect(await first).toMatchObject({ kind: "aborted", statusCode: 499 });
      expect(upstreamRequests).toBe(0);

      const next = await get(frontUrl);
      expect(next).toMatchObject({ status: 200, complete: true });
      expect(upstreamRequests).toBe(1);
    } finally {
      await proxy.close();
      front.closeAllConnections();
      upstream.closeAllConnections();
      await Promise.all([front, upstream].map((s) => new Promise((r) => s.close(r))));
    }
  });
});
