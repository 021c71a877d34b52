// The edge under abuse: clients that read or upload slowly, oversize bodies, crafted request
// targets. Real HTTP into edge processes with real Redis and Kafka behind them.
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { awayFromMinuteEnd, freePort, getFrom, waitFor } from "@apimon/testkit";
import { type EdgeProcess, type EdgeStack, startEdgeStack } from "./harness";

const MB = 1024 * 1024;
/** Short enough that the test takes seconds; node's own request timeout follows it. */
const EXCHANGE_TIMEOUT_MS = 3000;
/** Fewer than the default 32, so that the slow exchanges admitted move little data on a busy machine. */
const MAX_INFLIGHT_PER_KEY = 8;

let stack: EdgeStack;
let edge: EdgeProcess;

beforeAll(async () => {
  stack = await startEdgeStack({
    label: "edge-abuse",
    edges: 1,
    edgeEnv: {
      RATE_LIMIT_TIMEOUT_MS: "1000",
      EDGE_EXCHANGE_TIMEOUT_MS: String(EXCHANGE_TIMEOUT_MS),
      EDGE_MAX_INFLIGHT_PER_KEY: String(MAX_INFLIGHT_PER_KEY),
    },
  });
  edge = stack.edges[0] as EdgeProcess;
}, 180_000);

/** Every raw socket a test opened, destroyed after each test so that none outlives it. */
const openSockets = new Set<net.Socket>();

/** Environment for an edge whose clock runs `skewMs` off the host's (see fixtures/skewed-clock.cjs). */
const skewedClock = (skewMs: number) => ({
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${path.join(__dirname, "fixtures", "skewed-clock.cjs")}`,
  EDGE_TEST_CLOCK_SKEW_MS: String(skewMs),
});

afterEach(() => {
  for (const socket of openSockets) socket.destroy();
  openSockets.clear();
});

afterAll(async () => {
  await stack?.stop();
});

interface RawExchange {
  /** The status line's code, once the head arrived. */
  status?: number;
  /** Response bytes read so far, head included. */
  bytes: number;
  /** The first 64 KiB of the response, head included. */
  text: string;
  closed: boolean;
  socket: net.Socket;
  done: Promise<void>;
  /** Stops reading slowly: reads what is left at full speed. */
  drain(): void;
}

/**
 * A raw HTTP/1.1 exchange over its own socket. `slowRead`: after the head, the client reads one
 * byte a second. `slowUploadBytes`: the request declares that many body bytes and sends one a
 * second. `Connection: close`, so a refused exchange ends its socket.
 */
function rawExchange(
  port: number,
  head: string,
  { slowRead = false, slowUploadBytes = 0 }: { slowRead?: boolean; slowUploadBytes?: number } = {},
): RawExchange {
  const socket = net.connect(port, "127.0.0.1");
  openSockets.add(socket);
  let ticker: NodeJS.Timeout | undefined;
  const exchange: RawExchange = {
    bytes: 0,
    text: "",
    closed: false,
    socket,
    done: Promise.resolve(),
    drain() {
      clearInterval(ticker);
      socket.on("data", (chunk: Buffer) => {
        exchange.bytes += chunk.length;
      });
      socket.resume();
    },
  };
  exchange.done = new Promise<void>((resolve) => {
    socket.on("error", () => {});
    socket.on("close", () => {
      clearInterval(ticker);
      exchange.closed = true;
      resolve();
    });
  });
  const onData = (chunk: Buffer) => {
    if (exchange.status === undefined) exchange.status = Number(chunk.toString("latin1", 9, 12));
    exchange.bytes += chunk.length;
    if (exchange.text.length < 65_536) exchange.text += chunk.toString("latin1");
    if (slowRead) {
      socket.off("data", onData);
      socket.pause();
      ticker = setInterval(() => {
        const byte = socket.read(1) as Buffer | null;
        if (byte) exchange.bytes += byte.length;
      }, 1000);
    }
  };
  socket.on("data", onData);
  socket.write(
    `${head}\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
      (slowUploadBytes > 0
        ? `Content-Type: application/octet-stream\r\nContent-Length: ${slowUploadBytes}\r\n`
        : "") +
      "\r\n",
  );
  if (slowUploadBytes > 0) {
    let sent = 0;
    ticker = setInterval(() => {
      if (sent < slowUploadBytes && !socket.destroyed) {
        socket.write("x");
        sent += 1;
      }
    }, 1000);
  }
  return exchange;
}

