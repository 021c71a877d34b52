import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_ALERT_SETTINGS } from "@apimon/config";
import type { PrismaClient } from "@apimon/db";
import type { AlertSignal, NotificationJob } from "@apimon/events";
import { encodeCursor } from "@apimon/http";
import {
  type BatchingProducer,
  type ConsumerRunner,
  createBatchingProducer,
  type KafkaClient,
} from "@apimon/kafka";
import { createOutboxRelay, type OutboxRelay } from "@apimon/outbox";
import {
  createTestDatabase,
  invalidRequest,
  type TestDatabase,
  testLogger,
  uniqueTopicPrefix,
} from "@apimon/testkit";
import { buildApp, CONSOLE_URL, call, collectJobs, createTopics, ISO, processorOn, UUID } from "./support";

// Every endpoint of the alerts API on a real database, with whole bodies. Channel tests go
// through the real outbox, relay and Kafka to a stand-in for the notifier.

let db: TestDatabase;
let prisma: PrismaClient;
let now = new Date("2026-11-26T10:00:00.000Z");
const clock = () => now;
const setNow = (iso: string) => {
  now = new Date(iso);
};
let app: ReturnType<typeof buildApp>;

const api = (method: string, path: string, body?: unknown) =>
  call(app, method, `/api/v1/alerts${path}`, body);

async function fire(
  signal: Partial<AlertSignal> & Pick<AlertSignal, "fingerprint" | "type">,
): Promise<number> {
  const outcome = await processorOn(prisma, clock).apply({
    severity: "warning",
    state: "firing",
    scope: {},
    observedValue: 1,
    threshold: 1,
    message: "m",
    observedAt: now.toISOString(),
    ...signal,
  });
  return outcome.alert?.id as number;
}

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = db.prisma;
  app = buildApp(prisma, { clock });
});

afterAll(async () => {
  await db?.drop();
});

/** Alert counts per type as the API reports them: every type, zero where none is given. */
const countsByType = (counts: Partial<Record<string, number>>) => ({
  response_time: 0,
  error_rate: 0,
  usage_spike: 0,
  unauthorized_access: 0,
  rate_limit_approaching: 0,
  ...counts,
});

