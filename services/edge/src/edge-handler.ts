// The hot path (DESIGN.md § Edge request path): authenticate the key against the in-memory
// registry, one limiter decision, proxy, and hand the usage event over without awaiting Kafka.
// Plain node request/response objects: no body is ever buffered and nothing but the limiter is
// awaited before the upstream sees the request. A WebSocket handshake passes the same checks and
// one limiter decision, then becomes a tunnel to the upstream.
import { type IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import { type AuthFailure, type KeyChange, newEventId, type UsageEvent } from "@apimon/events";
import { forwardedClientIp } from "@apimon/http";
import { displayPrefix, hashApiKey, type LookupResult } from "@apimon/key-registry";
import { hotCounter, hotHistogram, type Logger, type Registry } from "@apimon/observability";
import { memoizeBounded } from "./bounded-memo";
import type { AuthFailureLimit, RefusalSummary } from "./domain/auth-failure-limit";
import {
  type Decision,
  deniedDetail,
  effectiveLimits,
  type Limits,
  rateLimitHeaders,
} from "./domain/rate-limit";
import { isForwardableTarget } from "./domain/request-target";
import type { Limiter } from "./limiter/limiter";
import {
  BODY_TOO_LARGE_DETAIL,
  sendJsonError,
  sendJsonErrorAndClose,
  type UpstreamProxy,
} from "./proxy/upstream-proxy";
import { keyProtocolOf, sendSocketJsonError, type WebSocketTunnels } from "./proxy/websocket-tunnel";
import { createUsageEventBuilder } from "./usage/usage-event";

/** The spec's error bodies, exactly. */
export const AUTH_ERRORS = {
  missing: { status: 401, detail: "Missing API key" },
  invalid: { status: 401, detail: "Invalid API key" },
  inactive: { status: 403, detail: "API key is inactive" },
} as const;

export const LIMITER_UNAVAILABLE_DETAIL = "Rate limiter unavailable";
export const INVALID_TARGET_DETAIL = "Invalid request target";
export const STARTING_DETAIL = "Edge starting";
export const AUTH_THROTTLED_DETAIL = "Too many failed authentications from this address";

/** Identity headers the upstream receives instead of the key (clients cannot set them). */
export const IDENTITY_HEADERS = { keyId: "x-apimon-key-id", userId: "x-apimon-user-id" } as const;

const CORS_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE";
/** Every field a page's script needs to read: the rate-limit headers and Retry-After. */
const CORS_EXPOSED_HEADERS = [
  ...["Minute", "Hour", "Day"].flatMap((w) =>
    ["Limit", "Remaining", "Reset"].map((f) => `X-RateLimit-${w}-${f}`),
  ),
  "RateLimit",
  "RateLimit-Policy",
  "Retry-After",
].join(", ");

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
  /** Origins whose pages may call the edge, or `*`; empty: CORS off. */
  corsOrigins?: readonly string[];
  /** Failed authentications per client IP; an IP past its limit is refused before hashing. */
  authFailureLimit?: AuthFailureLimit;
  /** False until the key table has loaded: requests then get 503, not a false 401. */
  isLoaded?: () => boolean;
  /** Requests of one key in flight at once; the next gets 429 until one finishes. */
  maxInflightPerKey?: number;
  /** Where WebSocket handshakes go once admitted. */
  tunnels: WebSocketTunnels;
  /** WebSockets of one key open at once, handshakes included; the next gets 429. */
  maxWebSocketsPerKey?: number;
  /** A declared Content-Length above this gets 413 before anything else happens. */
  maxBodyBytes?: number;
  /** Proxies in front of the edge: the client IP is the N-th X-Forwarded-For entry from the right. */
  trustedProxyHops?: number;
  logger: Logger;
  registry?: Registry;
  clock?: () => number;
}

type IdentityHeaderName = (typeof IDENTITY_HEADERS)[keyof typeof IDENTITY_HEADERS];