/** Sends `total` body bytes as fast as the connection takes them; resolves on the answer. */
function bigUpload(
  url: string,
  key: string,
  total: number,
  { chunked }: { chunked: boolean },
): Promise<{ status: number; body: string; sent: number; aborted: boolean }> {
  return new Promise((resolve) => {
    let sent = 0;
    let answered = false;
    const headers: http.OutgoingHttpHeaders = {
      "x-api-key": key,
      "content-type": "application/octet-stream",
    };
    if (!chunked) headers["content-length"] = total;
    const req = http.request(url, { method: "POST", headers, agent: false }, (res) => {
      answered = true;
      let body = "";
      let aborted = false;
      res.setEncoding("latin1");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("aborted", () => {
        aborted = true;
      });
      res.on("close", () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body, sent, aborted: aborted || !res.complete });
      });
    });
    req.on("error", () => {
      if (!answered) resolve({ status: 0, body: "", sent, aborted: true });
    });
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    const write = () => {
      while (sent < total && !req.destroyed) {
        const n = Math.min(total - sent, chunk.length);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
          return void req.once("drain", write);
      }
      if (!req.destroyed) req.end();
    };
    write();
  });
}

describe("edge under slow clients", () => {
  it("keeps answering other keys while 200 slow readers and 50 slow uploaders are cut at the deadline", async () => {
    const reader = await stack.newKey({ minute: 1000, hour: 10_000 });
    const uploader = await stack.newKey({ minute: 1000, hour: 10_000 });
    const other = await stack.newKey();

    // 8 MB is more than the socket buffers between the edge and a client that reads nothing.
    const size = 8 * MB;
    const readers = Array.from({ length: 200 }, () =>
      rawExchange(edge.port, `GET /api/bytes/${size} HTTP/1.1\r\nX-API-Key: ${reader.key}`, {
        slowRead: true,
      }),
    );
    const uploads = Array.from({ length: 50 }, () =>
      rawExchange(edge.port, `POST /api/echo HTTP/1.1\r\nX-API-Key: ${uploader.key}`, {
        slowUploadBytes: 1024,
      }),
    );
    const all = [...readers, ...uploads];
    await waitFor(() => all.every((x) => x.status !== undefined), {
      timeoutMs: 30_000,
      what: "every slow exchange to get its response head",
    });

    // The per-key cap admits 8 of each key at a time; the rest are refused at once. (On a busy
    // machine a late connection may find a slot that an earlier one freed at the deadline, and an
    // admitted one may meet the deadline before the upstream answered: 504.)
    const admittedReaders = readers.filter((x) => x.status !== 429);
    const admittedUploads = uploads.filter((x) => x.status !== 429);
    expect(admittedReaders.length).toBeGreaterThanOrEqual(MAX_INFLIGHT_PER_KEY);
    expect(admittedUploads.length).toBeGreaterThanOrEqual(MAX_INFLIGHT_PER_KEY);
    expect(readers.filter((x) => x.status === 429).length).toBeGreaterThanOrEqual(150);
    for (const x of [...admittedReaders, ...admittedUploads]) expect([200, 504]).toContain(x.status);

    // A normal request of another key is answered while the slow exchanges hold their connections.
    const asked = Date.now();
    const res = await fetch(`${edge.url}/api/users/1`, { headers: { "x-api-key": other.key } });
    const answeredMs = Date.now() - asked;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 1 });
    const stillOpen = [...admittedReaders, ...admittedUploads].filter((x) => x.status === 200 && !x.closed);
    expect(stillOpen.length).toBeGreaterThan(0);
    process.stdout.write(
      `normal request answered in ${answeredMs} ms while ${stillOpen.length} slow exchanges were open\n`,
    );

    // Every admitted exchange ends by the deadline: the connection is cut mid-body. A client that
    // reads nothing does not notice a closed connection, so once the deadline has passed the
    // readers read what is left at full speed: a cut exchange ends short of the body.
    await new Promise((r) => setTimeout(r, EXCHANGE_TIMEOUT_MS + 1000));
    for (const x of readers) x.drain();
    await Promise.all(all.map((x) => x.done));
    for (const x of admittedReaders) expect(x.bytes).toBeLessThan(size);
  }, 60_000);

  it("refuses a key's request beyond its in-flight cap with 429 and the rate-limit headers, uncounted", async () => {
    // An upstream that holds every /hold request until the test lets go: once it has seen the
    // cap's worth, that many requests of the key are in flight at the edge, and no sooner.
    const holding: http.ServerResponse[] = [];
    const upstream = http.createServer((req, res) => {
      if (req.url === "/hold") holding.push(res);
      else res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const upstreamPort = (upstream.address() as net.AddressInfo).port;
    const capped = await stack.startEdge({ UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}` });
    const release = () => {
      for (const res of holding.splice(0))
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
    };
    try {
      // The quota is read in the hour window: not one that may end while the test runs.
      const leftInHour = 3_600_000 - (Date.now() % 3_600_000);
      if (leftInHour < 30_000) await new Promise((r) => setTimeout(r, leftInHour + 200));
      const { key } = await stack.newKey({ minute: 1000, hour: 10_000 });
      const held = Array.from({ length: MAX_INFLIGHT_PER_KEY }, () =>
        rawExchange(capped.port, `GET /hold HTTP/1.1\r\nX-API-Key: ${key}`),
      );
      await waitFor(
        () => holding.length === MAX_INFLIGHT_PER_KEY || held.some((x) => x.status !== undefined),
        {
          what: "every held request to reach the upstream",
        },
      );
      expect(held.map((x) => x.status)).toEqual(held.map(() => undefined));

      for (let i = 0; i < 3; i++) {
        const probe = await fetch(`${capped.url}/api/users/1`, { headers: { "x-api-key": key } });
        expect(probe.status).toBe(429);
        expect(await probe.json()).toEqual({
          detail: `Too many concurrent requests for this API key: at most ${MAX_INFLIGHT_PER_KEY} in flight`,
        });
        expect(probe.headers.get("retry-after")).toBe("1");
        expect(probe.headers.get("x-ratelimit-hour-limit")).toBe("10000");
        // The refusal shows the quota the held requests used, and uses none itself.
        expect(probe.headers.get("x-ratelimit-hour-remaining")).toBe(String(10_000 - MAX_INFLIGHT_PER_KEY));
      }

      release();
      await Promise.all(held.map((x) => x.done));
      expect(held.map((x) => x.status)).toEqual(held.map(() => 200));
      // Once they finish, the key is served again, and the refused requests were not counted.
      const after = await fetch(`${capped.url}/api/users/1`, { headers: { "x-api-key": key } });
      expect(after.status).toBe(200);
      expect(after.headers.get("x-ratelimit-hour-remaining")).toBe(String(10_000 - MAX_INFLIGHT_PER_KEY - 1));

      // A key over its cap and out of quota too gets the limit's answer: it says how long to wait.
      const spent = await stack.newKey({ minute: 1000, hour: MAX_INFLIGHT_PER_KEY });
      const spending = Array.from({ length: MAX_INFLIGHT_PER_KEY }, () =>
        rawExchange(capped.port, `GET /hold HTTP/1.1\r\nX-API-Key: ${spent.key}`),
      );
      await waitFor(
        () => holding.length === MAX_INFLIGHT_PER_KEY || spending.some((x) => x.status !== undefined),
        { what: "every held request of the spent key to reach the upstream" },
      );
      const overBoth = await fetch(`${capped.url}/api/users/1`, { headers: { "x-api-key": spent.key } });
      expect(overBoth.status).toBe(429);
      expect(((await overBoth.json()) as { detail: string }).detail).toMatch(
        /^Rate limit exceeded for hour\. Try again in \d+ seconds$/,
      );
      expect(overBoth.headers.get("x-ratelimit-hour-remaining")).toBe("0");
      release();
      await Promise.all(spending.map((x) => x.done));
      expect(spending.map((x) => x.status)).toEqual(spending.map(() => 200));
    } finally {
      release();
      await stack.stopEdge(capped);
      await new Promise((r) => upstream.close(r));
    }
  }, 120_000);

  it("answers 503 Upstream busy when no upstream connection frees up within the pool wait", async () => {
    const small = await stack.startEdge({ UPSTREAM_CONNECTIONS: "2", UPSTREAM_POOL_WAIT_MS: "200" });
    try {
      const { key } = await stack.newKey();
      const held = [0, 1].map(() =>
        rawExchange(small.port, `GET /api/slow?ms=2000 HTTP/1.1\r\nX-API-Key: ${key}`),
      );
      await new Promise((r) => setTimeout(r, 300));
      const res = await fetch(`${small.url}/api/users/1`, { headers: { "x-api-key": key } });
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ detail: "Upstream busy" });
      expect(res.headers.get("x-ratelimit-minute-limit")).toBe("100");
      await Promise.all(held.map((x) => x.done));
      expect(held.map((x) => x.status)).toEqual([200, 200]);
      expect((await fetch(`${small.url}/api/users/1`, { headers: { "x-api-key": key } })).status).toBe(200);
    } finally {
      await stack.stopEdge(small);
    }
  }, 120_000);
});

describe("edge request body limit", () => {
  it("answers a declared 20 MiB upload with 413 before reading it", async () => {
    const { key } = await stack.newKey();
    const result = await bigUpload(`${edge.url}/api/echo`, key, 20 * MB, { chunked: false });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toEqual({ detail: "Request body too large" });
    // How much the client could hand over before the answer depends on socket buffers, so the
    // test does not assert on it.
  });

  it("cuts a chunked upload once it passes 10 MiB", async () => {
    const { key } = await stack.newKey();
    const result = await bigUpload(`${edge.url}/api/echo`, key, 20 * MB, { chunked: true });
    // The echo answers once the first chunk arrived, so the limit is usually met mid-response and
    // the connection is cut; when the upstream had not answered yet, the client gets the 413.
    if (result.status === 413) expect(JSON.parse(result.body)).toEqual({ detail: "Request body too large" });
    else expect(result.aborted).toBe(true);
    expect(result.body.length).toBeLessThanOrEqual(10 * MB);
  });

  it("still passes a body just under the limit", async () => {
    const { key } = await stack.newKey();
    const result = await bigUpload(`${edge.url}/api/echo`, key, 10 * MB, { chunked: false });
    expect(result.status).toBe(200);
    expect(result.body.length).toBe(10 * MB);
  });
});

describe("edge request targets", () => {
  it("answers /../, %2e%2e/, absolute-form, asterisk-form and CONNECT with 400 and never forwards them", async () => {
    // An upstream with a base path that records every request it sees.
    const seen: string[] = [];
    const upstream = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const upstreamPort = (upstream.address() as net.AddressInfo).port;
    const based = await stack.startEdge({ UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}/v2` });
    try {
      const { key } = await stack.newKey();
      const crafted = [
        "GET /api/../admin HTTP/1.1",
        "GET /../admin HTTP/1.1",
        "GET /api/%2e%2e/admin HTTP/1.1",
        "GET /api/%2E%2E/admin HTTP/1.1",
        "GET /api/..%2fadmin HTTP/1.1",
        "GET /api/./users HTTP/1.1",
        `GET http://127.0.0.1:${upstreamPort}/admin HTTP/1.1`,
        "OPTIONS * HTTP/1.1",
        `CONNECT 127.0.0.1:${upstreamPort} HTTP/1.1`,
      ];
      for (const line of crafted) {
        const x = rawExchange(based.port, `${line}\r\nX-API-Key: ${key}`);
        await x.done;
        expect({ line, status: x.status }).toEqual({ line, status: 400 });
        expect(x.text.slice(x.text.indexOf("\r\n\r\n") + 4)).toBe('{"detail":"Invalid request target"}');
        expect(x.text.toLowerCase()).toContain("content-type: application/json");
      }
      expect(seen).toEqual([]);

      // A plain target still goes to the upstream, under its base path.
      const ok = await fetch(`${based.url}/api/users?x=1`, { headers: { "x-api-key": key } });
      expect(ok.status).toBe(200);
      expect(seen).toEqual(["GET /v2/api/users?x=1"]);
    } finally {
      await stack.stopEdge(based);
      await new Promise((r) => upstream.close(r));
    }
  }, 120_000);
});

