import { randomUUID } from "node:crypto";
import { createLogger, createMetricsRegistry } from "@apimon/observability";
import {
  createTestDatabase,
  emptyUsageBucket,
  emptyUsageSummary,
  estimateOf,
  invalidRequest,
  type TestDatabase,
} from "@apimon/testkit";
import { createApp } from "../src/app";
import { latencyBucket } from "../src/domain/latency-histogram";

const ADMIN_TOKEN = "keys-usage-admin-token-0123456789";
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
/** The service's clock: the defaults (to = now, from = to - 24 h) are computed from it. */
const NOW = new Date("2026-01-15T12:30:00.000Z");

let db: TestDatabase;
let app: ReturnType<typeof createApp>;
let keyA: number;
let keyB: number;
let userA: number;
let userB: number;
/** A key that was deleted: its history stays in api_usage. */
const DELETED_KEY = 999_999;

interface Row {
  at: string;
  key: number;
  user: number;
  status?: number;
  seconds?: number;
  endpoint?: string;
  method?: string;
  rateLimited?: boolean;
}

async function insertUsage(rows: Row[]) {
  await db.prisma.apiUsage.createMany({
    data: rows.map((r) => ({
      eventId: randomUUID(),
      userId: r.user,
      apiKeyId: r.key,
      endpoint: r.endpoint ?? "/users/:id",
      method: r.method ?? "GET",
      statusCode: r.status ?? 200,
      responseTime: r.seconds ?? 0.01,
      rateLimited: r.rateLimited ?? false,
      createdAt: new Date(r.at),
    })),
  });
}

async function get(path: string, headers: Record<string, string> = auth) {
  const res = await app.request(path, { headers });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown> & { buckets?: unknown[] },
  };
}

/** The 200 answer of key A's usage over [from, to) in `granularity` buckets. */
const usageOfKeyA = (from: string, to: string, granularity: string, buckets: unknown[]) => ({
  status: 200,
  body: { keyId: keyA, from, to, granularity, buckets },
});

beforeAll(async () => {
  db = await createTestDatabase();
  app = createApp({
    logger: createLogger({ service: "keys", level: "silent" }),
    registry: createMetricsRegistry("keys", { defaultMetrics: false }),
    prisma: db.prisma,
    config: {
      adminToken: ADMIN_TOKEN,
      keyHashSecret: "keys-usage-hash-secret-0123456789abcdef",
      graceSeconds: 86_400,
      defaults: { minute: 100, hour: 1000, day: 10000 },
    },
    clock: () => NOW,
    isShuttingDown: () => false,
  });
  const a = await db.prisma.user.create({ data: { email: "usage-a@example.com", name: "A" } });
  const b = await db.prisma.user.create({ data: { email: "usage-b@example.com", name: "B" } });
  userA = a.id;
  userB = b.id;
  const key = (userId: number, name: string) =>
    db.prisma.apiKey.create({ data: { userId, name, keyHash: name, keyPrefix: "ak_test" } });
  keyA = (await key(userA, "key-a")).id;
  keyB = (await key(userB, "key-b")).id;

  await insertUsage([
    // Just before 10:00: in the 09:00 bucket only.
    { at: "2026-01-15T09:59:59.999Z", key: keyA, user: userA, seconds: 0.5 },
    // 10:00-11:00: five requests, one refused by the rate limiter, two server errors.
    { at: "2026-01-15T10:05:00Z", key: keyA, user: userA, seconds: 0.01 },
    {
      at: "2026-01-15T10:15:00Z",
      key: keyA,
      user: userA,
      seconds: 0.02,
      endpoint: "/orders",
      method: "POST",
    },
    { at: "2026-01-15T10:25:00Z", key: keyA, user: userA, status: 429, seconds: 0.001, rateLimited: true },
    { at: "2026-01-15T10:35:00Z", key: keyA, user: userA, status: 500, seconds: 0.04 },
    { at: "2026-01-15T10:45:30Z", key: keyA, user: userA, status: 503, seconds: 0.1 },
    // Nothing from 11:00 to 12:00; two requests from 12:00.
    { at: "2026-01-15T12:10:00Z", key: keyA, user: userA, seconds: 0.05 },
    {
      at: "2026-01-15T12:20:00Z",
      key: keyA,
      user: userA,
      status: 201,
      seconds: 0.07,
      endpoint: "/orders",
      method: "POST",
    },
    // 13:00 exactly: beyond a range that ends at 13:00.
    { at: "2026-01-15T13:00:00Z", key: keyA, user: userA },
    // Other keys, never in key A's buckets.
    { at: "2026-01-15T10:10:00Z", key: keyB, user: userB, status: 502, seconds: 0.3, endpoint: "/b" },
    { at: "2026-01-15T10:20:00Z", key: keyB, user: userB, seconds: 0.2, endpoint: "/b" },
    { at: "2026-01-15T10:30:00Z", key: DELETED_KEY, user: userB, seconds: 0.2, endpoint: "/b" },
  ]);
});

