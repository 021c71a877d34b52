import { createEdgeClient, readQuota, retryAfterMs } from "./edge-client";

const LIMIT_HEADERS = {
  "X-RateLimit-Minute-Limit": "100",
  "X-RateLimit-Minute-Remaining": "95",
  "X-RateLimit-Minute-Reset": "60",
  "X-RateLimit-Hour-Limit": "1000",
  "X-RateLimit-Hour-Remaining": "950",
  "X-RateLimit-Hour-Reset": "3600",
  "X-RateLimit-Day-Limit": "10000",
  "X-RateLimit-Day-Remaining": "9500",
  "X-RateLimit-Day-Reset": "86400",
};

/** A fake edge answering from a script, one answer per request; it records what it was sent. */
function scriptedFetch(answers: Array<() => Response>) {
  const sent: { url: string; method: string; key: string | null; body: string }[] = [];
  const fake: typeof fetch = async (input) => {
    const request = input as Request;
    sent.push({
      url: request.url,
      method: request.method,
      key: request.headers.get("x-api-key"),
      body: await request.text(),
    });
    const next = answers.shift();
    if (!next) throw new Error("no answer scripted");
    return next();
  };
  return { fake, sent };
}

const limited = (retryAfter: string) => () =>
  new Response(JSON.stringify({ detail: "Rate limit exceeded for minute. Try again in 1 seconds" }), {
    status: 429,
    headers: { ...LIMIT_HEADERS, "X-RateLimit-Minute-Remaining": "0", "Retry-After": retryAfter },
  });
const ok = () => new Response("{}", { status: 200, headers: LIMIT_HEADERS });

describe("edge client", () => {
  it("reads the spec's rate-limit headers into a quota", () => {
    expect(readQuota(new Headers(LIMIT_HEADERS))).toEqual({
      minute: { limit: 100, remaining: 95, resetSeconds: 60 },
      hour: { limit: 1000, remaining: 950, resetSeconds: 3600 },
      day: { limit: 10000, remaining: 9500, resetSeconds: 86400 },
      remaining: 95,
    });
    const { "X-RateLimit-Day-Reset": _, ...partial } = LIMIT_HEADERS;
    expect(readQuota(new Headers(partial))).toBeUndefined();
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    expect(retryAfterMs(new Headers({ "Retry-After": "7" }))).toBe(7000);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs(new Headers({ "Retry-After": "Thu, 01 Jan 2026 00:00:03 GMT" }), now)).toBe(3000);
    expect(retryAfterMs(new Headers({ "Retry-After": "soon" }))).toBeUndefined();
    expect(retryAfterMs(new Headers())).toBeUndefined();
  });

  it("sends the key, resolves paths against the base URL and keeps the last quota", async () => {
    const { fake, sent } = scriptedFetch([ok]);
    const client = createEdgeClient({ apiKey: "ak_test", baseUrl: "http://edge.test:8080", fetch: fake });
    expect(client.quota).toBeUndefined();
    const res = await client.fetch("/api/users", { method: "POST", body: "{}" });
    expect(res.status).toBe(200);
    expect(sent).toEqual([
      { url: "http://edge.test:8080/api/users", method: "POST", key: "ak_test", body: "{}" },
    ]);
    expect(client.quota?.remaining).toBe(95);
  });

  it("waits out a 429 by Retry-After and sends the same request again", async () => {
    const { fake, sent } = scriptedFetch([limited("0"), limited("0"), ok]);
    const waits: number[] = [];
    const client = createEdgeClient({
      apiKey: "ak_test",
      baseUrl: "http://edge.test",
      fetch: fake,
      onRateLimited: (info) => waits.push(info.attempt),
    });
    const res = await client.fetch("/api/orders", { method: "PUT", body: "payload" });
    expect(res.status).toBe(200);
    expect(waits).toEqual([1, 2]);
    expect(sent.map((s) => [s.method, s.body, s.key])).toEqual([
      ["PUT", "payload", "ak_test"],
      ["PUT", "payload", "ak_test"],
      ["PUT", "payload", "ak_test"],
    ]);
  });

  it("hands back the 429 after maxRetries waits", async () => {
    const { fake, sent } = scriptedFetch([limited("0"), limited("0")]);
    const client = createEdgeClient({ apiKey: "k", baseUrl: "http://edge.test", fetch: fake, maxRetries: 1 });
    const res = await client.fetch("/x");
    expect(res.status).toBe(429);
    expect(await res.json()).toEqual({
      detail: "Rate limit exceeded for minute. Try again in 1 seconds",
    });
    expect(sent).toHaveLength(2);
    expect(client.quota?.minute.remaining).toBe(0);
  });

  it("does not wait when Retry-After is longer than maxWaitMs, or absent", async () => {
    const { fake, sent } = scriptedFetch([
      limited("3600"),
      () => new Response("{}", { status: 429, headers: LIMIT_HEADERS }),
    ]);
    const waits: number[] = [];
    const client = createEdgeClient({
      apiKey: "k",
      baseUrl: "http://edge.test",
      fetch: fake,
      maxWaitMs: 60_000,
      onRateLimited: (info) => waits.push(info.waitMs),
    });
    expect((await client.fetch("/x")).status).toBe(429);
    expect((await client.fetch("/x")).status).toBe(429);
    expect(sent).toHaveLength(2);
    expect(waits).toEqual([]);
  });

  it("stops waiting when the request's signal aborts", async () => {
    const { fake, sent } = scriptedFetch([limited("3600"), ok]);
    const controller = new AbortController();
    const client = createEdgeClient({
      apiKey: "k",
      baseUrl: "http://edge.test",
      fetch: fake,
      maxWaitMs: 7_200_000,
      onRateLimited: () => controller.abort(new Error("caller gave up")),
    });
    await expect(client.fetch("/x", { signal: controller.signal })).rejects.toThrow("caller gave up");
    expect(sent).toHaveLength(1);
  });
});