describe("edge control paths", () => {
  it("keeps /metrics and detailed /readyz on the admin port and passes the upstream's own through", async () => {
    const { key } = await stack.newKey();
    const metrics = await fetch(`${edge.adminUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("edge_requests_total");
    const ready = (await (await fetch(`${edge.adminUrl}/readyz`)).json()) as { checks: object };
    expect(Object.keys(ready.checks).sort()).toEqual(["keyRegistry", "redis", "usageEvents"]);

    // The client port answers a bare /healthz and nothing else of its own.
    const health = await fetch(`${edge.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    for (const path of ["/metrics", "/readyz"]) {
      const anonymous = await fetch(`${edge.url}${path}`);
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toEqual({ detail: "Missing API key" });
    }
    // With a key they are the upstream's: the demo upstream has no key registry and no edge metrics.
    const upstreamReady = await fetch(`${edge.url}/readyz`, { headers: { "x-api-key": key } });
    expect(upstreamReady.status).toBe(200);
    expect(upstreamReady.headers.get("x-ratelimit-minute-limit")).toBe("100");
    expect(JSON.stringify(await upstreamReady.json())).not.toContain("keyRegistry");
    const upstreamMetrics = await fetch(`${edge.url}/metrics`, { headers: { "x-api-key": key } });
    expect(upstreamMetrics.status).toBe(200);
    expect(await upstreamMetrics.text()).not.toContain("edge_requests_total");
  });
});

describe("edge clocks and readiness", () => {
  it("keeps limiting on an edge whose clock runs ten minutes behind Redis's", async () => {
    const skewed = await stack.startEdge(skewedClock(-10 * 60_000));
    try {
      const { key } = await stack.newKey({ minute: 3 });
      // The edge's clock is ten whole minutes behind: its minutes end when Redis's do.
      await awayFromMinuteEnd(10);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${skewed.url}/api/users`, { headers: { "x-api-key": key } });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await stack.stopEdge(skewed);
    }
  }, 120_000);

  it("answers 503 Edge starting, not 401, until its key table has loaded", async () => {
    const { key } = await stack.newKey();
    // Kafka unreachable: the key table cannot load, the client port is up all the same.
    const starting = await stack.spawnEdge({ KAFKA_BROKERS: `127.0.0.1:${await freePort()}` });
    try {
      const headerSets: Record<string, string>[] = [
        { "x-api-key": key },
        { "x-api-key": "ak_unknown0123456789" },
        {},
      ];
      for (const headers of headerSets) {
        const res = await fetch(`${starting.url}/api/users`, { headers });
        expect(res.status).toBe(503);
        expect(res.headers.get("retry-after")).toBe("1");
        expect(await res.json()).toEqual({ detail: "Edge starting" });
      }
      const ready = await fetch(`${starting.adminUrl}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ checks: { keyRegistry: { ok: false } } });
    } finally {
      await stack.stopEdge(starting);
    }
    // No auth-failure event came from it (the stack's edge raised none for these keys either).
    expect(stack.authFailures.filter((f) => f.keyPrefix === "ak_unknown0")).toEqual([]);
  }, 120_000);
});

