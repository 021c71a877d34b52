// The hot path (DESIGN.md § Edge request path): authenticate the key against the in-memory
// registry, one limiter decision, proxy, and hand the usage event over without awaiting Kafka.
// Plain node request/response objects: no body is ever buffered and nothing but the limiter is
// awaited before the upstream sees the request.
import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { type AuthFailure, newEventId, type UsageEvent } from "@apimon/events";
import { displayPrefix, hashApiKey, type LookupResult } from "@apimon/key-registry";
import { Counter, Histogram, type Logger, type Registry } from "@apimon/observability";
import { memoizeBounded } from "./bounded-memo";
import {
  type Decision,
  deniedDetail,
  effectiveLimits,
  type Limits,
  rateLimitHeaders,
} from "./domain/rate-limit";
import type { Limiter } from "./limiter/limiter";
import { sendJsonError, type UpstreamProxy } from "./proxy/upstream-proxy";

/** The spec's error bodies, exactly. */
export const AUTH_ERRORS = {
  missing: { status: 401, detail: "Missing API key" },
  invalid: { status: 401, detail: "Invalid API key" },
  inactive: { status: 403, detail: "API key is inactive" },
} as const;

export const LIMITER_UNAVAILABLE_DETAIL = "Rate limiter unavailable";

/** Identity headers the upstream receives instead of the key (clients cannot set them). */
export const IDENTITY_HEADERS = { keyId: "x-apimon-key-id", userId: "x-apimon-user-id" } as const;

/** Keys longer than this are refused without hashing: real keys are 35 characters. */
const MAX_KEY_LENGTH = 256;
/** Presented keys whose hash is remembered (about 10 MB at most). */
const KEY_HASH_CACHE_ENTRIES = 50_000;

export interface EdgeHandlerDeps {
  lookup: (keyHash: string) => LookupResult;
  keyHashSecret: string;
  limiter: Limiter;
  defaults: Limits;
  proxy: UpstreamProxy;
  recordUsage: (event: UsageEvent) => void;
  recordAuthFailure: (event: AuthFailure) => void;
  normaliseEndpoint: (path: string) => string;
  instanceId: string;
  /** Take the client IP from the left-most X-Forwarded-For entry (only behind a trusted proxy). */
  trustProxy?: boolean;
  logger: Logger;
  registry?: Registry;
  clock?: () => number;
}

function metric<M>(registry: Registry | undefined, name: string, create: (registers: Registry[]) => M): M {
  const existing = registry?.getSingleMetric(name);
  return existing ? (existing as M) : create(registry ? [registry] : []);
}

/** The client's address: the socket's, or the first X-Forwarded-For hop behind a trusted proxy. */
export function clientIpOf(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers["x-forwarded-for"];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0]?.trim();
    if (first) return first.slice(0, 64);
  }
  const address = req.socket.remoteAddress ?? "unknown";
  return (address.startsWith("::ffff:") ? address.slice(7) : address).slice(0, 64);
}

function presentedKey(req: IncomingMessage): string | undefined {
  const value = req.headers["x-api-key"];
  // node joins repeated X-API-Key fields with ", "; a key never contains one, so that is invalid.
  const key = Array.isArray(value) ? value[0] : value;
  return key === undefined || key.trim() === "" ? undefined : key.trim();
}