/** The data plane: HTTP requests, WebSocket handshakes and the tunnels they open. */
export interface EdgeHandler {
  request(req: IncomingMessage, res: ServerResponse): void;
  /** A WebSocket handshake, on the socket node's HTTP parser has let go. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Cuts the tunnels whose key is no longer active (deactivated, expired or gone); returns how many. */
  closeRevokedTunnels(): number;
}

/** Where a refusal is written: a response, or the socket of a WebSocket handshake. */
type Peer = ServerResponse | Duplex;

/** Gives back one of a key's places in `held` (in-flight requests, open WebSockets). */
function releasePlace(held: Map<number, number>, apiKeyId: number): void {
  const left = (held.get(apiKeyId) ?? 1) - 1;
  if (left === 0) held.delete(apiKeyId);
  else held.set(apiKeyId, left);
}

function replyJson(peer: Peer, status: number, detail: string, headers?: Record<string, string>): void {
  if (peer instanceof ServerResponse) sendJsonError(peer, status, detail, headers);
  else sendSocketJsonError(peer, status, detail, headers);
}

/**
 * Names spelled out, not computed from IDENTITY_HEADERS (the type holds them equal): V8 builds a
 * literal with constant names in one step, and one with computed names through a runtime call
 * per property, on every request.
 */
function identityHeaders(apiKeyId: number, userId: number): Record<IdentityHeaderName, string> {
  return { "x-apimon-key-id": String(apiKeyId), "x-apimon-user-id": String(userId) };
}

function socketAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? "unknown";
  return (address.startsWith("::ffff:") ? address.slice(7) : address).slice(0, 64);
}

/**
 * The client's address. Behind `hops` trusted proxies it is the `hops`-th X-Forwarded-For entry
 * from the right: the address the outermost trusted proxy saw. Entries further left were written
 * by the client and prove nothing. Anything that is not an IP falls back to the socket's address.
 */
export function clientIpOf(req: IncomingMessage, hops: number): string {
  if (hops === 0) return socketAddress(req);
  return forwardedClientIp(req.headers["x-forwarded-for"], hops) ?? socketAddress(req);
}

function presentedKey(req: IncomingMessage): string | undefined {
  const value = req.headers["x-api-key"];
  // node joins repeated X-API-Key fields with ", "; a key never contains one, so that is invalid.
  const key = Array.isArray(value) ? value[0] : value;
  return key === undefined || key.trim() === "" ? undefined : key.trim();
}

/** The one auth-failure event that stands for an IP's refused attempts in a minute. */
export function refusalSummaryEvent(
  summary: RefusalSummary,
  normaliseEndpoint: (path: string) => string,
): AuthFailure {
  return {
    id: newEventId(),
    occurredAt: new Date(summary.minuteStartMs).toISOString(),
    reason: "invalid",
    clientIp: summary.clientIp,
    endpoint: normaliseEndpoint(summary.path),
    method: summary.method.slice(0, 16),
    count: summary.refused,
  };
}