describe("edge under a flood of bad keys", () => {
  it("hashes at most 60 bad keys of one IP a minute and reports the rest in one summary event", async () => {
    // The edge's clock is set back to read 35 s into a minute when it starts: the flood fits in
    // that minute, and the minute's end, which sends the summary, comes soon after.
    const skewMs = -((Date.now() - 35_000 + 60_000) % 60_000);
    const edgeNow = () => Date.now() + skewMs;
    const guarded = await stack.startEdge({ ...skewedClock(skewMs), EDGE_AUTH_FAILURES_PER_MINUTE: "60" });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
    try {
      const { key } = await stack.newKey();
      // All in one minute, so that exactly one limit and one summary apply.
      const left = 60 - ((edgeNow() / 1000) % 60);
      if (left < 15) await new Promise((r) => setTimeout(r, left * 1000 + 200));

      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          getFrom(
            "127.0.0.3",
            `${guarded.url}/api/users/${i}`,
            { "x-api-key": `ak_bad${i}xxxxxxxxxxxxxxxxxx` },
            agent,
          ),
        ),
      );
      const unauthorized = results.filter((r) => r.status === 401);
      const throttled = results.filter((r) => r.status === 429);
      expect(unauthorized).toHaveLength(60);
      expect(throttled).toHaveLength(940);
      expect(JSON.parse(throttled[0]?.body ?? "")).toEqual({
        detail: "Too many failed authentications from this address",
      });

      // A good key from another address is unaffected.
      const good = await getFrom("127.0.0.2", `${guarded.url}/api/users/1`, { "x-api-key": key }, agent);
      expect(good.status).toBe(200);

      // 60 events for the attempts that were checked, then one for the 940 that were not, once
      // the minute is over (while the edge runs on).
      const fromFlood = () => stack.authFailures.filter((f) => f.clientIp === "127.0.0.3");
      await waitFor(() => fromFlood().some((f) => f.count !== undefined), {
        timeoutMs: 90_000,
        intervalMs: 500,
        what: "the summary event",
      });
      await new Promise((r) => setTimeout(r, 2000)); // nothing more may follow
      const events = fromFlood();
      expect(events.filter((f) => f.count === undefined)).toHaveLength(60);
      const summaries = events.filter((f) => f.count !== undefined);
      expect(summaries).toHaveLength(1);
      expect(summaries[0]).toMatchObject({
        reason: "invalid",
        count: 940,
        clientIp: "127.0.0.3",
        method: "GET",
      });
    } finally {
      agent.destroy();
      await stack.stopEdge(guarded);
    }
  }, 180_000);
});