afterAll(async () => {
  await db?.drop();
});

describe("GET /api/v1/keys/:id/usage", () => {
  it("answers requests, errors, rate-limited requests and p50/p95 per hour, empty hours included", async () => {
    const res = await get(
      `/api/v1/keys/${keyA}/usage?from=2026-01-15T10:00:00Z&to=2026-01-15T13:00:00Z&granularity=hour`,
    );
    expect(res).toEqual(
      usageOfKeyA("2026-01-15T10:00:00.000Z", "2026-01-15T13:00:00.000Z", "hour", [
        {
          start: "2026-01-15T10:00:00.000Z",
          requests: 5,
          errors: 2,
          clientErrors: 1,
          rateLimited: 1,
          // Of 1, 10, 20, 40 and 100 ms: the median, and 40 + 0.8 × (100 - 40) interpolated;
          // estimated from the hour's latency histogram.
          p50ResponseTimeMs: estimateOf(20),
          p95ResponseTimeMs: estimateOf(88),
        },
        emptyUsageBucket("2026-01-15T11:00:00.000Z"),
        {
          start: "2026-01-15T12:00:00.000Z",
          requests: 2,
          errors: 0,
          clientErrors: 0,
          rateLimited: 0,
          p50ResponseTimeMs: estimateOf(60),
          p95ResponseTimeMs: estimateOf(69),
        },
      ]),
    );
  });

  it("defaults to the last 24 hourly buckets up to the current hour", async () => {
    const res = await get(`/api/v1/keys/${keyA}/usage`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      keyId: keyA,
      from: "2026-01-14T13:00:00.000Z",
      to: "2026-01-15T13:00:00.000Z",
      granularity: "hour",
    });
    const buckets = res.body.buckets as { start: string; requests: number }[];
    expect(buckets).toHaveLength(24);
    expect(buckets.filter((b) => b.requests > 0).map((b) => [b.start, b.requests])).toEqual([
      ["2026-01-15T09:00:00.000Z", 1],
      ["2026-01-15T10:00:00.000Z", 5],
      ["2026-01-15T12:00:00.000Z", 2],
    ]);
  });

  it("buckets by minute and by day, rounding the range out to whole buckets", async () => {
    const minutes = await get(
      `/api/v1/keys/${keyA}/usage?from=2026-01-15T10:44:10Z&to=2026-01-15T10:45:01Z&granularity=minute`,
    );
    expect(minutes).toEqual(
      usageOfKeyA("2026-01-15T10:44:00.000Z", "2026-01-15T10:46:00.000Z", "minute", [
        emptyUsageBucket("2026-01-15T10:44:00.000Z"),
        {
          start: "2026-01-15T10:45:00.000Z",
          requests: 1,
          errors: 1,
          clientErrors: 0,
          rateLimited: 0,
          p50ResponseTimeMs: 100,
          p95ResponseTimeMs: 100,
        },
      ]),
    );

    const days = await get(`/api/v1/keys/${keyA}/usage?from=2026-01-14T08:00:00%2B02:00&granularity=day`);
    expect(days.body).toMatchObject({
      from: "2026-01-14T00:00:00.000Z",
      to: "2026-01-16T00:00:00.000Z",
      buckets: [
        emptyUsageBucket("2026-01-14T00:00:00.000Z"),
        { start: "2026-01-15T00:00:00.000Z", requests: 9, errors: 2 },
      ],
    });
  });

  it("answers a key's days from its hourly figures, not its user's other keys'", async () => {
    const sibling = await db.prisma.apiKey.create({
      data: { userId: userA, name: "key-a2", keyHash: "key-a2", keyPrefix: "ak_test" },
    });
    await insertUsage([
      { at: "2026-01-10T08:00:00Z", key: keyA, user: userA, seconds: 0.01 },
      { at: "2026-01-10T08:30:00Z", key: keyA, user: userA, status: 404, seconds: 0.03 },
      {
        at: "2026-01-10T23:59:59.999Z",
        key: keyA,
        user: userA,
        status: 429,
        seconds: 0.001,
        rateLimited: true,
      },
      { at: "2026-01-10T09:00:00Z", key: sibling.id, user: userA, status: 500, seconds: 2 },
      { at: "2026-01-11T00:00:00Z", key: sibling.id, user: userA, seconds: 2 },
    ]);
    const res = await get(
      `/api/v1/keys/${keyA}/usage?from=2025-12-16T00:00:00Z&to=2026-01-16T00:00:00Z&granularity=day`,
    );
    expect(res.status).toBe(200);
    const buckets = res.body.buckets as { start: string; requests: number }[];
    expect(buckets).toHaveLength(31);
    expect(buckets.filter((b) => b.requests > 0)).toEqual([
      {
        start: "2026-01-10T00:00:00.000Z",
        requests: 3,
        errors: 0,
        clientErrors: 2,
        rateLimited: 1,
        // Of 1, 10 and 30 ms.
        p50ResponseTimeMs: estimateOf(10),
        p95ResponseTimeMs: estimateOf(28),
      },
      {
        start: "2026-01-15T00:00:00.000Z",
        requests: 9,
        errors: 2,
        clientErrors: 1,
        rateLimited: 1,
        // Of 1, 10, 10, 20, 40, 50, 70, 100 and 500 ms.
        p50ResponseTimeMs: estimateOf(40),
        p95ResponseTimeMs: estimateOf(340),
      },
    ]);
    // By minute, the requests themselves: exact.
    const minutes = await get(
      `/api/v1/keys/${keyA}/usage?from=2026-01-10T08:00:00Z&to=2026-01-10T08:31:00Z&granularity=minute`,
    );
    expect((minutes.body.buckets as { requests: number }[]).filter((b) => b.requests > 0)).toEqual([
      expect.objectContaining({ requests: 1, p50ResponseTimeMs: 10, p95ResponseTimeMs: 10 }),
      expect.objectContaining({ requests: 1, clientErrors: 1, p50ResponseTimeMs: 30 }),
    ]);
    // The days come from the key's hourly figures, which do not go back to the requests: with the
    // requests themselves gone, they stay.
    await db.prisma.$executeRaw`delete from api_usage where created_at < '2026-01-11'`;
    const again = await get(
      `/api/v1/keys/${keyA}/usage?from=2026-01-10T00:00:00Z&to=2026-01-11T00:00:00Z&granularity=day`,
    );
    expect(again.body.buckets).toEqual([expect.objectContaining({ requests: 3, clientErrors: 2 })]);
  });

  it("answers 400 listing the bad query fields", async () => {
    expect(await get(`/api/v1/keys/${keyA}/usage?granularity=week&from=yesterday&foo=1`)).toEqual(
      invalidRequest("query", [
        { field: "from", message: "must be an ISO-8601 date-time with a time zone" },
        { field: "granularity", message: "must be minute, hour or day" },
        { field: "foo", message: "is not a known field" },
      ]),
    );
    expect(await get(`/api/v1/keys/${keyA}/usage?from=2026-01-15T10:00:00Z&to=2026-01-15T09:00:00Z`)).toEqual(
      invalidRequest("query", [{ field: "from", message: "must be before to" }]),
    );
    expect(
      await get(
        `/api/v1/keys/${keyA}/usage?from=2026-01-01T00:00:00Z&to=2026-01-15T00:00:00Z&granularity=minute`,
      ),
    ).toEqual(
      invalidRequest("query", [
        {
          field: "granularity",
          message:
            "the range holds 20160 minute buckets, at most 1500 are allowed: narrow from/to or choose a coarser granularity",
        },
      ]),
    );
    expect(await get("/api/v1/keys/abc/usage")).toEqual(
      invalidRequest("path", [{ field: "id", message: "must be an integer from 1 to 2147483647" }]),
    );
  });

  it("refuses date-times Postgres cannot read (year 0, past 9999) with 400, not 500", async () => {
    const outside = "must lie between 1970-01-01T00:00:00Z and 9999-01-01T00:00:00Z";
    for (const path of [`/api/v1/keys/${keyA}/usage`, "/api/v1/usage", "/api/v1/usage/summary"])
      for (const [param, value] of [
        ["from", "0000-01-01T00:00:00Z"],
        ["to", "0001-01-01T00:00:00Z"],
        ["to", "9999-12-31T23:59:59Z"],
      ] as const)
        expect([path, await get(`${path}?${param}=${value}`)]).toEqual([
          path,
          invalidRequest("query", [{ field: param, message: outside }]),
        ]);
  });

  it("answers 404 for an unknown key and 401 without the admin token", async () => {
    expect(await get(`/api/v1/keys/${DELETED_KEY}/usage`)).toEqual({
      status: 404,
      body: { detail: "API key not found" },
    });
    expect(await get(`/api/v1/keys/${keyA}/usage`, {})).toEqual({
      status: 401,
      body: { detail: "Not authenticated" },
    });
  });
});

