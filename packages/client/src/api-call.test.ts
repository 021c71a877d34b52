import { ApiError, createTypedClient, paginate, retryAfterMs, unwrap } from "./api-call";

type Paths = {
  "/things": {
    get: { responses: { 200: { content: { "application/json": { ok: boolean } } } } };
    post: {
      requestBody: { content: { "application/json": { name: string } } };
      responses: { 201: { content: { "application/json": { ok: boolean } } } };
    };
  };
};

/** A client whose fetch answers from a script, recording each attempt and each wait. */
function scripted(
  answers: (Response | Error)[],
  options: { timeoutMs?: number; maxRetryDelayMs?: number } = {},
) {
  const attempts: { method: string; url: string; auth: string | null; body: unknown }[] = [];
  const waits: number[] = [];
  const client = createTypedClient<Paths>({
    service: "things",
    baseUrl: "http://things.test",
    adminToken: "token",
    ...options,
    sleep: async (ms) => {
      waits.push(ms);
    },
    fetch: async (url, init) => {
      attempts.push({
        method: String(init.method),
        url,
        auth: new Headers(init.headers).get("authorization"),
        body: init.body,
      });
      const next = answers.shift();
      if (next === undefined) throw new Error("no more answers");
      if (next instanceof Error) throw next;
      return next;
    },
  });
  return { client, attempts, waits };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

describe("API client calls", () => {
  it("sends the admin token and returns the data of a 2xx answer", async () => {
    const { client, attempts } = scripted([json(201, { ok: true })]);
    expect(await unwrap(client.POST("/things", { body: { name: "x" } }))).toEqual({ ok: true });
    expect(attempts).toEqual([
      { method: "POST", url: "http://things.test/things", auth: "Bearer token", body: '{"name":"x"}' },
    ]);
  });

  it("waits out a 429 for its Retry-After, whatever the method, then retries", async () => {
    const { client, attempts, waits } = scripted([
      json(429, { detail: "Rate limit exceeded" }, { "retry-after": "3" }),
      json(201, { ok: true }),
    ]);
    expect(await unwrap(client.POST("/things", { body: { name: "x" } }))).toEqual({ ok: true });
    expect(waits).toEqual([3000]);
    expect(attempts.map((a) => a.body)).toEqual(['{"name":"x"}', '{"name":"x"}']);
  });

  it("retries a 5xx of a GET with exponential backoff, and gives up with the last answer", async () => {
    const { client, waits } = scripted([
      json(503, { detail: "Database unavailable; try again" }),
      json(502, { detail: "Bad gateway" }),
      json(503, { detail: "Database unavailable; try again" }),
    ]);
    const error = await unwrap(client.GET("/things")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 503, message: "HTTP 503: Database unavailable; try again" });
    expect(waits).toEqual([250, 500]);
  });

  it("does not send a POST again after a 5xx: it may have taken effect", async () => {
    const { client, attempts } = scripted([json(500, { detail: "Internal server error" })]);
    await expect(unwrap(client.POST("/things", { body: { name: "x" } }))).rejects.toMatchObject({
      status: 500,
    });
    expect(attempts).toHaveLength(1);
  });

  it("answers a 429 at once when its Retry-After is beyond the longest wait", async () => {
    const { client, waits } = scripted(
      [json(429, { detail: "Rate limit exceeded" }, { "retry-after": "3600" })],
      {
        maxRetryDelayMs: 10_000,
      },
    );
    await expect(unwrap(client.GET("/things"))).rejects.toMatchObject({ status: 429 });
    expect(waits).toEqual([]);
  });

  it("names the service it cannot reach, after retrying a GET", async () => {
    const refused = Object.assign(new TypeError("fetch failed"), {
      cause: new Error("connect ECONNREFUSED"),
    });
    const { client, attempts } = scripted([refused, refused, refused]);
    await expect(unwrap(client.GET("/things"))).rejects.toThrow(
      "cannot reach the things service at http://things.test: Error: connect ECONNREFUSED",
    );
    expect(attempts).toHaveLength(3);
  });

  it("adds the caller's headers, asked for at each call and kept across its retries, never over the admin token", async () => {
    const sent: Record<string, string | null>[] = [];
    let calls = 0;
    const client = createTypedClient<Paths>({
      service: "things",
      baseUrl: "http://things.test",
      adminToken: "token",
      sleep: async () => {},
      headers: () => ({ "x-caller": `call ${++calls}`, authorization: "Bearer forged" }),
      fetch: async (_url, init) => {
        const headers = new Headers(init.headers);
        sent.push({ caller: headers.get("x-caller"), auth: headers.get("authorization") });
        return sent.length === 1 ? json(503, { detail: "Try again" }) : json(200, { ok: true });
      },
    });
    await unwrap(client.GET("/things"));
    await unwrap(client.GET("/things"));
    expect(sent).toEqual([
      { caller: "call 1", auth: "Bearer token" },
      { caller: "call 1", auth: "Bearer token" },
      { caller: "call 2", auth: "Bearer token" },
    ]);
  });

  it("asks a token given as a function at each call, so that one client serves many operators", async () => {
    const sent: (string | null)[] = [];
    let current = "apimon_op_first";
    const client = createTypedClient<Paths>({
      service: "things",
      baseUrl: "http://things.test",
      adminToken: () => current,
      fetch: async (_url, init) => {
        sent.push(new Headers(init.headers).get("authorization"));
        return json(200, { ok: true });
      },
    });
    await unwrap(client.GET("/things"));
    current = "apimon_op_second";
    await unwrap(client.GET("/things"));
    expect(sent).toEqual(["Bearer apimon_op_first", "Bearer apimon_op_second"]);
  });

  it("abandons an attempt that outlives its timeout", async () => {
    const client = createTypedClient<Paths>({
      service: "things",
      baseUrl: "http://things.test",
      adminToken: "token",
      timeoutMs: 20,
      retries: 0,
      fetch: (_url, init) =>
        new Promise((_resolve, reject) =>
          init.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
        ),
    });
    await expect(unwrap(client.GET("/things"))).rejects.toThrow(
      "cannot reach the things service at http://things.test: no answer within 20 ms",
    );
  });
});

describe("Retry-After", () => {
  it("reads seconds and HTTP dates", () => {
    const now = Date.parse("2026-12-03T10:00:00Z");
    expect(retryAfterMs("7", now)).toBe(7000);
    expect(retryAfterMs("Thu, 03 Dec 2026 10:00:05 GMT", now)).toBe(5000);
    expect(retryAfterMs("Thu, 03 Dec 2026 09:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});

describe("paginate", () => {
  it("follows nextCursor until the last page, fetching a page only when needed", async () => {
    const asked: (string | undefined)[] = [];
    const pages: Record<string, { items: number[]; nextCursor: string | null }> = {
      first: { items: [1, 2], nextCursor: "c2" },
      c2: { items: [3], nextCursor: "c3" },
      c3: { items: [], nextCursor: null },
    };
    const items = paginate(async (cursor) => {
      asked.push(cursor);
      return pages[cursor ?? "first"] as { items: number[]; nextCursor: string | null };
    });
    const first = await items.next();
    expect([first.value, asked]).toEqual([1, [undefined]]);
    const rest: number[] = [];
    for await (const item of items) rest.push(item);
    expect([rest, asked]).toEqual([
      [2, 3],
      [undefined, "c2", "c3"],
    ]);
  });
});