describe("edge under bad keys from an IPv6 client", () => {
  it("counts its failures by its /64, whichever of its addresses each attempt comes from", async () => {
    const behindOne = await stack.startEdge({
      EDGE_TRUSTED_PROXY_HOPS: "1",
      EDGE_AUTH_FAILURES_PER_MINUTE: "5",
    });
    let stopped = false;
    try {
      // All in one minute, so that exactly one limit applies.
      const left = 60 - ((Date.now() / 1000) % 60);
      if (left < 15) await new Promise((r) => setTimeout(r, left * 1000 + 200));
      const attempt = async (address: string, i: number) =>
        (
          await fetch(`${behindOne.url}/api/users/1`, {
            headers: { "x-api-key": `ak_v6bad${i}xxxxxxxxxxxxxxxxxxx`, "x-forwarded-for": address },
          })
        ).status;
      const statuses = [];
      for (let i = 1; i <= 8; i++) statuses.push(await attempt(`2001:db8:0:12:${i.toString(16)}::1`, i));
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
      // Another /64 has its own failures left.
      expect(await attempt("2001:db8:0:99::1", 9)).toBe(401);

      // The attempts that were checked are reported from their own addresses.
      await waitFor(
        () => stack.authFailures.filter((f) => f.clientIp.startsWith("2001:db8:0:12:")).length === 5,
        {
          what: "five auth-failure events from the /64",
        },
      );
      expect(
        stack.authFailures
          .filter((f) => f.clientIp.startsWith("2001:db8:0:12:"))
          .map((f) => f.clientIp)
          .sort(),
      ).toEqual([
        "2001:db8:0:12:1::1",
        "2001:db8:0:12:2::1",
        "2001:db8:0:12:3::1",
        "2001:db8:0:12:4::1",
        "2001:db8:0:12:5::1",
      ]);

      // The refusals of the minute still running are reported when the edge stops, by /64.
      await stack.stopEdge(behindOne);
      stopped = true;
      const summary = await waitFor(
        () => stack.authFailures.find((f) => f.count !== undefined && f.clientIp === "2001:db8:0:12::/64"),
        { what: "the summary sent at shutdown" },
      );
      expect(summary).toMatchObject({ reason: "invalid", count: 3 });
    } finally {
      if (!stopped) await stack.stopEdge(behindOne);
    }
  }, 120_000);
});

