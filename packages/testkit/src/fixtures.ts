import { type AlertSignal, type KeyChange, newEventId, type UsageEvent } from "@apimon/events";

/** A valid usage event; override what the test is about. */
export function makeUsageEvent(overrides: Partial<UsageEvent> = {}): UsageEvent {
  return {
    id: newEventId(),
    occurredAt: new Date().toISOString(),
    apiKeyId: 1,
    userId: 1,
    endpoint: "/users/:id",
    method: "GET",
    statusCode: 200,
    responseTimeMs: 12,
    rateLimited: false,
    limits: {
      minute: { limit: 100, remaining: 99, reset: 60 },
      hour: { limit: 1000, remaining: 999, reset: 3600 },
      day: { limit: 10000, remaining: 9999, reset: 86400 },
    },
    clientIp: "127.0.0.1",
    edgeInstance: "test",
    ...overrides,
  };
}

/** A valid key change (a key's state on keys.changes.v1); override what the test is about. */
export function makeKeyChange(overrides: Partial<KeyChange> = {}): KeyChange {
  return {
    id: 7,
    userId: 3,
    keyHash: "a".repeat(64),
    keyPrefix: "ak_abcdefgh",
    active: true,
    expiresAt: null,
    rateLimits: { minute: null, hour: null, day: null },
    updatedAt: "2026-11-27T12:00:00.000Z",
    ...overrides,
  };
}

/** A valid alert signal: a key's slow endpoint at warning; override what the test is about. */
export function makeAlertSignal(overrides: Partial<AlertSignal> = {}): AlertSignal {
  return {
    fingerprint: "response_time:key=7:endpoint=/users/:id",
    type: "response_time",
    severity: "warning",
    state: "firing",
    scope: { apiKeyId: 7, endpoint: "/users/:id" },
    observedValue: 1.4,
    threshold: 1,
    message: "Response time 1.4 s above 1 s",
    observedAt: "2026-11-27T12:00:00.000Z",
    ...overrides,
  };
}

/** A usage bucket of the keys API for a period without traffic: zero counts, no percentiles. */
export function emptyUsageBucket(start: string) {
  return {
    start,
    requests: 0,
    errors: 0,
    clientErrors: 0,
    rateLimited: 0,
    p50ResponseTimeMs: null,
    p95ResponseTimeMs: null,
  };
}

/** The keys API's usage summary of a range without traffic. */
export function emptyUsageSummary(from: string, to: string) {
  return {
    from,
    to,
    requests: 0,
    errors: 0,
    clientErrors: 0,
    errorRate: 0,
    topKeys: [],
    topEndpoints: [],
  };
}

/**
 * Matches a response time the usage API estimates from its latency histograms (busiest
 * endpoints, many keys' hourly buckets): within 9.1%, the width of one histogram bucket, of the
 * exact figure.
 */
export function estimateOf(exactMs: number) {
  return {
    asymmetricMatch: (actual: unknown) =>
      typeof actual === "number" && Math.abs(actual - exactMs) <= exactMs * 0.091,
    toAsymmetricMatcher: () => `estimateOf(${exactMs})`,
  };
}
