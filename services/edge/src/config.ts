import { hostname } from "node:os";
import * as path from "node:path";
import {
  DEFAULT_PORTS,
  envTypes,
  keyChangesEnv,
  parseServiceEnv,
  rateLimitEnv,
  redisEnv,
} from "@apimon/config";
import { z } from "zod";
import { type ConnectionLimits, defaultMaxConnections } from "./connection-limits";
import type { EndpointPattern } from "./usage/endpoint";

/** `[{"pattern": "^/files/.+$", "replacement": "/files/:path"}]`: extra endpoint normalisation rules. */
const endpointPatterns = z
  .string()
  .default("[]")
  .transform((text, ctx): EndpointPattern[] => {
    try {
      const parsed = z
        .array(z.object({ pattern: z.string().min(1).max(500), replacement: z.string().min(1).max(200) }))
        .max(100)
        .parse(JSON.parse(text));
      return parsed.map((p) => ({ regex: new RegExp(p.pattern), replacement: p.replacement }));
    } catch (error) {
      ctx.addIssue({
        code: "custom",
        message: `expected a JSON list of {pattern, replacement}: ${error instanceof Error ? error.message.split("\n")[0] : error}`,
      });
      return z.NEVER;
    }
  });

function connectionLimits(raw: {
  EDGE_MAX_CONNECTIONS?: number;
  EDGE_MAX_CONNECTIONS_PER_IP?: number;
  EDGE_TRUSTED_PROXY_HOPS: number;
  UPSTREAM_CONNECTIONS: number;
}): ConnectionLimits {
  const maxConnections = raw.EDGE_MAX_CONNECTIONS ?? defaultMaxConnections(raw.UPSTREAM_CONNECTIONS);
  const maxPerSource =
    raw.EDGE_MAX_CONNECTIONS_PER_IP ?? (raw.EDGE_TRUSTED_PROXY_HOPS > 0 ? 0 : Math.ceil(maxConnections / 10));
  return { maxConnections, maxPerSource };
}