describe("edge client address behind proxies", () => {
  it("takes the client IP from the trusted hop, never from what the client wrote", async () => {
    const behindOne = await stack.startEdge({ EDGE_TRUSTED_PROXY_HOPS: "1" });
    try {
      const { key, id } = await stack.newKey();
      const seenBy = async (url: string, headers: Record<string, string>) => {
        const res = await fetch(`${url}/api/headers`, { headers: { "x-api-key": key, ...headers } });
        expect(res.status).toBe(200);
        return ((await res.json()) as { headers: Record<string, string> }).headers;
      };
      const spoof = {
        "x-forwarded-for": "6.6.6.6, 198.51.100.7",
        forwarded: "for=6.6.6.6;proto=https",
        "x-real-ip": "6.6.6.6",
        "x-forwarded-proto": "https",
      };
      // Behind one trusted proxy: the right-most entry is what that proxy saw.
      const trusted = await seenBy(behindOne.url, spoof);
      expect(trusted.forwarded).toBeUndefined();
      expect(trusted["x-real-ip"]).toBeUndefined();
      expect(trusted["x-forwarded-proto"]).toBe("https");
      // Without trusted proxies: the socket's address, and the client's X-Forwarded-Proto is ignored.
      const direct = await seenBy(edge.url, spoof);
      expect(direct.forwarded).toBeUndefined();
      expect(direct["x-real-ip"]).toBeUndefined();
      expect(direct["x-forwarded-proto"]).toBe("http");
      // An entry that is not an IP falls back to the socket's address.
      await seenBy(behindOne.url, { "x-forwarded-for": "6.6.6.6, not-an-ip" });

      await waitFor(() => [...stack.usage.values()].filter((e) => e[0]?.apiKeyId === id).length === 3, {
        what: "three usage events",
      });
      const ips = [...stack.usage.values()]
        .map((e) => e[0])
        .filter((e) => e?.apiKeyId === id)
        .map((e) => `${e?.edgeInstance === behindOne.instanceId ? "behind" : "direct"} ${e?.clientIp}`)
        .sort();
      expect(ips).toEqual(["behind 127.0.0.1", "behind 198.51.100.7", "direct 127.0.0.1"]);
    } finally {
      await stack.stopEdge(behindOne);
    }
  }, 120_000);
});