export function createEdgeHandler(
  deps: EdgeHandlerDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  const {
    lookup,
    keyHashSecret,
    limiter,
    defaults,
    proxy,
    recordUsage,
    recordAuthFailure,
    normaliseEndpoint,
    instanceId,
    trustProxy = false,
    logger,
    registry,
    clock = Date.now,
  } = deps;
  const log = logger.child({ component: "edge" });
  // The HMAC is the costliest step of authentication and clients present the same key again and
  // again. The cache holds presented keys in this process' memory, where each request's key is
  // anyway; bounded, so a flood of random keys only churns it.
  const keyHash = memoizeBounded((key) => hashApiKey(keyHashSecret, key), {
    maxEntries: KEY_HASH_CACHE_ENTRIES,
    maxKeyLength: MAX_KEY_LENGTH,
  });

  const requests = metric(
    registry,
    "edge_requests_total",
    (registers) =>
      new Counter({
        name: "edge_requests_total",
        help: "Requests through the edge by status code and outcome",
        labelNames: ["status", "outcome"] as const,
        registers,
      }),
  );
  const limiterSeconds = metric(
    registry,
    "edge_limiter_decision_seconds",
    (registers) =>
      new Histogram({
        name: "edge_limiter_decision_seconds",
        help: "Time to a rate-limit decision",
        buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1],
        registers,
      }),
  );
  const upstreamSeconds = metric(
    registry,
    "edge_upstream_seconds",
    (registers) =>
      new Histogram({
        name: "edge_upstream_seconds",
        help: "Time from forwarding to the upstream's response headers",
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      }),
  );

  function refuseAuth(
    req: IncomingMessage,
    res: ServerResponse,
    reason: keyof typeof AUTH_ERRORS,
    clientIp: string,
    key: string | undefined,
    apiKeyId?: number,
  ): void {
    const { status, detail } = AUTH_ERRORS[reason];
    sendJsonError(res, status, detail);
    requests.inc({ status: String(status), outcome: `auth_${reason}` });
    const path = req.url ?? "/";
    recordAuthFailure({
      id: newEventId(),
      occurredAt: new Date(clock()).toISOString(),
      reason,
      ...(apiKeyId !== undefined ? { apiKeyId } : {}),
      ...(key !== undefined ? { keyPrefix: displayPrefix(key) } : {}),
      clientIp,
      endpoint: normaliseEndpoint(path),
      method: (req.method ?? "GET").slice(0, 16),
    });
  }

  function usageEvent(
    req: IncomingMessage,
    apiKeyId: number,
    userId: number,
    decision: Decision,
    statusCode: number,
    startedAt: number,
    startedMs: number,
    clientIp: string,
  ): UsageEvent {
    return {
      id: newEventId(),
      occurredAt: new Date(startedAt).toISOString(),
      apiKeyId,
      userId,
      endpoint: normaliseEndpoint(req.url ?? "/"),
      method: (req.method ?? "GET").slice(0, 16),
      statusCode,
      responseTimeMs: Math.round((performance.now() - startedMs) * 1000) / 1000,
      rateLimited: !decision.allowed && !decision.unavailable,
      limits: decision.windows,
      clientIp,
      edgeInstance: instanceId,
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedMs = performance.now();
    const startedAt = clock();
    const clientIp = clientIpOf(req, trustProxy);
    const key = presentedKey(req);
    if (key === undefined) return refuseAuth(req, res, "missing", clientIp, undefined);
    if (key.length > MAX_KEY_LENGTH) return refuseAuth(req, res, "invalid", clientIp, key);

    const found = lookup(keyHash(key));
    if (found.status === "unknown") return refuseAuth(req, res, "invalid", clientIp, key);
    if (found.status === "inactive") return refuseAuth(req, res, "inactive", clientIp, key, found.key.id);
    const { id: apiKeyId, userId } = found.key;

    const limits = effectiveLimits(defaults, found.key.rateLimits);
    const decideStart = performance.now();
    const decision = await limiter.check(String(apiKeyId), limits);
    limiterSeconds.observe((performance.now() - decideStart) / 1000);
    const headers = rateLimitHeaders(decision);

    if (!decision.allowed) {
      const status = decision.unavailable ? 503 : 429;
      sendJsonError(
        res,
        status,
        decision.unavailable ? LIMITER_UNAVAILABLE_DETAIL : deniedDetail(decision),
        headers,
      );
      requests.inc({
        status: String(status),
        outcome: decision.unavailable ? "limiter_unavailable" : "rate_limited",
      });
      recordUsage(usageEvent(req, apiKeyId, userId, decision, status, startedAt, startedMs, clientIp));
      return;
    }

    const forwardStart = performance.now();
    const outcome = await proxy.forward(req, res, {
      clientIp,
      responseHeaders: headers,
      requestHeaders: {
        [IDENTITY_HEADERS.keyId]: String(apiKeyId),
        [IDENTITY_HEADERS.userId]: String(userId),
      },
      onUpstreamHeaders: () => upstreamSeconds.observe((performance.now() - forwardStart) / 1000),
    });
    if (outcome.kind !== "response") {
      log.warn({ err: outcome.error, outcome: outcome.kind, apiKeyId }, "upstream exchange failed");
    }
    requests.inc({ status: String(outcome.statusCode), outcome: outcome.kind });
    recordUsage(
      usageEvent(req, apiKeyId, userId, decision, outcome.statusCode, startedAt, startedMs, clientIp),
    );
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error({ err: error }, "edge request failed");
      sendJsonError(res, 500, "Internal server error");
    });
  };
}