/** The edge's settings. Secrets are in here: never log this object. */
export function loadConfig(env = process.env) {
  const { settings, raw } = parseServiceEnv(
    {
      prefix: "EDGE",
      port: DEFAULT_PORTS.edge,
      kafka: true,
      shared: { ...keyChangesEnv, ...redisEnv, ...rateLimitEnv },
    },
    {
      /** /metrics and detailed /readyz; keep it off the clients' network. */
      EDGE_ADMIN_PORT: envTypes.port(DEFAULT_PORTS.edgeAdmin),
      /** Names this instance in usage events and in its key-registry consumer group. */
      EDGE_INSTANCE_ID: z
        .string()
        .regex(/^[a-zA-Z0-9._-]{1,100}$/)
        .default(
          `${hostname()
            .replace(/[^a-zA-Z0-9._-]/g, "-")
            .slice(0, 60)}-${process.pid}`,
        ),
      /**
       * Proxies you run in front of the edge: the client IP is the N-th X-Forwarded-For entry from
       * the right, and X-Forwarded-Proto is kept. 0: the socket's address, client headers ignored.
       */
      EDGE_TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(16).default(0),
      UPSTREAM_URL: envTypes.url(`http://127.0.0.1:${DEFAULT_PORTS.demoUpstream}`),
      /** Until the upstream's response headers arrive (and between body chunks): then 504. */
      UPSTREAM_TIMEOUT_MS: envTypes.positiveInt(30_000),
      UPSTREAM_CONNECTIONS: envTypes.positiveInt(128),
      /** Longest wait for a free upstream connection when all are busy: then 503 Upstream busy. */
      UPSTREAM_POOL_WAIT_MS: envTypes.positiveInt(5_000),
      /** One deadline for a whole exchange, slow uploads and slow readers included: then 504 or a cut. */
      EDGE_EXCHANGE_TIMEOUT_MS: envTypes.positiveInt(60_000),
      /**
       * Client connections open at once; beyond it new ones are closed at accept. Default: the
       * open-files limit less the upstream pool and 512 kept for Kafka, Redis and the rest.
       */
      EDGE_MAX_CONNECTIONS: z.coerce.number().int().positive().optional(),
      /**
       * Client connections of one IPv4 address or IPv6 /64 at once; 0: no cap. Default: a tenth of
       * EDGE_MAX_CONNECTIONS, or 0 behind trusted proxies (every connection comes from them).
       */
      EDGE_MAX_CONNECTIONS_PER_IP: z.coerce.number().int().nonnegative().optional(),
      /** Requests of one API key in flight at once; more get 429. */
      EDGE_MAX_INFLIGHT_PER_KEY: envTypes.positiveInt(32),
      /** WebSockets of one API key open at once (handshakes included); more get 429. */
      EDGE_MAX_WEBSOCKETS_PER_KEY: envTypes.positiveInt(32),
      /** Largest request body; a larger one gets 413 without the rest being read. */
      EDGE_MAX_BODY_BYTES: envTypes.positiveInt(10 * 1024 * 1024),
      /** Failed authentications per client IP and minute; beyond it 429 before the key is hashed. */
      EDGE_AUTH_FAILURES_PER_MINUTE: envTypes.positiveInt(60),
      /** Origins whose pages may call the edge (comma list, or `*`); empty: no CORS headers at all. */
      EDGE_CORS_ORIGINS: z
        .string()
        .default("")
        .transform((text) =>
          text
            .split(",")
            .map((o) => o.trim())
            .filter((o) => o !== ""),
        ),
      /** HMAC secret for key hashes; the keys service must hold the same one. */
      KEY_HASH_SECRET: envTypes.secret(32),
      /** What the edge does when Redis cannot decide: per-instance limits (open) or 503 (closed). */
      RATE_LIMIT_FAILURE_MODE: z.enum(["open", "closed"]).default("open"),
      /** `fixed` windows aligned to the clock (the spec's), or the `sliding` window counter. */
      RATE_LIMIT_ALGORITHM: z.enum(["fixed", "sliding"]).default("fixed"),
      /** Longest wait for Redis's decision before falling back. */
      RATE_LIMIT_TIMEOUT_MS: envTypes.positiveInt(50),
      /** Prefix of the counters' Redis keys. */
      RATE_LIMIT_REDIS_PREFIX: z
        .string()
        .regex(/^[^{}]*$/, "must not contain '{' or '}'")
        .default("rl:"),
      /** The on-disk journal for usage events while Kafka is unreachable. */
      USAGE_SPOOL_DIR: z.string().default(path.join(process.cwd(), ".runtime", "edge-spool")),
      USAGE_SPOOL_MAX_BYTES: envTypes.positiveInt(256 * 1024 * 1024),
      /**
       * How long usage events wait in memory for company before a produce request. Each request
       * costs the edge far more than an event in it; a hard kill loses what is waiting.
       */
      USAGE_LINGER_MS: z.coerce.number().int().min(0).max(60_000).default(100),
      EDGE_ENDPOINT_PATTERNS: endpointPatterns,
      /** Readiness fails once the key table may be this far behind keys.changes.v1. */
      EDGE_REGISTRY_MAX_LAG_MS: envTypes.positiveInt(60_000),
    },
    env,
  );
  return {
    ...settings,
    adminPort: raw.EDGE_ADMIN_PORT,
    instanceId: raw.EDGE_INSTANCE_ID,
    trustedProxyHops: raw.EDGE_TRUSTED_PROXY_HOPS,
    upstream: {
      url: raw.UPSTREAM_URL,
      timeoutMs: raw.UPSTREAM_TIMEOUT_MS,
      connections: raw.UPSTREAM_CONNECTIONS,
      poolWaitMs: raw.UPSTREAM_POOL_WAIT_MS,
    },
    exchangeTimeoutMs: raw.EDGE_EXCHANGE_TIMEOUT_MS,
    connections: connectionLimits(raw),
    maxInflightPerKey: raw.EDGE_MAX_INFLIGHT_PER_KEY,
    maxWebSocketsPerKey: raw.EDGE_MAX_WEBSOCKETS_PER_KEY,
    maxBodyBytes: raw.EDGE_MAX_BODY_BYTES,
    authFailuresPerMinute: raw.EDGE_AUTH_FAILURES_PER_MINUTE,
    corsOrigins: raw.EDGE_CORS_ORIGINS,
    keyHashSecret: raw.KEY_HASH_SECRET,
    /** Verifies key changes; unset applies every change (with a warning at startup). */
    keyChangesSigningSecret: raw.KEY_CHANGES_SIGNING_SECRET,
    registryMaxLagMs: raw.EDGE_REGISTRY_MAX_LAG_MS,
    rateLimits: {
      defaults: { minute: raw.RATE_LIMIT_MINUTE, hour: raw.RATE_LIMIT_HOUR, day: raw.RATE_LIMIT_DAY },
      failureMode: raw.RATE_LIMIT_FAILURE_MODE,
      algorithm: raw.RATE_LIMIT_ALGORITHM,
      timeoutMs: raw.RATE_LIMIT_TIMEOUT_MS,
      redisPrefix: raw.RATE_LIMIT_REDIS_PREFIX,
    },
    redisUrl: raw.REDIS_URL,
    spool: { dir: raw.USAGE_SPOOL_DIR, maxBytes: raw.USAGE_SPOOL_MAX_BYTES },
    usageLingerMs: raw.USAGE_LINGER_MS,
    endpointPatterns: raw.EDGE_ENDPOINT_PATTERNS,
  };
}

export type Config = ReturnType<typeof loadConfig>;
