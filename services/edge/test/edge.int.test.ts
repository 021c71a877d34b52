// The edge as a client and an upstream see it: real HTTP into two edge processes, the keys
// service managing keys, Redis counting and Kafka carrying every event.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { awayFromMinuteEnd, freePort, waitFor } from "@apimon/testkit";
import { type EdgeStack, startEdgeStack } from "./harness";

let stack: EdgeStack;

beforeAll(async () => {
  stack = await startEdgeStack({
    label: "edge-int",
    edges: 2,
    // These tests are about exact global counting: a generous Redis deadline keeps a CI machine
    // under load from pushing a decision into the per-instance fallback (tested on its own in
    // edge-outages.int.test.ts with the default 50 ms).
    // The 300 concurrent requests of one key and the 200 MB uploads are above the per-key
    // in-flight cap and the body limit on purpose (those are tested in edge-abuse.int.test.ts).
    edgeEnv: {
      RATE_LIMIT_TIMEOUT_MS: "1000",
      EDGE_MAX_INFLIGHT_PER_KEY: "1000",
      EDGE_MAX_BODY_BYTES: String(512 * 1024 * 1024),
    },
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

const edge = (i = 0) => {
  const e = stack.edges[i];
  if (!e) throw new Error(`no edge ${i}`);
  return e;
};

function headersOf(res: Response): Record<string, string> {
  return Object.fromEntries(res.headers.entries());
}

/** A raw request with exactly the header fields given (fetch forbids some, e.g. Connection). */
function rawRequest(
  url: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? "GET", headers: options.headers, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

describe("edge authentication", () => {
  it("refuses a request without X-API-Key with 401 Missing API key and records the failure", async () => {
    const res = await fetch(`${edge().url}/api/users`);
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ detail: "Missing API key" });
    expect(res.headers.get("x-ratelimit-minute-limit")).toBeNull();
    await waitFor(() => stack.authFailures.some((f) => f.reason === "missing"), {
      what: "auth failure event",
    });
    expect(stack.authFailures.find((f) => f.reason === "missing")).toMatchObject({
      reason: "missing",
      clientIp: "127.0.0.1",
      endpoint: "/api/users",
      method: "GET",
    });
  });

  it("refuses an unknown key with 401 Invalid API key, recording only its display prefix", async () => {
    const res = await fetch(`${edge().url}/api/users/3`, {
      headers: { "x-api-key": "ak_doesnotexist0123456789" },
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ detail: "Invalid API key" });
    await waitFor(() => stack.authFailures.some((f) => f.reason === "invalid"), {
      what: "auth failure event",
    });
    const failure = stack.authFailures.find((f) => f.reason === "invalid");
    expect(failure).toMatchObject({ keyPrefix: "ak_doesnote", endpoint: "/api/users/:id" });
    expect(JSON.stringify(failure)).not.toContain("ak_doesnotexist0123456789");
  });

  it("treats an oversize key as invalid and an oversize header block as 431", async () => {
    const long = await fetch(`${edge().url}/api/users`, {
      headers: { "x-api-key": `ak_${"x".repeat(5000)}` },
    });
    expect(long.status).toBe(401);
    expect(await long.json()).toEqual({ detail: "Invalid API key" });
    const huge = await rawRequest(`${edge().url}/api/users`, { headers: { "x-filler": "y".repeat(20_000) } });
    expect(huge.status).toBe(431);
  });

  it("refuses a key deactivated through the keys API on every edge, with 403 API key is inactive", async () => {
    const { key, id } = await stack.newKey();
    expect((await fetch(`${edge(0).url}/api/users`, { headers: { "x-api-key": key } })).status).toBe(200);

    const since = Date.now();
    await stack.keys.updateKey(id, { isActive: false });
    const refusedAfter: number[] = [];
    await Promise.all(
      [0, 1].map((i) =>
        waitFor(
          async () => {
            const res = await fetch(`${edge(i).url}/api/users`, { headers: { "x-api-key": key } });
            if (res.status !== 403) return false;
            refusedAfter.push(Date.now() - since);
            expect(await res.json()).toEqual({ detail: "API key is inactive" });
            return true;
          },
          { timeoutMs: 10_000, intervalMs: 10, what: "the deactivation to reach the edge" },
        ),
      ),
    );
    process.stdout.write(`deactivation → 403 on both edges after ${JSON.stringify(refusedAfter)} ms\n`);
    await waitFor(() => stack.authFailures.some((f) => f.reason === "inactive" && f.apiKeyId === id), {
      what: "an inactive auth failure naming the key",
    });
  });
});

describe("edge rate limiting", () => {
  it("lets exactly 100 of 300 concurrent requests through two edges and rejects 200 with 429", async () => {
    await awayFromMinuteEnd();
    const { key, id } = await stack.newKey();
    const responses = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const res = await fetch(`${edge(i % 2).url}/api/users/1`, { headers: { "x-api-key": key } });
        return { status: res.status, headers: headersOf(res), body: await res.text() };
      }),
    );
    const ok = responses.filter((r) => r.status === 200);
    const limited = responses.filter((r) => r.status === 429);
    expect(ok).toHaveLength(100);
    expect(limited).toHaveLength(200);

    for (const r of limited) {
      const reset = Number(r.headers["x-ratelimit-minute-reset"]);
      expect(JSON.parse(r.body)).toEqual({
        detail: `Rate limit exceeded for minute. Try again in ${reset} seconds`,
      });
      expect(r.headers["retry-after"]).toBe(String(reset));
      expect(r.headers["x-ratelimit-minute-remaining"]).toBe("0");
    }
    // Every success saw a distinct remaining count: the counter moved atomically, one by one.
    expect(new Set(ok.map((r) => r.headers["x-ratelimit-minute-remaining"])).size).toBe(100);

    // The hour window counted exactly the 100 that passed; the rejected ones consumed nothing.
    const after = await fetch(`${edge().url}/api/users/1`, { headers: { "x-api-key": key } });
    expect(after.status).toBe(429);
    expect(after.headers.get("x-ratelimit-hour-remaining")).toBe("900");
    expect(after.headers.get("x-ratelimit-day-remaining")).toBe("9900");

    // One usage event per request, 429s included, each exactly once.
    await waitFor(() => [...stack.usage.values()].filter((e) => e[0]?.apiKeyId === id).length === 301, {
      timeoutMs: 30_000,
      what: "301 usage events",
    });
    const events = [...stack.usage.values()].filter((e) => e[0]?.apiKeyId === id);
    expect(events.every((copies) => copies.length === 1)).toBe(true);
    expect(events.filter((e) => e[0]?.rateLimited).length).toBe(201);
    expect(new Set(events.map((e) => e[0]?.edgeInstance))).toEqual(
      new Set([edge(0).instanceId, edge(1).instanceId]),
    );
  });

  it("sends the spec's headers and the IETF draft fields on a success, and forwards safely", async () => {
    const { key, id } = await stack.newKey();
    const res = await rawRequest(`${edge().url}/api/headers?x=1`, {
      headers: {
        "x-api-key": key,
        connection: "keep-alive, x-hop",
        "x-hop": "must not pass",
        "x-apimon-key-id": "999999",
        "x-forwarded-for": "203.0.113.9",
        "x-custom": "passes",
      },
    });
    expect(res.status).toBe(200);
    const h = res.headers;
    expect(h["x-ratelimit-minute-limit"]).toBe("100");
    expect(h["x-ratelimit-minute-remaining"]).toBe("99");
    expect(h["x-ratelimit-hour-limit"]).toBe("1000");
    expect(h["x-ratelimit-hour-remaining"]).toBe("999");
    expect(h["x-ratelimit-day-limit"]).toBe("10000");
    expect(h["x-ratelimit-day-remaining"]).toBe("9999");
    for (const w of ["minute", "hour", "day"]) {
      const reset = Number(h[`x-ratelimit-${w}-reset`]);
      expect(reset).toBeGreaterThanOrEqual(1);
      expect(reset).toBeLessThanOrEqual({ minute: 60, hour: 3600, day: 86400 }[w] as number);
    }
    expect(h["ratelimit-policy"]).toBe('"minute";q=100;w=60, "hour";q=1000;w=3600, "day";q=10000;w=86400');
    expect(h.ratelimit).toBe(`"minute";r=99;t=${h["x-ratelimit-minute-reset"]}`);

    const seen = JSON.parse(res.body) as { path: string; headers: Record<string, string> };
    expect(seen.path).toBe("/api/headers");
    expect(seen.headers["x-api-key"]).toBeUndefined();
    expect(seen.headers["x-hop"]).toBeUndefined();
    expect(seen.headers["x-custom"]).toBe("passes");
    expect(seen.headers["x-apimon-key-id"]).toBe(String(id));
    expect(seen.headers["x-apimon-user-id"]).toMatch(/^\d+$/);
    expect(seen.headers["x-forwarded-for"]).toBe("203.0.113.9, 127.0.0.1");
    expect(seen.headers["x-forwarded-proto"]).toBe("http");
    expect(seen.headers["x-forwarded-host"]).toBe(`127.0.0.1:${edge().port}`);

    await waitFor(() => [...stack.usage.values()].some((e) => e[0]?.apiKeyId === id), {
      what: "the usage event",
    });
    const event = [...stack.usage.values()].find((e) => e[0]?.apiKeyId === id)?.[0];
    expect(event).toMatchObject({
      apiKeyId: id,
      endpoint: "/api/headers",
      method: "GET",
      statusCode: 200,
      rateLimited: false,
      clientIp: "127.0.0.1",
      limits: { minute: { limit: 100, remaining: 99 }, hour: { limit: 1000, remaining: 999 } },
    });
    expect(event?.responseTimeMs).toBeGreaterThan(0);
  });

  it("honours a key's own limits", async () => {
    await awayFromMinuteEnd(5);
    const { key } = await stack.newKey({ minute: 3, hour: 50 });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await fetch(`${edge(i % 2).url}/api/users`, { headers: { "x-api-key": key } });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last?.headers.get("x-ratelimit-minute-limit")).toBe("3");
    expect(last?.headers.get("x-ratelimit-hour-limit")).toBe("50");
    expect(last?.headers.get("x-ratelimit-hour-remaining")).toBe("47");
    expect(last?.headers.get("x-ratelimit-day-limit")).toBe("10000");
  });
});