describe("authentication", () => {
  it.each([
    ["GET", "/api/v1/alerts"],
    ["GET", "/api/v1/alerts/history"],
    ["GET", "/api/v1/alerts/counts"],
    ["GET", "/api/v1/alerts/report"],
    ["GET", "/api/v1/alerts/settings"],
    ["PUT", "/api/v1/alerts/settings"],
    ["GET", "/api/v1/alerts/channels"],
    ["POST", "/api/v1/alerts/channels"],
    ["GET", "/api/v1/alerts/channels/1"],
    ["PATCH", "/api/v1/alerts/channels/1"],
    ["DELETE", "/api/v1/alerts/channels/1"],
    ["POST", "/api/v1/alerts/channels/1/test"],
    ["GET", "/api/v1/alerts/1"],
    ["POST", "/api/v1/alerts/1/acknowledge"],
  ])("%s %s answers 401 without the admin token, or with a wrong one", async (method, path) => {
    const variants: Record<string, string>[] = [{}, { authorization: "Bearer not-the-admin-token" }];
    for (const headers of variants) {
      const res = await call(app, method, path, undefined, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
      expect(res.body).toEqual({ detail: "Not authenticated" });
    }
  });
});

describe("alerts", () => {
  const ids = { slow: 0, errors: 0, spike: 0, brute: 0 };

  beforeAll(async () => {
    setNow("2026-11-26T10:00:00.000Z");
    ids.slow = await fire({
      fingerprint: "response_time:key=7:endpoint=/users/:id",
      type: "response_time",
      scope: { apiKeyId: 7, endpoint: "/users/:id" },
      observedValue: 1.4,
      threshold: 1,
      message: "Response time 1.4 s above 1 s on /users/:id",
    });
    setNow("2026-11-26T10:01:00.000Z");
    ids.errors = await fire({
      fingerprint: "error_rate:key=8",
      type: "error_rate",
      severity: "critical",
      scope: { apiKeyId: 8 },
      observedValue: 0.12,
      threshold: 0.1,
    });
    setNow("2026-11-26T10:02:00.000Z");
    ids.spike = await fire({ fingerprint: "usage_spike:key=7", type: "usage_spike", scope: { apiKeyId: 7 } });
    setNow("2026-11-26T10:03:00.000Z");
    expect((await api("POST", `/${ids.spike}/acknowledge`, { by: "ada", note: "looking" })).status).toBe(200);
    setNow("2026-11-27T09:00:00.000Z");
    ids.brute = await fire({
      fingerprint: "unauthorized_access:ip=10.0.0.9",
      type: "unauthorized_access",
      severity: "critical",
      scope: { clientIp: "10.0.0.9" },
    });
    setNow("2026-11-27T09:01:40.000Z");
    await api("POST", `/${ids.brute}/acknowledge`);
    setNow("2026-11-27T09:05:00.000Z");
    await processorOn(prisma, clock).apply({
      fingerprint: "unauthorized_access:ip=10.0.0.9",
      type: "unauthorized_access",
      severity: "critical",
      state: "resolved",
      scope: { clientIp: "10.0.0.9" },
      observedValue: 0,
      threshold: 5,
      message: "m",
      observedAt: now.toISOString(),
    });
    setNow("2026-11-27T12:00:00.000Z");
  });

  const listIds = (res: { body: { items: { id: number }[] } }) => res.body.items.map((a) => a.id);

  it("lists active alerts (firing or acknowledged), newest first, as whole alerts", async () => {
    const res = await api("GET", "");
    expect(res.status).toBe(200);
    expect(listIds(res)).toEqual([ids.spike, ids.errors, ids.slow]);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items[2]).toEqual({
      id: ids.slow,
      fingerprint: "response_time:key=7:endpoint=/users/:id",
      type: "response_time",
      severity: "warning",
      status: "firing",
      apiKeyId: 7,
      endpoint: "/users/:id",
      clientIp: null,
      message: "Response time 1.4 s above 1 s on /users/:id",
      observedValue: 1.4,
      threshold: 1,
      occurrences: 1,
      firstSeenAt: "2026-11-26T10:00:00.000Z",
      lastSeenAt: "2026-11-26T10:00:00.000Z",
      acknowledgedAt: null,
      acknowledgedBy: null,
      acknowledgementNote: null,
      resolvedAt: null,
      lastNotifiedAt: "2026-11-26T10:00:00.000Z",
      heldUntil: null,
      escalatedAt: null,
      silencedBy: null,
      createdAt: "2026-11-26T10:00:00.000Z",
      updatedAt: ISO,
    });
  });

  it("counts the active alerts by severity, status and type", async () => {
    const res = await api("GET", "/counts");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      total: 3,
      bySeverity: { warning: 2, critical: 1 },
      byStatus: { firing: 2, acknowledged: 1 },
      byType: countsByType({ response_time: 1, error_rate: 1, usage_spike: 1 }),
      silenced: 0,
    });
  });

  it("filters active alerts by type, severity, status and API key", async () => {
    expect(listIds(await api("GET", "?type=error_rate"))).toEqual([ids.errors]);
    expect(listIds(await api("GET", "?severity=warning"))).toEqual([ids.spike, ids.slow]);
    expect(listIds(await api("GET", "?status=acknowledged"))).toEqual([ids.spike]);
    expect(listIds(await api("GET", "?apiKeyId=7&severity=warning"))).toEqual([ids.spike, ids.slow]);
    expect(listIds(await api("GET", "?type=rate_limit_approaching"))).toEqual([]);
  });

  it("pages with an opaque cursor", async () => {
    const first = await api("GET", "?limit=2");
    expect(listIds(first)).toEqual([ids.spike, ids.errors]);
    expect(first.body.nextCursor).toBe(encodeCursor(ids.errors));
    const second = await api("GET", `?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body).toMatchObject({ nextCursor: null });
    expect(listIds(second)).toEqual([ids.slow]);
  });

  it("refuses bad filters with 400 naming each field", async () => {
    const res = await api(
      "GET",
      "?status=resolved&type=slowness&severity=info&apiKeyId=0&limit=500&cursor=x&x=1",
    );
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      detail: "Invalid query",
      errors: expect.arrayContaining([
        {
          field: "status",
          message: "must be firing or acknowledged (resolved alerts are listed by /api/v1/alerts/history)",
        },
        {
          field: "type",
          message:
            "must be one of response_time, error_rate, usage_spike, unauthorized_access, rate_limit_approaching",
        },
        { field: "severity", message: "must be one of warning, critical" },
        { field: "apiKeyId", message: "must be an integer from 1 to 2147483647" },
        { field: "limit", message: "must be an integer from 1 to 100" },
        { field: "cursor", message: "Invalid cursor" },
        { field: "x", message: "is not a known field" },
      ]),
    });
    expect(res.body.errors).toHaveLength(7);
  });

  it("lists history in a date range, resolved alerts included", async () => {
    const all = await api("GET", "/history");
    expect(all.status).toBe(200);
    expect(listIds(all)).toEqual([ids.brute, ids.spike, ids.errors, ids.slow]);
    const resolved = await api("GET", "/history?status=resolved");
    expect(resolved.body.items).toEqual([
      expect.objectContaining({
        id: ids.brute,
        status: "resolved",
        clientIp: "10.0.0.9",
        acknowledgedAt: "2026-11-27T09:01:40.000Z",
        resolvedAt: "2026-11-27T09:05:00.000Z",
      }),
    ]);
    const day = await api(
      "GET",
      "/history?from=2026-11-26T00:00:00Z&to=2026-11-27T00:00:00Z&severity=warning",
    );
    expect(listIds(day)).toEqual([ids.spike, ids.slow]);
    const paged = await api("GET", "/history?limit=3");
    expect(paged.body.nextCursor).toBe(encodeCursor(ids.errors));
  });

  it("refuses a backwards or too long history range", async () => {
    expect((await api("GET", "/history?from=2026-11-27T00:00:00Z&to=2026-11-26T00:00:00Z")).body).toEqual({
      detail: "Invalid query",
      errors: [{ field: "from", message: "must be before to" }],
    });
    expect((await api("GET", "/history?from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z")).body).toEqual({
      detail: "Invalid query",
      errors: [{ field: "to", message: "the range may span at most 366 days" }],
    });
    expect((await api("GET", "/history?from=yesterday")).body).toEqual({
      detail: "Invalid query",
      errors: [{ field: "from", message: "must be an ISO-8601 date-time" }],
    });
  });

  it("shows one alert with its timeline and deliveries", async () => {
    const channel = await prisma.notificationChannel.create({
      data: { name: "pager", type: "webhook", target: "https://pager.example.com/h" },
    });
    const delivery = {
      deliveryId: "0190f5c4-7a8b-7c3d-9e0f-123456789abc",
      alertId: ids.brute,
      otherAlertIds: [],
      channelId: channel.id,
      attempt: 1,
      status: "failed" as const,
      responseCode: 503,
      error: "HTTP 503",
      latencyMs: 40,
    };
    // A message about several alerts, kept under the first: each alert it named lists it.
    const grouped = {
      ...delivery,
      deliveryId: "0190f5c4-7a8b-7c3d-9e0f-123456789abd",
      alertId: ids.slow,
      otherAlertIds: [ids.brute],
      status: "succeeded" as const,
      responseCode: 200,
      error: null,
    };
    await prisma.notificationDelivery.create({
      data: { ...delivery, createdAt: new Date("2026-11-27T09:00:01.000Z") },
    });
    await prisma.notificationDelivery.create({
      data: { ...grouped, createdAt: new Date("2026-11-27T09:00:02.000Z") },
    });
    const res = await api("GET", `/${ids.brute}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: ids.brute,
      fingerprint: "unauthorized_access:ip=10.0.0.9",
      type: "unauthorized_access",
      severity: "critical",
      status: "resolved",
      apiKeyId: null,
      endpoint: null,
      clientIp: "10.0.0.9",
      message: "m",
      observedValue: 1,
      threshold: 1,
      occurrences: 1,
      firstSeenAt: "2026-11-27T09:00:00.000Z",
      lastSeenAt: "2026-11-27T09:00:00.000Z",
      acknowledgedAt: "2026-11-27T09:01:40.000Z",
      acknowledgedBy: null,
      acknowledgementNote: null,
      resolvedAt: "2026-11-27T09:05:00.000Z",
      lastNotifiedAt: "2026-11-27T09:00:00.000Z",
      heldUntil: null,
      escalatedAt: null,
      silencedBy: null,
      createdAt: "2026-11-27T09:00:00.000Z",
      updatedAt: ISO,
      timeline: [
        {
          id: expect.any(Number),
          kind: "opened",
          at: "2026-11-27T09:00:00.000Z",
          severity: "critical",
          observedValue: 1,
          by: null,
          note: null,
          channelIds: [],
          silenceId: null,
          heldUntil: null,
        },
        {
          id: expect.any(Number),
          kind: "acknowledged",
          at: "2026-11-27T09:01:40.000Z",
          severity: "critical",
          observedValue: null,
          by: null,
          note: null,
          channelIds: [],
          silenceId: null,
          heldUntil: null,
        },
        {
          id: expect.any(Number),
          kind: "resolved",
          at: "2026-11-27T09:05:00.000Z",
          severity: "critical",
          observedValue: 0,
          by: null,
          note: null,
          // No channel existed yet.
          channelIds: [],
          silenceId: null,
          heldUntil: null,
        },
      ],
      deliveries: [
        { id: expect.any(Number), ...delivery, createdAt: "2026-11-27T09:00:01.000Z" },
        { id: expect.any(Number), ...grouped, createdAt: "2026-11-27T09:00:02.000Z" },
      ],
    });
    await prisma.notificationChannel.delete({ where: { id: channel.id } });
  });

  it("acknowledges a firing alert once, with who and why; again changes nothing", async () => {
    setNow("2026-11-27T12:00:00.000Z");
    const res = await api("POST", `/${ids.errors}/acknowledge`, { by: "grace", note: "deploy rolled back" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: ids.errors,
      status: "acknowledged",
      acknowledgedAt: "2026-11-27T12:00:00.000Z",
      acknowledgedBy: "grace",
      acknowledgementNote: "deploy rolled back",
    });
    expect(res.body.timeline.at(-1)).toEqual({
      id: expect.any(Number),
      kind: "acknowledged",
      at: "2026-11-27T12:00:00.000Z",
      severity: "critical",
      observedValue: null,
      by: "grace",
      note: "deploy rolled back",
      channelIds: [],
      silenceId: null,
      heldUntil: null,
    });
    setNow("2026-11-27T12:05:00.000Z");
    const again = await api("POST", `/${ids.errors}/acknowledge`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ acknowledgedAt: "2026-11-27T12:00:00.000Z", acknowledgedBy: "grace" });
    expect(again.body.timeline).toHaveLength(res.body.timeline.length);
  });

  it("refuses to acknowledge a resolved alert (409), a missing one (404), and bad input (400)", async () => {
    expect(await api("POST", `/${ids.brute}/acknowledge`)).toMatchObject({
      status: 409,
      body: { detail: "Alert is resolved and cannot be acknowledged" },
    });
    expect(await api("POST", "/999999/acknowledge")).toMatchObject({
      status: 404,
      body: { detail: "Alert not found" },
    });
    expect(await api("POST", `/${ids.slow}/acknowledge`, { by: "x".repeat(201), mood: "sad" })).toMatchObject(
      invalidRequest("body", [
        { field: "by", message: "must be at most 200 characters" },
        { field: "mood", message: "is not a known field" },
      ]),
    );
    expect(await api("POST", `/${ids.slow}/acknowledge`, "{not json")).toMatchObject({
      status: 400,
      body: { detail: "Malformed JSON body" },
    });
  });

  it("answers 404 for a missing alert and 400 for an id that is not one", async () => {
    expect(await api("GET", "/424242")).toMatchObject({ status: 404, body: { detail: "Alert not found" } });
    expect(await api("GET", "/abc")).toMatchObject(
      invalidRequest("path", [{ field: "id", message: "must be an integer from 1 to 2147483647" }]),
    );
  });

  it("reports counts by type, severity, status, key and day, and times to acknowledge and resolve", async () => {
    const res = await api("GET", "/report?from=2026-11-26T00:00:00Z&to=2026-11-28T00:00:00Z");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      from: "2026-11-26T00:00:00.000Z",
      to: "2026-11-28T00:00:00.000Z",
      total: 4,
      byType: countsByType({ response_time: 1, error_rate: 1, usage_spike: 1, unauthorized_access: 1 }),
      bySeverity: { warning: 2, critical: 2 },
      byStatus: { firing: 1, acknowledged: 2, resolved: 1 },
      byApiKey: [
        { apiKeyId: 7, count: 2 },
        { apiKeyId: 8, count: 1 },
        { apiKeyId: null, count: 1 },
      ],
      byEndpoint: [
        { endpoint: "/users/:id", count: 1, responseTime: 1, errorRate: 0, resolvedUnacknowledged: 0 },
      ],
      byDay: [
        {
          day: "2026-11-26",
          count: 3,
          byType: countsByType({ response_time: 1, error_rate: 1, usage_spike: 1 }),
          bySeverity: { warning: 2, critical: 1 },
        },
        {
          day: "2026-11-27",
          count: 1,
          byType: countsByType({ unauthorized_access: 1 }),
          bySeverity: { warning: 0, critical: 1 },
        },
      ],
      // spike: 60 s; brute: 100 s; errors: acknowledged 1 day 1 h 59 min after opening.
      timeToAcknowledge: { count: 3, meanSeconds: (60 + 100 + 93_540) / 3, medianSeconds: 100 },
      timeToResolve: { count: 1, meanSeconds: 300, medianSeconds: 300 },
    });
  });

  it("reports the last 30 days by default, and refuses a backwards range", async () => {
    const res = await api("GET", "/report");
    expect(res.body).toMatchObject({
      from: "2026-10-28T12:05:00.000Z",
      to: "2026-11-27T12:05:00.000Z",
      total: 4,
    });
    expect(res.body.byDay).toHaveLength(31);
    expect(await api("GET", "/report?from=2026-12-01T00:00:00Z")).toMatchObject(
      invalidRequest("query", [{ field: "from", message: "must be before to" }]),
    );
    // From alone: the range runs to now, which must be at most 366 days later.
    expect(await api("GET", "/report?from=2020-01-01T00:00:00Z")).toMatchObject(
      invalidRequest("query", [{ field: "from", message: "the range may span at most 366 days" }]),
    );
  });

  it("refuses date-times Postgres cannot read (year 0, past 9999) with 400, not 500", async () => {
    const outside = { message: "must lie between 1970-01-01T00:00:00Z and 9999-01-01T00:00:00Z" };
    for (const path of ["/history", "/report"])
      for (const [param, value] of [
        ["from", "0000-01-01T00:00:00Z"],
        ["to", "0000-01-01T00:00:00Z"],
        ["from", "1969-12-31T23:59:59Z"],
        ["to", "9999-12-31T23:59:59Z"],
      ] as const)
        expect(await api("GET", `${path}?${param}=${value}`)).toMatchObject(
          invalidRequest("query", [{ field: param, ...outside }]),
        );
    expect(
      await api("POST", "/silences", {
        startsAt: "0000-01-01T00:00:00Z",
        endsAt: "9999-06-01T00:00:00Z",
        comment: "far",
      }),
    ).toMatchObject(
      invalidRequest("body", [
        { field: "startsAt", ...outside },
        { field: "endsAt", ...outside },
      ]),
    );
  });

  it("reports the endpoints with most alerts, and how many resolved before anyone acknowledged them", async () => {
    // Resolved alerts of a September day, apart from the other tests' active ones and ranges.
    const processor = processorOn(prisma, clock);
    const signal = (
      fingerprint: string,
      type: AlertSignal["type"],
      endpoint: string,
      state: AlertSignal["state"],
    ): AlertSignal => ({
      fingerprint,
      type,
      severity: "warning",
      state,
      scope: { apiKeyId: 7, endpoint },
      observedValue: 1.5,
      threshold: 1,
      message: "m",
      observedAt: now.toISOString(),
    });
    const episode = async (at: string, type: AlertSignal["type"], endpoint: string, acknowledge: boolean) => {
      const fingerprint = `${type}:key=7:endpoint=${endpoint}`;
      setNow(at);
      await processor.apply(signal(fingerprint, type, endpoint, "firing"));
      const alert = await prisma.alert.findFirstOrThrow({ where: { fingerprint, status: "firing" } });
      if (acknowledge) await api("POST", `/${alert.id}/acknowledge`);
      setNow(at.replace("T10", "T11"));
      await processor.apply(signal(fingerprint, type, endpoint, "resolved"));
    };
    await episode("2026-09-02T10:00:00.000Z", "response_time", "GET /export", false);
    await episode("2026-09-02T10:10:00.000Z", "response_time", "GET /export", false);
    await episode("2026-09-02T10:20:00.000Z", "error_rate", "GET /export", true);
    await episode("2026-09-02T10:30:00.000Z", "error_rate", "POST /orders", true);
    setNow("2026-11-27T12:00:00.000Z");

    // Alerts about no endpoint (a key's spike, a client's failed logins) are not listed: see the
    // November report above, which has four alerts and one endpoint.
    const res = await api("GET", "/report?from=2026-09-02T00:00:00Z&to=2026-09-03T00:00:00Z");
    expect(res.body).toMatchObject({ total: 4, byApiKey: [{ apiKeyId: 7, count: 4 }] });
    expect(res.body.byEndpoint).toEqual([
      { endpoint: "GET /export", count: 3, responseTime: 2, errorRate: 1, resolvedUnacknowledged: 2 },
      { endpoint: "POST /orders", count: 1, responseTime: 0, errorRate: 1, resolvedUnacknowledged: 0 },
    ]);
  });

  it("acknowledges several alerts at once, answering what became of each id", async () => {
    // A storm: one slow endpoint alerts for three keys; one was acknowledged, one resolved since.
    setNow("2026-08-01T10:00:00.000Z");
    const storm: number[] = [];
    for (const key of [21, 22, 23, 24]) {
      storm.push(
        await fire({
          fingerprint: `response_time:key=${key}:endpoint=GET /export`,
          type: "response_time",
          scope: { apiKeyId: key, endpoint: "GET /export" },
        }),
      );
    }
    const [first, second, acked, resolved] = storm as [number, number, number, number];
    await api("POST", `/${acked}/acknowledge`, { by: "ada" });
    await processorOn(prisma, clock).apply({
      fingerprint: "response_time:key=24:endpoint=GET /export",
      type: "response_time",
      severity: "warning",
      state: "resolved",
      scope: { apiKeyId: 24, endpoint: "GET /export" },
      observedValue: 0,
      threshold: 1,
      message: "m",
      observedAt: now.toISOString(),
    });

    setNow("2026-08-01T10:10:00.000Z");
    const res = await api("POST", "/acknowledge", {
      ids: [resolved, 999_999, second, acked, first, second],
      by: "grace",
      note: "export is slow on purpose",
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      acknowledged: [first, second],
      alreadyAcknowledged: [acked],
      resolved: [resolved],
      notFound: [999_999],
    });
    for (const id of [first, second]) {
      const alert = (await api("GET", `/${id}`)).body;
      expect(alert).toMatchObject({
        status: "acknowledged",
        acknowledgedAt: "2026-08-01T10:10:00.000Z",
        acknowledgedBy: "grace",
        acknowledgementNote: "export is slow on purpose",
      });
      expect(alert.timeline.filter((e: { kind: string }) => e.kind === "acknowledged")).toEqual([
        expect.objectContaining({
          at: "2026-08-01T10:10:00.000Z",
          by: "grace",
          note: "export is slow on purpose",
        }),
      ]);
    }
    // The earlier acknowledgement stands, and again nothing changes.
    expect((await api("GET", `/${acked}`)).body).toMatchObject({ acknowledgedBy: "ada" });
    expect((await api("POST", "/acknowledge", { ids: [first] })).body).toEqual({
      acknowledged: [],
      alreadyAcknowledged: [first],
      resolved: [],
      notFound: [],
    });
  });

  it("refuses a bulk acknowledgement without ids, with too many, or with anything but ids", async () => {
    const many = Array.from({ length: 501 }, (_, i) => i + 1);
    expect(await api("POST", "/acknowledge", {})).toMatchObject(
      invalidRequest("body", [{ field: "ids", message: "must be a list of alert ids" }]),
    );
    expect(await api("POST", "/acknowledge", { ids: [] })).toMatchObject(
      invalidRequest("body", [{ field: "ids", message: "must name at least one alert" }]),
    );
    expect(await api("POST", "/acknowledge", { ids: many })).toMatchObject(
      invalidRequest("body", [{ field: "ids", message: "may name at most 500 alerts" }]),
    );
    expect(await api("POST", "/acknowledge", { ids: [1, "2", 0], mood: "sad" })).toMatchObject(
      invalidRequest("body", [
        { field: "ids.1", message: expect.any(String) },
        { field: "ids.2", message: expect.any(String) },
        { field: "mood", message: "is not a known field" },
      ]),
    );
  });
});