describe("GET /api/v1/usage", () => {
  const range = "from=2026-01-15T10:00:00Z&to=2026-01-15T13:00:00Z";

  it("answers every key's requests per bucket, a deleted key's included", async () => {
    expect(await get(`/api/v1/usage?${range}&granularity=hour`)).toEqual({
      status: 200,
      body: {
        from: "2026-01-15T10:00:00.000Z",
        to: "2026-01-15T13:00:00.000Z",
        granularity: "hour",
        buckets: [
          {
            start: "2026-01-15T10:00:00.000Z",
            // Key A's five, key B's two and the deleted key's one.
            requests: 8,
            errors: 3,
            clientErrors: 1,
            rateLimited: 1,
            // Of 1, 10, 20, 40, 100, 200, 200 and 300 ms.
            p50ResponseTimeMs: estimateOf(70),
            p95ResponseTimeMs: estimateOf(265),
          },
          emptyUsageBucket("2026-01-15T11:00:00.000Z"),
          {
            start: "2026-01-15T12:00:00.000Z",
            requests: 2,
            errors: 0,
            clientErrors: 0,
            rateLimited: 0,
            p50ResponseTimeMs: estimateOf(60),
            p95ResponseTimeMs: estimateOf(69),
          },
        ],
      },
    });
  });

  it("answers every key's requests per day from the hourly tables", async () => {
    expect(
      (await get("/api/v1/usage?from=2026-01-15T00:00:00Z&to=2026-01-16T00:00:00Z&granularity=day")).body,
    ).toEqual({
      from: "2026-01-15T00:00:00.000Z",
      to: "2026-01-16T00:00:00.000Z",
      granularity: "day",
      buckets: [
        {
          start: "2026-01-15T00:00:00.000Z",
          requests: 12,
          errors: 3,
          clientErrors: 1,
          rateLimited: 1,
          // Of 1, 10, 10, 20, 40, 50, 70, 100, 200, 200, 300 and 500 ms.
          p50ResponseTimeMs: estimateOf(60),
          p95ResponseTimeMs: estimateOf(390),
        },
      ],
    });
  });

  it("narrows to one user's keys, and a user without requests has empty buckets", async () => {
    expect((await get(`/api/v1/usage?${range}&granularity=hour&userId=${userB}`)).body).toEqual({
      from: "2026-01-15T10:00:00.000Z",
      to: "2026-01-15T13:00:00.000Z",
      granularity: "hour",
      userId: userB,
      buckets: [
        {
          start: "2026-01-15T10:00:00.000Z",
          requests: 3,
          errors: 1,
          clientErrors: 0,
          rateLimited: 0,
          p50ResponseTimeMs: estimateOf(200),
          p95ResponseTimeMs: estimateOf(290),
        },
        emptyUsageBucket("2026-01-15T11:00:00.000Z"),
        emptyUsageBucket("2026-01-15T12:00:00.000Z"),
      ],
    });
    const nobody = await get(`/api/v1/usage?${range}&userId=2147483647`);
    expect(nobody.status).toBe(200);
    expect(nobody.body.buckets).toEqual([
      emptyUsageBucket("2026-01-15T10:00:00.000Z"),
      emptyUsageBucket("2026-01-15T11:00:00.000Z"),
      emptyUsageBucket("2026-01-15T12:00:00.000Z"),
    ]);
  });

  it("defaults to the last 24 hourly buckets up to the current hour", async () => {
    const res = await get("/api/v1/usage");
    expect(res.body).toMatchObject({
      from: "2026-01-14T13:00:00.000Z",
      to: "2026-01-15T13:00:00.000Z",
      granularity: "hour",
    });
    const buckets = res.body.buckets as { start: string; requests: number }[];
    expect(buckets).toHaveLength(24);
    expect(buckets.filter((b) => b.requests > 0).map((b) => [b.start, b.requests])).toEqual([
      ["2026-01-15T09:00:00.000Z", 1],
      ["2026-01-15T10:00:00.000Z", 8],
      ["2026-01-15T12:00:00.000Z", 2],
    ]);
  });

  it("answers 400 listing the bad query fields, for more than 31 days and for too many buckets", async () => {
    expect(await get("/api/v1/usage?granularity=week&userId=0&keyId=1")).toEqual(
      invalidRequest("query", [
        { field: "granularity", message: "must be minute, hour or day" },
        { field: "userId", message: "must be an integer from 1 to 2147483647" },
        { field: "keyId", message: "is not a known field" },
      ]),
    );
    expect(
      await get("/api/v1/usage?from=2025-01-01T00:00:00Z&to=2025-03-01T00:00:00Z&granularity=day"),
    ).toEqual(invalidRequest("query", [{ field: "from", message: "the range must not exceed 31 days" }]));
    expect(
      await get("/api/v1/usage?from=2025-01-01T00:00:00Z&to=2025-01-03T00:00:00Z&granularity=minute"),
    ).toEqual(
      invalidRequest("query", [
        {
          field: "granularity",
          message:
            "the range holds 2880 minute buckets, at most 1500 are allowed: narrow from/to or choose a coarser granularity",
        },
      ]),
    );
    expect(await get("/api/v1/usage", {})).toEqual({ status: 401, body: { detail: "Not authenticated" } });
  });
});