describe("edge proxying", () => {
  it("answers 502 with a JSON detail when the upstream is unreachable", async () => {
    const dead = await freePort();
    const broken = await stack.startEdge({ UPSTREAM_URL: `http://127.0.0.1:${dead}` });
    const { key } = await stack.newKey();
    const res = await fetch(`${broken.url}/api/users`, { headers: { "x-api-key": key } });
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ detail: "Upstream unavailable" });
    expect(res.headers.get("x-ratelimit-minute-remaining")).toBe("99");
    await stack.stopEdge(broken);
  });

  it("passes an upstream's status outside 100–599 through and records the call", async () => {
    // A status code is any three digits (RFC 9110 § 15); node and undici pass 600–999 on.
    const odd = http.createServer((_req, res) => {
      res.writeHead(799, { "content-type": "text/plain" });
      res.end("odd");
    });
    await new Promise<void>((resolve) => odd.listen(0, "127.0.0.1", resolve));
    const port = (odd.address() as AddressInfo).port;
    const oddEdge = await stack.startEdge({ UPSTREAM_URL: `http://127.0.0.1:${port}` });
    try {
      const { key, id } = await stack.newKey();
      const res = await rawRequest(`${oddEdge.url}/api/odd`, { headers: { "x-api-key": key } });
      expect(res.status).toBe(799);
      expect(res.body).toBe("odd");
      await waitFor(() => [...stack.usage.values()].some((e) => e[0]?.apiKeyId === id), {
        what: "the usage event of the 799",
      });
      const event = [...stack.usage.values()].find((e) => e[0]?.apiKeyId === id)?.[0];
      expect(event).toMatchObject({ apiKeyId: id, statusCode: 799, endpoint: "/api/odd" });
      // Straight to Kafka: an event the schema refused would have gone through the spool.
      const metrics = await (await fetch(`${oddEdge.adminUrl}/metrics`)).text();
      expect(metrics).not.toMatch(/^edge_usage_events_total\{[^}]*result="spooled"[^}]*\} [1-9]/m);
    } finally {
      await stack.stopEdge(oddEdge);
      odd.close();
    }
  });

  it("gathers the usage events of calls made within USAGE_LINGER_MS into one produce request", async () => {
    const patient = await stack.startEdge({ USAGE_LINGER_MS: "5000" });
    try {
      const { key, id } = await stack.newKey();
      // One after another: without the linger each call's event would leave on its own.
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${patient.url}/api/users/1`, { headers: { "x-api-key": key } });
        expect(res.status).toBe(200);
      }
      const ofKey = () => [...stack.usage.values()].filter((e) => e[0]?.apiKeyId === id);
      await waitFor(() => ofKey().length === 5, { what: "the five usage events", timeoutMs: 30_000 });
      const metrics = await (await fetch(`${patient.adminUrl}/metrics`)).text();
      // The edge's only producer that sent anything: no call of this edge was refused.
      expect(metrics).toMatch(/^kafka_producer_send_seconds_count\{[^}]*\} 1$/m);
      expect(metrics).toMatch(
        /^kafka_producer_messages_total\{[^}]*usage\.events\.v1",result="ok"[^}]*\} 5$/m,
      );
    } finally {
      await stack.stopEdge(patient);
    }
  });

  it("answers 504 with a JSON detail when the upstream is too slow", async () => {
    const impatient = await stack.startEdge({ UPSTREAM_TIMEOUT_MS: "300" });
    const { key } = await stack.newKey();
    const res = await fetch(`${impatient.url}/api/slow?ms=3000`, { headers: { "x-api-key": key } });
    expect(res.status).toBe(504);
    expect(await res.json()).toEqual({ detail: "Upstream timed out" });
    expect(res.headers.get("x-ratelimit-minute-limit")).toBe("100");
    const fast = await fetch(`${impatient.url}/api/slow?ms=10`, { headers: { "x-api-key": key } });
    expect(fast.status).toBe(200);
    await stack.stopEdge(impatient);
  });

  it("streams 20 MB downloads and uploads through, with memory that does not grow with the body", async () => {
    // RSS also counts garbage not yet collected (every chunk is a fresh buffer), so a streaming
    // proxy's RSS rises by some tens of MB during any large transfer. What tells streaming from
    // buffering is that the rise does not grow with the body: a 200 MB body must move the edge's
    // peak RSS by far less than 200 MB (a buffering edge would need all of it at once).
    const { key } = await stack.newKey();
    const MB = 1024 * 1024;
    const rss = async () => {
      const text = await (await fetch(`${edge().adminUrl}/metrics`)).text();
      return Number(/^process_resident_memory_bytes\{[^}]*\} (\d+)/m.exec(text)?.[1]);
    };
    /** Runs `work` while sampling the edge's RSS; returns its result and the peak growth. */
    const peakGrowth = async <T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> => {
      const before = await rss();
      let peak = before;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          peak = Math.max(peak, await rss());
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      try {
        return { result: await work(), growth: peak - before };
      } finally {
        sampling = false;
        await sampler;
      }
    };
    const download = async (size: number) => {
      const res = await fetch(`${edge().url}/api/bytes/${size}`, { headers: { "x-api-key": key } });
      expect(res.status).toBe(200);
      let n = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) n += chunk.length;
      return n;
    };
    const upload = (size: number) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(
          `${edge().url}/api/echo`,
          { method: "POST", headers: { "x-api-key": key, "content-type": "application/octet-stream" } },
          (res) => {
            let n = 0;
            res.on("data", (d: Buffer) => {
              n += d.length;
            });
            res.on("end", () => resolve(n));
          },
        );
        req.on("error", reject);
        const chunk = Buffer.alloc(64 * 1024, 0x62);
        let left = size;
        const write = () => {
          while (left > 0) {
            const n = Math.min(left, chunk.length);
            left -= n;
            if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
              return void req.once("drain", write);
          }
          req.end();
        };
        write();
      });

    await download(1024); // warm the path up
    const down20 = await peakGrowth(() => download(20 * MB));
    const up20 = await peakGrowth(() => upload(20 * MB));
    expect(down20.result).toBe(20 * MB);
    expect(up20.result).toBe(20 * MB);
    const down200 = await peakGrowth(() => download(200 * MB));
    const up200 = await peakGrowth(() => upload(200 * MB));
    expect(down200.result).toBe(200 * MB);
    expect(up200.result).toBe(200 * MB);

    const mb = (n: number) => (n / MB).toFixed(1);
    process.stdout.write(
      `edge peak RSS growth: download 20 MB → ${mb(down20.growth)} MB, 200 MB → ${mb(down200.growth)} MB; ` +
        `upload 20 MB → ${mb(up20.growth)} MB, 200 MB → ${mb(up200.growth)} MB\n`,
    );
    expect(down200.growth).toBeLessThan(100 * MB);
    expect(up200.growth).toBeLessThan(100 * MB);
  });
});