describe("settings", () => {
  it("answers the defaults while nothing was saved", async () => {
    const res = await api("GET", "/settings");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...DEFAULT_ALERT_SETTINGS, updatedAt: null });
    expect(res.body.alertThresholds).toMatchObject({
      response_time: { warning: 1, critical: 2 },
      error_rate: { warning: 0.05, critical: 0.1 },
      usage_spike: { warning: 2, critical: 3 },
    });
  });

  it("replaces the settings with PUT, defaults filling what is omitted, and answers them", async () => {
    const channel = await prisma.notificationChannel.create({
      data: { name: "cto", type: "email", target: "cto@example.com" },
    });
    const body = {
      alertThresholds: {
        response_time: { warning: 0.5, critical: 1.5 },
        error_rate: { warning: 0.02, critical: 0.2 },
      },
      repeatIntervalSeconds: 900,
      escalation: { enabled: true, afterSeconds: 600, channelIds: [channel.id] },
    };
    const res = await api("PUT", "/settings", body);
    expect(res.status).toBe(200);
    const expected = {
      alertThresholds: {
        ...DEFAULT_ALERT_SETTINGS.alertThresholds,
        response_time: { warning: 0.5, critical: 1.5 },
        error_rate: { warning: 0.02, critical: 0.2, windowSeconds: 300, minRequests: 20 },
      },
      repeatIntervalSeconds: 900,
      groupIntervalSeconds: 300,
      escalation: { enabled: true, afterSeconds: 600, channelIds: [channel.id] },
      updatedAt: ISO,
    };
    expect(res.body).toEqual(expected);
    expect((await api("GET", "/settings")).body).toEqual(expected);
    // Stored in the spec's shape, which the anomaly detector reads.
    const row = await prisma.alertSettings.findUniqueOrThrow({ where: { id: 1 } });
    expect(row.alertThresholds).toEqual(expected.alertThresholds);

    // Deleting the escalation channel takes it out of the policy.
    expect((await api("DELETE", `/channels/${channel.id}`)).status).toBe(204);
    expect((await api("GET", "/settings")).body.escalation).toEqual({
      enabled: true,
      afterSeconds: 600,
      channelIds: [],
    });
  });

  it("takes back the document GET answered, and refuses one edited from settings saved since (409)", async () => {
    const current = (await api("GET", "/settings")).body;
    expect(current.updatedAt).toEqual(ISO);
    const withResponseTime = (doc: typeof current, warning: number) => ({
      ...doc,
      alertThresholds: { ...doc.alertThresholds, response_time: { warning, critical: 1.5 } },
    });
    const res = await api("PUT", "/settings", withResponseTime(current, 0.8));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...withResponseTime(current, 0.8), updatedAt: ISO });
    expect(res.body.updatedAt).not.toBe(current.updatedAt);

    // A second person edited the same version: their save would undo the first one's.
    const stale = await api("PUT", "/settings", withResponseTime(current, 0.9));
    expect(stale.status).toBe(409);
    expect(stale.body.detail).toBe(
      `The settings were changed at ${res.body.updatedAt} since the version this change was based on (${current.updatedAt}): read them again and redo the change`,
    );
    expect((await api("GET", "/settings")).body.alertThresholds.response_time.warning).toBe(0.8);
    // Redone on the version in force, it goes through.
    const redone = await api("PUT", "/settings", withResponseTime(res.body, 0.9));
    expect(redone.status).toBe(200);
    expect(redone.body.alertThresholds.response_time.warning).toBe(0.9);

    // The defaults as GET answered them before anything was saved (updatedAt null) are a stale
    // version now; a document without updatedAt replaces the settings regardless.
    const defaults = await api("PUT", "/settings", { ...DEFAULT_ALERT_SETTINGS, updatedAt: null });
    expect(defaults.status).toBe(409);
    expect(defaults.body.detail).toContain("based on (the defaults)");
    expect((await api("PUT", "/settings", DEFAULT_ALERT_SETTINGS)).status).toBe(200);
  });

  /** Runs `test` with no settings saved (the defaults in force), then puts the saved ones back. */
  async function beforeAnySave(test: () => Promise<void>) {
    const saved = await prisma.alertSettings.findUniqueOrThrow({ where: { id: 1 } });
    await prisma.alertSettings.deleteMany();
    try {
      await test();
    } finally {
      await prisma.alertSettings.update({
        where: { id: 1 },
        data: {
          alertThresholds: saved.alertThresholds as object,
          repeatIntervalSeconds: saved.repeatIntervalSeconds,
          escalation: saved.escalation as object,
        },
      });
    }
  }

  it("lets one of two first saves made from the defaults through and refuses the other (409)", async () => {
    const waitingOnLocks = async () =>
      (
        await prisma.$queryRaw<{ n: number }[]>`
          SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'`
      )[0]?.n ?? 0;
    await beforeAnySave(async () => {
      // Both saves are held at the table until each has started, so they overlap for certain.
      const saves = await prisma.$transaction(
        async (tx) => {
          await tx.$executeRaw`LOCK TABLE alert_settings IN ACCESS EXCLUSIVE MODE`;
          const both = [0.7, 0.9].map((warning) =>
            api("PUT", "/settings", {
              ...DEFAULT_ALERT_SETTINGS,
              alertThresholds: {
                ...DEFAULT_ALERT_SETTINGS.alertThresholds,
                response_time: { warning, critical: 2 },
              },
              updatedAt: null,
            }),
          );
          for (let i = 0; i < 200 && (await waitingOnLocks()) < 2; i++) await sleep(50);
          return both;
        },
        { timeout: 20_000 },
      );
      const [a, b] = await Promise.all(saves);
      const statuses = [a?.status, b?.status].sort();
      expect(statuses).toEqual([200, 409]);
      const winner = a?.status === 200 ? a : b;
      expect((await api("GET", "/settings")).body).toEqual(winner?.body);
    });
  });

  it("saves the defaults' document the first time, with the updatedAt of never saved", async () => {
    await beforeAnySave(async () => {
      const first = await api("PUT", "/settings", { ...DEFAULT_ALERT_SETTINGS, updatedAt: null });
      expect(first.status).toBe(200);
      expect(first.body.updatedAt).toEqual(ISO);
    });
  });

  it("refuses invalid settings with 400 listing every field, and keeps the saved ones", async () => {
    const before = (await api("GET", "/settings")).body;
    const res = await api("PUT", "/settings", {
      alertThresholds: {
        response_time: { warning: 3, critical: 2 },
        error_rate: { warning: 5, critical: 10 },
      },
      repeatIntervalSeconds: 0,
      groupIntervalSeconds: -1,
      escalation: { enabled: "yes" },
      colour: "red",
    });
    expect(res.status).toBe(400);
    expect(res.body.detail).toBe("Invalid body");
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      "alertThresholds.error_rate.critical",
      "alertThresholds.error_rate.warning",
      "alertThresholds.response_time",
      "colour",
      "escalation.enabled",
      "groupIntervalSeconds",
      "repeatIntervalSeconds",
    ]);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { field: "alertThresholds.error_rate.warning", message: "must be at most 1" },
        { field: "escalation.enabled", message: "must be true or false" },
        { field: "groupIntervalSeconds", message: "must be at least 0" },
        { field: "colour", message: "is not a known field" },
      ]),
    );
    expect(
      await api("PUT", "/settings", { escalation: { enabled: true, channelIds: [4242] } }),
    ).toMatchObject(
      invalidRequest("body", [{ field: "escalation.channelIds.0", message: "no channel with id 4242" }]),
    );
    expect((await api("GET", "/settings")).body).toEqual(before);
  });

  it("keeps threshold overrides per endpoint and key, and refuses bad ones naming the override's field", async () => {
    const user = await prisma.user.create({ data: { email: "overrides@example.com", name: "Overrides" } });
    const key = await prisma.apiKey.create({
      data: { userId: user.id, name: "batch", keyHash: "overrides-key-hash", keyPrefix: "ak_Overr123" },
    });
    const overrides = [
      {
        endpoint: "GET /api/reports/:id/export",
        response_time: { warning: 5, critical: 10 },
        note: "slow by design",
      },
      { apiKeyId: key.id, error_rate: { warning: 0.3, critical: 0.6 } },
    ];
    const res = await api("PUT", "/settings", { alertThresholds: { overrides } });
    expect(res.status).toBe(200);
    expect(res.body.alertThresholds.overrides).toEqual(overrides);
    expect(res.body.alertThresholds.response_time).toEqual({ warning: 1, critical: 2 });
    const row = await prisma.alertSettings.findUniqueOrThrow({ where: { id: 1 } });
    expect((row.alertThresholds as { overrides: unknown }).overrides).toEqual(overrides);

    const refused = await api("PUT", "/settings", {
      alertThresholds: {
        overrides: [
          ...overrides,
          { endpoint: "reports", response_time: { warning: 1, critical: 2 } },
          { apiKeyId: key.id, error_rate: { warning: 0.1, critical: 0.2 } },
          { endpoint: "/a", response_time: { warning: 4, critical: 2 } },
        ],
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      {
        field: "alertThresholds.overrides.2.endpoint",
        message: "must be a path, or a method and a path, as alerts give it: GET /api/users/:id",
      },
      { field: "alertThresholds.overrides.4.response_time", message: "critical must be at least warning" },
      {
        field: "alertThresholds.overrides.3.endpoint",
        message: "override 2 has the same endpoint and key: change that one instead",
      },
    ]);
    expect((await api("GET", "/settings")).body.alertThresholds.overrides).toEqual(overrides);

    // A key that does not exist is refused (a mistyped id would match nothing) ...
    const unknown = await api("PUT", "/settings", {
      alertThresholds: {
        overrides: [...overrides, { apiKeyId: 424_242, response_time: { warning: 3, critical: 6 } }],
      },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([
      { field: "alertThresholds.overrides.2.apiKeyId", message: "no API key with id 424242" },
    ]);
    // ... but one the saved overrides named may be deleted since: the rest can still be saved.
    await prisma.apiKey.delete({ where: { id: key.id } });
    const after = await api("PUT", "/settings", {
      repeatIntervalSeconds: 1800,
      alertThresholds: { overrides },
    });
    expect(after.status).toBe(200);
    expect(after.body.alertThresholds.overrides).toEqual(overrides);
  });
});

describe("channels", () => {
  beforeAll(async () => {
    await prisma.notificationChannel.deleteMany();
  });

  it("creates, lists, reads, updates and deletes channels, never answering the secret", async () => {
    const created = await api("POST", "/channels", {
      name: "signed hook",
      type: "webhook",
      target: "https://hooks.example.com/apimon",
      secret: "webhook-signing-secret-123",
      minSeverity: "critical",
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(Number),
      name: "signed hook",
      type: "webhook",
      target: "https://hooks.example.com/apimon",
      hasSecret: true,
      minSeverity: "critical",
      alertTypes: [],
      endpoints: [],
      userIds: [],
      enabled: true,
      createdAt: ISO,
      updatedAt: ISO,
    });
    const id = created.body.id as number;
    const mail = await api("POST", "/channels", { type: "email", target: "a@example.com, b@example.com" });
    expect(mail.body).toMatchObject({
      name: "email a@example.com,b@example.com",
      target: "a@example.com,b@example.com",
      hasSecret: false,
      minSeverity: "warning",
      enabled: true,
    });

    expect((await api("GET", `/channels/${id}`)).body).toEqual(created.body);
    const list = await api("GET", "/channels?limit=1");
    expect(list.body).toEqual({ items: [created.body], nextCursor: encodeCursor(id) });
    const rest = await api("GET", `/channels?cursor=${list.body.nextCursor}`);
    expect(rest.body).toEqual({ items: [mail.body], nextCursor: null });

    const updated = await api("PATCH", `/channels/${id}`, {
      enabled: false,
      secret: null,
      minSeverity: "warning",
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({
      ...created.body,
      enabled: false,
      hasSecret: false,
      minSeverity: "warning",
      updatedAt: ISO,
    });
    const retyped = await api("PATCH", `/channels/${id}`, { type: "slack" });
    expect(retyped.body).toMatchObject({ type: "slack", target: "https://hooks.example.com/apimon" });

    expect(await api("DELETE", `/channels/${id}`)).toMatchObject({ status: 204, body: undefined });
    expect(await api("GET", `/channels/${id}`)).toMatchObject({
      status: 404,
      body: { detail: "Channel not found" },
    });
    expect(await api("DELETE", `/channels/${id}`)).toMatchObject({
      status: 404,
      body: { detail: "Channel not found" },
    });
    expect(await api("PATCH", `/channels/${id}`, { enabled: true })).toMatchObject({
      status: 404,
      body: { detail: "Channel not found" },
    });
    await api("DELETE", `/channels/${mail.body.id}`);
  });

  it("refuses what Postgres could not store or look up, and misspelt fields, with 400 rather than 500", async () => {
    const before = (await api("GET", "/settings")).body;
    const override = { response_time: { warning: 5, critical: 9 } };
    expect(
      await api("PUT", "/settings", {
        alertThresholds: {
          overrides: [
            { ...override, apiKeyId: 2_147_483_648 },
            { ...override, endpoint: "/a\u0000b" },
            { ...override, endpoint: "/c", note: "nul\u0000" },
          ],
        },
        escalation: { channelIds: [2_147_483_648] },
      }),
    ).toMatchObject(
      invalidRequest("body", [
        { field: "alertThresholds.overrides.0.apiKeyId", message: "must be at most 2147483647" },
        { field: "alertThresholds.overrides.1.endpoint", message: "must not contain control characters" },
        {
          field: "alertThresholds.overrides.2.note",
          message: "must not contain control characters other than tabs and line breaks",
        },
        { field: "escalation.channelIds.0", message: "must be at most 2147483647" },
      ]),
    );
    // A field misspelt inside any rule is named, not dropped while its default applies.
    const misspelt = await api("PUT", "/settings", {
      alertThresholds: {
        response_time: { warning: 1, critical: 2, warn: 1 },
        error_rate: { warning: 0.05, critical: 0.1, windowSecond: 600 },
        usage_spike: { warning: 2, critical: 3, minBaseline: 5 },
        unauthorized_access: { critical: 5, window: 60 },
        rate_limit_approaching: { warning: 0.8, critical: 0.9 },
      },
    });
    expect(misspelt.status).toBe(400);
    expect(misspelt.body.errors).toEqual([
      { field: "alertThresholds.response_time.warn", message: "is not a known field" },
      { field: "alertThresholds.error_rate.windowSecond", message: "is not a known field" },
      { field: "alertThresholds.usage_spike.minBaseline", message: "is not a known field" },
      { field: "alertThresholds.unauthorized_access.window", message: "is not a known field" },
      { field: "alertThresholds.rate_limit_approaching.critical", message: "is not a known field" },
    ]);
    expect((await api("GET", "/settings")).body).toEqual(before);
  });

  it("refuses invalid channels with 400 naming the fields", async () => {
    expect(await api("POST", "/channels", { type: "pager", target: "", extra: 1 })).toMatchObject(
      invalidRequest("body", [
        { field: "type", message: "must be email, slack or webhook" },
        { field: "target", message: "must not be empty" },
        { field: "extra", message: "is not a known field" },
      ]),
    );
    expect(
      await api("POST", "/channels", { type: "email", target: "ops@example.com, nobody" }),
    ).toMatchObject(invalidRequest("body", [{ field: "target", message: "not an email address: nobody" }]));
    expect(
      await api("POST", "/channels", {
        type: "slack",
        target: "https://hooks.slack.com/x",
        secret: "s".repeat(20),
      }),
    ).toMatchObject(
      invalidRequest("body", [{ field: "secret", message: "only webhook channels take a signing secret" }]),
    );
    for (const type of ["webhook", "slack"])
      expect(await api("POST", "/channels", { type, target: "http://127.0.0.1:9/a\u0000b" })).toMatchObject(
        invalidRequest("body", [{ field: "target", message: "must not contain control characters" }]),
      );
    const mail = await api("POST", "/channels", { type: "email", target: "ops@example.com" });
    expect(
      await api("PATCH", `/channels/${mail.body.id}`, { target: "ops@example.com\u0000" }),
    ).toMatchObject(
      invalidRequest("body", [{ field: "target", message: "must not contain control characters" }]),
    );
    // Changing only the type re-checks the stored target.
    expect(await api("PATCH", `/channels/${mail.body.id}`, { type: "webhook" })).toMatchObject(
      invalidRequest("body", [{ field: "target", message: "must be an http(s) URL for a webhook channel" }]),
    );
    expect(await api("PATCH", `/channels/${mail.body.id}`, {})).toMatchObject(
      invalidRequest("body", [
        {
          field: "(body)",
          message:
            "must change at least one of name, type, target, secret, minSeverity, alertTypes, endpoints, userIds, enabled",
        },
      ]),
    );
    await api("DELETE", `/channels/${mail.body.id}`);
  });

  it("keeps names unique: a second channel of a name, named or by default, and a rename onto one are 409s", async () => {
    const taken = { status: 409, body: { detail: "A channel with this name already exists" } };
    const ops = await api("POST", "/channels", { name: "ops", type: "email", target: "ops@example.com" });
    expect(ops.status).toBe(201);
    expect(
      await api("POST", "/channels", { name: "ops", type: "slack", target: "https://hooks.slack.com/y" }),
    ).toEqual(expect.objectContaining(taken));
    // Unnamed, a channel is named after its type and target: the same target twice is refused.
    const unnamed = await api("POST", "/channels", { type: "email", target: "oncall@example.com" });
    expect(unnamed.body.name).toBe("email oncall@example.com");
    expect(await api("POST", "/channels", { type: "email", target: "oncall@example.com" })).toEqual(
      expect.objectContaining(taken),
    );
    expect(await api("PATCH", `/channels/${unnamed.body.id}`, { name: "ops" })).toEqual(
      expect.objectContaining(taken),
    );
    // Its own name again is no conflict; a name another channel gave up is free.
    expect((await api("PATCH", `/channels/${ops.body.id}`, { name: "ops" })).status).toBe(200);
    expect((await api("PATCH", `/channels/${ops.body.id}`, { name: "ops mail" })).status).toBe(200);
    expect((await api("PATCH", `/channels/${unnamed.body.id}`, { name: "ops" })).status).toBe(200);
    const names = (await api("GET", "/channels")).body.items.map((c: { name: string }) => c.name);
    expect(names).toEqual(["ops mail", "ops"]);
    await api("DELETE", `/channels/${ops.body.id}`);
    await api("DELETE", `/channels/${unnamed.body.id}`);
  });
});

describe("channel tests through the notifier", () => {
  const prefix = uniqueTopicPrefix("alerts-api");
  let kafka: KafkaClient;
  let cleanupTopics: () => Promise<void>;
  let producer: BatchingProducer;
  let relay: OutboxRelay;
  let notifier: ConsumerRunner;
  let channels: { ok: number; broken: number; silent: number };

  beforeAll(async () => {
    ({ kafka, cleanup: cleanupTopics } = await createTopics(prefix));
    producer = createBatchingProducer({ kafka, logger: testLogger(), topicPrefix: prefix });
    relay = createOutboxRelay({ prisma, producer, logger: testLogger(), pollMs: 1000, topicPrefix: prefix });
    await relay.start();
    const create = (name: string) =>
      prisma.notificationChannel.create({
        data: { name, type: "webhook", target: `https://${name}.example.com/h` },
      });
    channels = {
      ok: (await create("ok")).id,
      broken: (await create("broken")).id,
      silent: (await create("silent")).id,
    };
    // A stand-in for the notifier, keeping its contract: the first attempt of a job is
    // recorded under the job's deliveryId, with a final status.
    ({ runner: notifier } = await collectJobs(kafka, prefix, async (job: NotificationJob) => {
      if (job.channel.id === channels.silent) return;
      const ok = job.channel.id === channels.ok;
      await prisma.notificationDelivery.create({
        data: {
          deliveryId: job.deliveryId,
          alertId: job.alert.id,
          channelId: job.channel.id,
          attempt: job.attempt,
          status: ok ? "succeeded" : "failed",
          responseCode: ok ? 200 : 500,
          error: ok ? null : "HTTP 500 from receiver",
          latencyMs: 12,
        },
      });
    }));
    // Answers only once the relay was nudged: its poll is 1 s, the test waits for far less.
    app = buildApp(prisma, { clock, onJobsQueued: () => relay.nudge() });
  });

  afterAll(async () => {
    await notifier?.stop();
    await relay?.stop();
    await producer?.disconnect();
    await cleanupTopics?.();
  });

  it("delivers a test message and answers with its delivery record", async () => {
    const res = await api("POST", `/channels/${channels.ok}/test`);
    expect(res.status).toBe(200);
    const record = {
      id: expect.any(Number),
      deliveryId: UUID,
      alertId: null,
      channelId: channels.ok,
      attempt: 1,
      status: "succeeded",
      responseCode: 200,
      error: null,
      latencyMs: 12,
      createdAt: ISO,
      otherAlertIds: [],
    };
    expect(res.body).toEqual({ ...record, attempts: [record] });
    const job = (await prisma.outbox.findFirstOrThrow({ orderBy: { id: "desc" } }))
      .payload as NotificationJob;
    expect(job).toMatchObject({
      deliveryId: res.body.deliveryId,
      reason: "test",
      channel: { id: channels.ok, type: "webhook" },
      target: "https://ok.example.com/h",
      attempt: 1,
      alertUrl: `${CONSOLE_URL}/channels/${channels.ok}`,
      alert: { id: null, message: `Test notification from apimon for channel ${channels.ok}` },
    });
  });

  it("answers a failed delivery's record too", async () => {
    const res = await api("POST", `/channels/${channels.broken}/test`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "failed", responseCode: 500, error: "HTTP 500 from receiver" });
  });

  it("answers 504 when no delivery record appears in time, and 404 for a missing channel", async () => {
    const impatient = buildApp(prisma, {
      clock,
      onJobsQueued: () => relay.nudge(),
      config: {
        adminToken: "alerts-test-admin-token-0123456789",
        consoleUrl: CONSOLE_URL,
        testTimeoutMs: 300,
      },
    });
    const res = await call(impatient, "POST", `/api/v1/alerts/channels/${channels.silent}/test`);
    expect(res.status).toBe(504);
    expect(res.body).toEqual({
      detail: expect.stringMatching(
        /^No delivery record for test message [0-9a-f-]{36} within 300 ms; is the notifier running\?$/,
      ),
    });
    expect(await api("POST", "/channels/424242/test")).toMatchObject({
      status: 404,
      body: { detail: "Channel not found" },
    });
  });
});

describe("console, health, metrics and OpenAPI", () => {
  it("sends /console and / to the operator console's alerts page", async () => {
    for (const path of ["/console", "/"]) {
      const res = await app.request(path);
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe(`${CONSOLE_URL}/alerts`);
    }
  });

  it("answers /healthz, /readyz with its checks, /metrics and /openapi.json without a token", async () => {
    const ready = buildApp(prisma, { checks: { consumer: () => ({ ok: true }) } });
    expect(await call(ready, "GET", "/healthz", undefined, {})).toMatchObject({
      status: 200,
      body: { status: "ok" },
    });
    expect(await call(ready, "GET", "/readyz", undefined, {})).toMatchObject({
      status: 200,
      body: { status: "ready", checks: { database: { ok: true }, consumer: { ok: true } } },
    });
    const notReady = buildApp(prisma, { checks: { consumer: () => ({ ok: false }) } });
    expect((await call(notReady, "GET", "/readyz", undefined, {})).status).toBe(503);
    await call(ready, "GET", "/api/v1/alerts");
    const metrics = await call(ready, "GET", "/metrics", undefined, {});
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('http_requests_total{method="GET",route="/api/v1/alerts",status="200"');
    const doc = await call(ready, "GET", "/openapi.json", undefined, {});
    expect(doc.body).toMatchObject({ openapi: "3.1.0", info: { title: "apimon alerts service" } });
  });

  it("answers unknown paths with 404 and a JSON detail", async () => {
    expect(await api("GET", "/channels/1/nothing")).toMatchObject({
      status: 404,
      body: { detail: "Not found" },
    });
  });
});