describe("GET /api/v1/usage/summary", () => {
  const range = "from=2026-01-15T10:00:00Z&to=2026-01-15T13:00:00Z";

  it("answers totals, the error rate, the busiest keys and the busiest endpoints", async () => {
    expect(await get(`/api/v1/usage/summary?${range}`)).toEqual({
      status: 200,
      body: {
        from: "2026-01-15T10:00:00.000Z",
        to: "2026-01-15T13:00:00.000Z",
        requests: 10,
        errors: 3,
        clientErrors: 1,
        errorRate: 0.3,
        topKeys: [
          // 1, 10, 20, 40, 50, 70 and 100 ms: 70 + 0.7 × (100 - 70).
          { keyId: keyA, name: "key-a", requests: 7, errors: 2, p95ResponseTimeMs: estimateOf(91) },
          { keyId: keyB, name: "key-b", requests: 2, errors: 1, p95ResponseTimeMs: estimateOf(295) },
          { keyId: DELETED_KEY, name: null, requests: 1, errors: 0, p95ResponseTimeMs: estimateOf(200) },
        ],
        topEndpoints: [
          // 1, 10, 40, 50 and 100 ms.
          {
            endpoint: "/users/:id",
            method: "GET",
            requests: 5,
            errors: 2,
            p95ResponseTimeMs: estimateOf(90),
          },
          // 200, 200 and 300 ms.
          { endpoint: "/b", method: "GET", requests: 3, errors: 1, p95ResponseTimeMs: estimateOf(290) },
          {
            endpoint: "/orders",
            method: "POST",
            requests: 2,
            errors: 0,
            p95ResponseTimeMs: estimateOf(67.5),
          },
        ],
      },
    });
  });

  it("limits the top lists and narrows to one user's keys", async () => {
    const top1 = await get(`/api/v1/usage/summary?${range}&limit=1`);
    expect(top1.body).toMatchObject({
      requests: 10,
      topKeys: [{ keyId: keyA }],
      topEndpoints: [{ endpoint: "/users/:id" }],
    });
    expect((await get(`/api/v1/usage/summary?${range}&userId=${userB}`)).body).toEqual({
      from: "2026-01-15T10:00:00.000Z",
      to: "2026-01-15T13:00:00.000Z",
      userId: userB,
      requests: 3,
      errors: 1,
      clientErrors: 0,
      errorRate: 1 / 3,
      topKeys: [
        { keyId: keyB, name: "key-b", requests: 2, errors: 1, p95ResponseTimeMs: estimateOf(295) },
        { keyId: DELETED_KEY, name: null, requests: 1, errors: 0, p95ResponseTimeMs: estimateOf(200) },
      ],
      topEndpoints: [
        { endpoint: "/b", method: "GET", requests: 3, errors: 1, p95ResponseTimeMs: estimateOf(290) },
      ],
    });
  });

  it("adds the requests of the parts of an hour at either end to those of the whole hours between", async () => {
    // 09:59:59.999 and 12:10 from the ends, the eight of 10:00-11:00 whole.
    expect(
      (await get("/api/v1/usage/summary?from=2026-01-15T09:30:00Z&to=2026-01-15T12:15:00Z")).body,
    ).toEqual({
      from: "2026-01-15T09:30:00.000Z",
      to: "2026-01-15T12:15:00.000Z",
      requests: 10,
      errors: 3,
      clientErrors: 1,
      errorRate: 0.3,
      topKeys: [
        // 1, 10, 20, 40, 50, 100 and 500 ms, the first and last from the part-hours.
        { keyId: keyA, name: "key-a", requests: 7, errors: 2, p95ResponseTimeMs: estimateOf(380) },
        { keyId: keyB, name: "key-b", requests: 2, errors: 1, p95ResponseTimeMs: estimateOf(295) },
        { keyId: DELETED_KEY, name: null, requests: 1, errors: 0, p95ResponseTimeMs: estimateOf(200) },
      ],
      topEndpoints: [
        // 1, 10, 40, 50, 100 and 500 ms.
        { endpoint: "/users/:id", method: "GET", requests: 6, errors: 2, p95ResponseTimeMs: estimateOf(400) },
        { endpoint: "/b", method: "GET", requests: 3, errors: 1, p95ResponseTimeMs: estimateOf(290) },
        { endpoint: "/orders", method: "POST", requests: 1, errors: 0, p95ResponseTimeMs: estimateOf(20) },
      ],
    });
    // Within one hour: 10:15, 10:20, 10:25, 10:30 and 10:35.
    expect(
      (await get("/api/v1/usage/summary?from=2026-01-15T10:12:00Z&to=2026-01-15T10:40:00Z")).body,
    ).toMatchObject({
      requests: 5,
      errors: 1,
      clientErrors: 1,
      topKeys: [
        { keyId: keyA, requests: 3 },
        { keyId: keyB, requests: 1 },
        { keyId: DELETED_KEY, requests: 1 },
      ],
    });
    // Across an hour's end without a whole hour: 10:45:30 and 12:10 of key A; one user's.
    expect(
      (await get("/api/v1/usage/summary?from=2026-01-15T10:40:00Z&to=2026-01-15T12:15:00Z")).body,
    ).toMatchObject({ requests: 2, errors: 1, topKeys: [{ keyId: keyA, requests: 2 }] });
    expect(
      (await get(`/api/v1/usage/summary?from=2026-01-15T10:15:00Z&to=2026-01-15T12:00:00Z&userId=${userB}`))
        .body,
    ).toMatchObject({ requests: 2, errors: 0, topKeys: [{ keyId: keyB }, { keyId: DELETED_KEY }] });
  });

  it("defaults to the last 24 hours and answers zeros when nothing happened", async () => {
    expect((await get("/api/v1/usage/summary")).body).toMatchObject({
      from: "2026-01-14T12:30:00.000Z",
      to: "2026-01-15T12:30:00.000Z",
      // Everything but the 13:00 request.
      requests: 11,
    });
    expect(
      (await get("/api/v1/usage/summary?from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z")).body,
    ).toEqual(emptyUsageSummary("2025-01-01T00:00:00.000Z", "2025-01-02T00:00:00.000Z"));
  });

  it("answers 400 listing the bad query fields", async () => {
    expect(await get("/api/v1/usage/summary?limit=0&userId=x&to=noon")).toEqual(
      invalidRequest("query", [
        { field: "to", message: "must be an ISO-8601 date-time with a time zone" },
        { field: "userId", message: "must be an integer from 1 to 2147483647" },
        { field: "limit", message: "must be an integer from 1 to 100" },
      ]),
    );
    expect(await get("/api/v1/usage/summary?from=2025-01-01T00:00:00Z&to=2025-03-01T00:00:00Z")).toEqual(
      invalidRequest("query", [{ field: "from", message: "the range must not exceed 31 days" }]),
    );
  });
});

describe("latency histogram buckets", () => {
  it("are the same in the database as in the service", async () => {
    // Every bucket's middle, values either side of 0.1 ms, and times from 1 µs to an hour.
    const seconds = [
      0,
      0.00005,
      0.0000999,
      ...Array.from({ length: 200 }, (_, i) => 0.0001 * 2 ** ((i + 0.5) / 8)),
      ...Array.from({ length: 500 }, (_, i) => 10 ** (-6 + (i * 9.6) / 500)),
    ];
    const rows = await db.prisma.$queryRaw<{ bucket: number }[]>`
      SELECT usage_latency_bucket(s) AS bucket FROM unnest(${seconds}::float8[]) WITH ORDINALITY AS t(s, i)
      ORDER BY i`;
    expect(rows.map((r) => r.bucket)).toEqual(seconds.map(latencyBucket));
  });
});