export function createEdgeHandler(deps: EdgeHandlerDeps): EdgeHandler {
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
    isLoaded = () => true,
    authFailureLimit,
    corsOrigins = [],
    trustedProxyHops = 0,
    maxInflightPerKey = 32,
    tunnels,
    maxWebSocketsPerKey = 32,
    maxBodyBytes = Number.POSITIVE_INFINITY,
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
  const corsAnyOrigin = corsOrigins.includes("*");
  const corsAllowed = new Set(corsOrigins);
  const corsEnabled = corsOrigins.length > 0;
  const inflightDetail = `Too many concurrent requests for this API key: at most ${maxInflightPerKey} in flight`;
  /** API key id → requests of that key in flight; keys with none are absent. */
  const inflight = new Map<number, number>();
  const webSocketsDetail = `Too many open WebSockets for this API key: at most ${maxWebSocketsPerKey}`;
  /** API key id → its WebSockets open or opening; keys with none are absent. */
  const webSockets = new Map<number, number>();
  const usageEvent = createUsageEventBuilder({ normaliseEndpoint, instanceId });

  const requests = hotCounter(
    registry,
    "edge_requests_total",
    "Requests through the edge by status code and outcome",
    ["status", "outcome"],
  );
  const limiterSeconds = hotHistogram(
    registry,
    "edge_limiter_decision_seconds",
    "Time to a rate-limit decision",
    [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1],
  );
  const upstreamSeconds = hotHistogram(
    registry,
    "edge_upstream_seconds",
    "Time from forwarding to the upstream's response headers",
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );
  const observeUpstream = (seconds: number) => upstreamSeconds.observe(seconds);

  /**
   * Adds the CORS response fields for an allowed Origin; answers a preflight itself (it carries
   * no key) and returns true then.
   */
  function applyCors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (origin === undefined || !(corsAnyOrigin || corsAllowed.has(origin))) return false;
    const requestedMethod = req.headers["access-control-request-method"];
    if (req.method === "OPTIONS" && requestedMethod !== undefined) {
      const requestedHeaders = req.headers["access-control-request-headers"];
      res.writeHead(204, {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": CORS_METHODS,
        "Access-Control-Allow-Headers": requestedHeaders
          ? `X-API-Key, ${requestedHeaders}`
          : "X-API-Key, Content-Type",
        "Access-Control-Max-Age": "600",
        Vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
      });
      res.end();
      requests.inc("204", "preflight");
      return true;
    }
    res.setHeader("Access-Control-Allow-Origin", origin);
    res.setHeader("Access-Control-Expose-Headers", CORS_EXPOSED_HEADERS);
    res.setHeader("Vary", "Origin");
    return false;
  }

  function refuseAuth(
    req: IncomingMessage,
    peer: Peer,
    reason: keyof typeof AUTH_ERRORS,
    clientIp: string,
    key: string | undefined,
    apiKeyId?: number,
  ): void {
    const { status, detail } = AUTH_ERRORS[reason];
    replyJson(peer, status, detail);
    authFailureLimit?.failed(clientIp, clock());
    requests.inc(String(status), `auth_${reason}`);
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

  /**
   * What every request passes before its key is looked at: its target, its declared size, a
   * loaded key table and its address' failed authentications. Returns the client's IP, or
   * undefined once a refusal has been answered.
   */
  function screen(req: IncomingMessage, peer: Peer, startedAt: number): string | undefined {
    if (!isForwardableTarget(req.url)) {
      replyJson(peer, 400, INVALID_TARGET_DETAIL);
      requests.inc("400", "invalid_target");
      return undefined;
    }
    const declaredLength = req.headers["content-length"];
    if (declaredLength !== undefined && Number(declaredLength) > maxBodyBytes) {
      if (peer instanceof ServerResponse) sendJsonErrorAndClose(req, peer, 413, BODY_TOO_LARGE_DETAIL);
      else sendSocketJsonError(peer, 413, BODY_TOO_LARGE_DETAIL);
      requests.inc("413", "too_large");
      return undefined;
    }
    if (!isLoaded()) {
      replyJson(peer, 503, STARTING_DETAIL, { "Retry-After": "1" });
      requests.inc("503", "starting");
      return undefined;
    }
    const clientIp = clientIpOf(req, trustedProxyHops);
    if (authFailureLimit?.refuses(clientIp, startedAt, req.url ?? "/", req.method ?? "GET")) {
      replyJson(peer, 429, AUTH_THROTTLED_DETAIL, {
        "Retry-After": String(Math.max(1, Math.ceil((60_000 - (startedAt % 60_000)) / 1000))),
      });
      requests.inc("429", "auth_throttled");
      return undefined;
    }
    return clientIp;
  }

  /** The presented key when it is active; otherwise undefined, the refusal answered and recorded. */
  function authenticate(
    req: IncomingMessage,
    peer: Peer,
    clientIp: string,
    key: string | undefined,
  ): KeyChange | undefined {
    if (key === undefined) {
      refuseAuth(req, peer, "missing", clientIp, undefined);
      return undefined;
    }
    const found = key.length > MAX_KEY_LENGTH ? undefined : lookup(keyHash(key));
    if (found === undefined || found.status === "unknown") {
      refuseAuth(req, peer, "invalid", clientIp, key);
      return undefined;
    }
    if (found.status === "inactive") {
      refuseAuth(req, peer, "inactive", clientIp, key, found.key.id);
      return undefined;
    }
    return found.key;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedMs = performance.now();
    const startedAt = clock();
    if (corsEnabled && applyCors(req, res)) return;
    const clientIp = screen(req, res, startedAt);
    if (clientIp === undefined) return;
    const key = authenticate(req, res, clientIp, presentedKey(req));
    if (key === undefined) return;
    const { id: apiKeyId, userId } = key;

    const limits = effectiveLimits(defaults, key.rateLimits);
    // The slot is taken before the limiter is awaited, so that requests arriving together see
    // each other. A request over the cap is refused uncounted, like one the limiter refuses: it
    // asks the limiter for the windows only, to answer with them.
    const running = inflight.get(apiKeyId) ?? 0;
    if (running >= maxInflightPerKey) {
      const refusal = { detail: inflightDetail, outcome: "inflight_limited" } as const;
      return refuseOverCap(req, res, refusal, apiKeyId, userId, limits, startedAt, startedMs, clientIp);
    }
    inflight.set(apiKeyId, running + 1);
    try {
      const decideStart = performance.now();
      const decision = await limiter.check(String(apiKeyId), limits);
      limiterSeconds.observe((performance.now() - decideStart) / 1000);
      const headers = rateLimitHeaders(decision);

      if (!decision.allowed) {
        return refuseDenied(req, res, apiKeyId, userId, decision, headers, startedAt, startedMs, clientIp);
      }

      const outcome = await proxy.forward(req, res, {
        clientIp,
        responseHeaders: headers,
        requestHeaders: identityHeaders(apiKeyId, userId),
        onUpstreamHeaders: observeUpstream,
      });
      if (outcome.kind !== "response") {
        log.warn({ err: outcome.error, outcome: outcome.kind, apiKeyId }, "upstream exchange failed");
      }
      requests.inc(String(outcome.statusCode), outcome.kind);
      recordUsage(
        usageEvent(req, apiKeyId, userId, decision, outcome.statusCode, startedAt, startedMs, clientIp),
      );
    } finally {
      releasePlace(inflight, apiKeyId);
    }
  }

  /** Answers a request the limiter denied (429) or could not decide (503). */
  function refuseDenied(
    req: IncomingMessage,
    peer: Peer,
    apiKeyId: number,
    userId: number,
    decision: Decision,
    headers: Record<string, string>,
    startedAt: number,
    startedMs: number,
    clientIp: string,
  ): void {
    const status = decision.unavailable ? 503 : 429;
    replyJson(
      peer,
      status,
      decision.unavailable ? LIMITER_UNAVAILABLE_DETAIL : deniedDetail(decision),
      headers,
    );
    requests.inc(String(status), decision.unavailable ? "limiter_unavailable" : "rate_limited");
    recordUsage(usageEvent(req, apiKeyId, userId, decision, status, startedAt, startedMs, clientIp));
  }

  /** Answers a request over one of its key's caps on things held at once (429, uncounted). */
  async function refuseOverCap(
    req: IncomingMessage,
    peer: Peer,
    refusal: { detail: string; outcome: "inflight_limited" | "websocket_limited" },
    apiKeyId: number,
    userId: number,
    limits: Limits,
    startedAt: number,
    startedMs: number,
    clientIp: string,
  ): Promise<void> {
    const decision = await limiter.check(String(apiKeyId), limits, { count: false });
    const headers = rateLimitHeaders(decision);
    // Out of quota as well: the limit's answer says how long to wait, which is the longer story.
    if (!decision.allowed) {
      return refuseDenied(req, peer, apiKeyId, userId, decision, headers, startedAt, startedMs, clientIp);
    }
    headers["Retry-After"] = "1";
    replyJson(peer, 429, refusal.detail, headers);
    requests.inc("429", refusal.outcome);
    const event = usageEvent(req, apiKeyId, userId, decision, 429, startedAt, startedMs, clientIp);
    event.rateLimited = true;
    recordUsage(event);
  }

  /**
   * A WebSocket handshake: the same checks as a request and one limiter decision (the WebSocket
   * is one call), then the tunnel. The usage event is the handshake's: its status is the
   * upstream's answer, 101 when the tunnel opened, and its response time the handshake's.
   */
  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const startedMs = performance.now();
    const startedAt = clock();
    socket.on("error", () => {});
    const clientIp = screen(req, socket, startedAt);
    if (clientIp === undefined) return;
    // X-API-Key, or for a browser, which cannot set it, the key's subprotocol entry.
    const keyProtocol = keyProtocolOf(req);
    const presented = presentedKey(req) ?? keyProtocol?.key;
    const key = authenticate(req, socket, clientIp, presented);
    if (key === undefined) return;
    const { id: apiKeyId, userId } = key;
    const limits = effectiveLimits(defaults, key.rateLimits);
    const held = webSockets.get(apiKeyId) ?? 0;
    if (held >= maxWebSocketsPerKey) {
      const refusal = { detail: webSocketsDetail, outcome: "websocket_limited" } as const;
      return refuseOverCap(req, socket, refusal, apiKeyId, userId, limits, startedAt, startedMs, clientIp);
    }
    webSockets.set(apiKeyId, held + 1);
    let opened = false;
    try {
      const decideStart = performance.now();
      const decision = await limiter.check(String(apiKeyId), limits);
      limiterSeconds.observe((performance.now() - decideStart) / 1000);
      const headers = rateLimitHeaders(decision);
      if (!decision.allowed) {
        return refuseDenied(req, socket, apiKeyId, userId, decision, headers, startedAt, startedMs, clientIp);
      }
      const outcome = await tunnels.open(req, socket, head, {
        clientIp,
        requestHeaders: identityHeaders(apiKeyId, userId),
        responseHeaders: headers,
        keyHash: keyHash(presented as string),
        ...(keyProtocol !== undefined && presented === keyProtocol.key
          ? { keyProtocol: keyProtocol.entry }
          : {}),
      });
      if (outcome.kind === "unreachable" || outcome.kind === "timeout") {
        log.warn(
          { err: outcome.error, outcome: outcome.kind, apiKeyId },
          "upstream WebSocket handshake failed",
        );
      }
      requests.inc(String(outcome.statusCode), outcome.kind === "upgraded" ? "websocket" : outcome.kind);
      recordUsage(
        usageEvent(req, apiKeyId, userId, decision, outcome.statusCode, startedAt, startedMs, clientIp),
      );
      if (outcome.kind === "upgraded") {
        opened = true;
        void outcome.tunnel.closed.then(() => releasePlace(webSockets, apiKeyId));
      }
    } finally {
      if (!opened) releasePlace(webSockets, apiKeyId);
    }
  }

  return {
    request(req, res) {
      handle(req, res).catch((error: unknown) => {
        log.error({ err: error }, "edge request failed");
        sendJsonError(res, 500, "Internal server error");
      });
    },
    upgrade(req, socket, head) {
      upgrade(req, socket, head).catch((error: unknown) => {
        log.error({ err: error }, "edge WebSocket handshake failed");
        sendSocketJsonError(socket, 500, "Internal server error");
      });
    },
    closeRevokedTunnels() {
      const closed = tunnels.closeWhere((keyHash) => lookup(keyHash).status !== "active");
      if (closed > 0) log.info({ closed }, "closed WebSockets whose API key is no longer active");
      return closed;
    },
  };
}