describe("edge under a flood of connections", () => {
  /** A raw connection from `localAddress` that sends nothing; `closed` turns true when it ends. */
  const idle = (url: string, localAddress: string) =>
    new Promise<{ socket: net.Socket; closed: () => boolean; ended: Promise<void> }>((resolve, reject) => {
      const { hostname, port } = new URL(url);
      const socket = net.connect({ host: hostname, port: Number(port), localAddress });
      openSockets.add(socket);
      let closed = false;
      const ended = new Promise<void>((done) =>
        socket.once("close", () => {
          closed = true;
          done();
        }),
      );
      socket.on("error", () => {});
      // Read whatever the edge answers (a 408): a socket whose data is never read never ends.
      socket.resume();
      socket.once("connect", () => resolve({ socket, closed: () => closed, ended }));
      socket.once("error", reject);
    });

  const refusedConnections = async (adminUrl: string, reason: string) => {
    const text = await (await fetch(`${adminUrl}/metrics`)).text();
    const line = text
      .split("\n")
      .find((l) => l.startsWith("edge_connections_refused_total{") && l.includes(`reason="${reason}"`));
    return Number(line?.split(" ").pop() ?? 0);
  };

  it("holds a tenth of its connections per address and keeps serving, counted in Redis and on Kafka", async () => {
    // Node closes connections that send no headers after 10 s here: the flood's must outlive the test's steps.
    const guarded = await stack.startEdge({
      EDGE_EXCHANGE_TIMEOUT_MS: "60000",
      EDGE_MAX_CONNECTIONS: "40",
      EDGE_MAX_CONNECTIONS_PER_IP: "10",
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const { key, id } = await stack.newKey({ minute: 100 });
      const before = await getFrom("127.0.0.2", `${guarded.url}/api/users/1`, { "x-api-key": key }, agent);
      expect(before.status).toBe(200);

      // One address opens 200 connections: it keeps 10, the rest are closed at once.
      const flood = await Promise.all(Array.from({ length: 200 }, () => idle(guarded.url, "127.0.0.3")));
      await waitFor(() => flood.filter((c) => c.closed()).length === 190, {
        timeoutMs: 5000,
        what: "the flood's connections beyond ten to be closed",
      });
      expect(await refusedConnections(guarded.adminUrl, "source_full")).toBe(190);

      // Three more addresses take ten each: with the flood's ten and the client's one, 41 would
      // be open, so at least the last one is closed (more if this test's own probes of the edge
      // still hold a connection), and so is a newcomer's.
      const filling: Awaited<ReturnType<typeof idle>>[] = [];
      for (const address of ["127.0.0.4", "127.0.0.5", "127.0.0.6"]) {
        for (let i = 0; i < 10; i++) filling.push(await idle(guarded.url, address));
      }
      await waitFor(() => filling.some((c) => c.closed()), {
        timeoutMs: 5000,
        what: "a connection beyond the edge's 40 to be closed",
      });
      const newcomer = await idle(guarded.url, "127.0.0.7");
      await newcomer.ended;
      // Each refused connection is counted, and its client sees it closed: the close of a filler
      // refused just before the newcomer may still be on its way here, so wait for the two to agree.
      await waitFor(
        async () =>
          (await refusedConnections(guarded.adminUrl, "edge_full")) ===
          filling.filter((c) => c.closed()).length + 1,
        { timeoutMs: 5000, what: "every connection counted as refused to be closed, and no more" },
      );
      const fillersRefused = filling.filter((c) => c.closed()).length;
      expect(fillersRefused).toBeGreaterThanOrEqual(1);
      expect(await refusedConnections(guarded.adminUrl, "edge_full")).toBe(fillersRefused + 1);

      // The client that was already connected is served: limited in Redis, recorded on Kafka.
      const during = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http
          .get(
            `${guarded.url}/api/users/2`,
            { headers: { "x-api-key": key }, localAddress: "127.0.0.2", agent },
            resolve,
          )
          .on("error", reject);
      });
      during.resume();
      expect(during.statusCode).toBe(200);
      expect(during.headers["x-ratelimit-minute-remaining"]).toBe("98");
      await waitFor(() => [...stack.usage.values()].filter((e) => e[0]?.apiKeyId === id).length === 2, {
        what: "both calls' usage events",
      });

      // Once the flood ends, newcomers get in again.
      for (const c of [...flood, ...filling]) c.socket.destroy();
      await waitFor(
        async () =>
          (await getFrom("127.0.0.7", `${guarded.url}/api/users/3`, { "x-api-key": key }, new http.Agent()))
            .status === 200,
        { timeoutMs: 10_000, what: "a newcomer to be served after the flood" },
      );
    } finally {
      agent.destroy();
      await stack.stopEdge(guarded);
    }
  }, 120_000);

  it("closes a connection that never sends its request soon after the headers timeout", async () => {
    // The suite's edges: a 3 s exchange, so node's headers timeout is 4 s.
    const silent = await idle(edge.url, "127.0.0.8");
    // node checks its connections' clocks every second here (every 30 s by default).
    await waitFor(() => silent.closed(), {
      timeoutMs: 10_000,
      intervalMs: 200,
      what: "the silent connection to be closed",
    });
  }, 30_000);
});
