import { topics } from "@apimon/events";
import type { ServiceContext } from "@apimon/http";
import { type BatchingProducer, createBatchingProducer, createKafka, topicName } from "@apimon/kafka";
import { createKeyRegistry, type KeyRegistry } from "@apimon/key-registry";
import { createPeriodicTask, gauge, type ReadinessCheck } from "@apimon/observability";
import { createPipelinedRedis, pingRedis } from "@apimon/redis";
import type { Config } from "./config";
import { createAuthFailureLimit } from "./domain/auth-failure-limit";
import { createEdgeHandler, refusalSummaryEvent } from "./edge-handler";
import { createMemoryLimiter } from "./limiter/memory-limiter";
import { createRedisLimiter } from "./limiter/redis-limiter";
import { createResilientLimiter } from "./limiter/resilient-limiter";
import { createUpstreamProxy } from "./proxy/upstream-proxy";
import { createWebSocketTunnels } from "./proxy/websocket-tunnel";
import { createAuthFailureRecorder } from "./usage/auth-failures";
import { createEndpointNormaliser } from "./usage/endpoint";
import { openUsageSpool } from "./usage/spool";
import { createUsagePublisher, type UsagePublisher } from "./usage/usage-publisher";

// The edge's parts as main.ts assembles them, one function per concern.

type Context = Pick<ServiceContext<Config>, "config" | "logger" | "registry">;

/**
 * Usage events get a client and producer of their own with short retries: a send that fails
 * fast moves the publisher to the on-disk spool instead of holding events in memory.
 */
export function createUsagePipeline({ config, logger, registry }: Context) {
  const kafka = createKafka({
    ...config.kafka,
    clientId: `${config.kafka.clientId}-edge-usage`,
    logger,
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 5000,
    retry: { retries: 2, initialRetryTimeMs: 100, maxRetryTimeMs: 500 },
  });
  const producer = createBatchingProducer({
    kafka,
    logger,
    registry,
    topicPrefix: config.kafka.topicPrefix,
    maxBatchMessages: 500,
    // The publisher gathers the events (below): each chunk it hands over is sent at once.
    lingerMs: 0,
  });
  const spool = openUsageSpool({
    dir: config.spool.dir,
    topic: topicName(topics.usageEvents, config.kafka.topicPrefix),
    maxBytes: config.spool.maxBytes,
    logger,
    registry,
  });
  // Nobody waits for a usage event, and a produce request costs the edge far more CPU than an
  // event in it (`pnpm bench:edge-usage`): the events of `usageLingerMs` go out together.
  const usage = createUsagePublisher({
    producer,
    spool,
    logger,
    registry,
    chunkSize: 500,
    lingerMs: config.usageLingerMs,
  });
  return { usage, producer };
}

/**
 * The in-memory key table, read from the key-changes topic, and the producer of auth-failure
 * events: one Kafka client with the default retries.
 */
export function createKeyTable({ config, logger, registry }: Context) {
  const kafka = createKafka({ ...config.kafka, clientId: `${config.kafka.clientId}-edge`, logger });
  const topicPrefix = config.kafka.topicPrefix;
  const authProducer = createBatchingProducer({ kafka, logger, registry, topicPrefix });
  const signingSecret = config.keyChangesSigningSecret;
  const keys = createKeyRegistry({
    kafka,
    logger,
    registry,
    topicPrefix,
    instanceId: config.instanceId,
    signingSecret,
  });
  if (!signingSecret) {
    logger.warn(
      "KEY_CHANGES_SIGNING_SECRET is not set: key changes are applied without checking their signature",
    );
  }
  return { keys, authProducer };
}

/** Rate limits in Redis, falling back to memory (or refusing) while Redis is unreachable. */
export function createLimiting({ config, logger, registry }: Context) {
  const { failureMode } = config.rateLimits;
  // The decisions of one event-loop turn go to Redis in one write. At peak a decision cost 33 µs
  // of CPU through ioredis and 8 µs through this connection (pnpm bench:edge-parts).
  const redis = createPipelinedRedis({
    url: config.redisUrl,
    commandTimeoutMs: config.rateLimits.timeoutMs * 4,
    connectTimeoutMs: 1000,
  });
  let redisAnswered = false;
  const limiter = createResilientLimiter({
    primary: createRedisLimiter({
      redis,
      keyPrefix: config.rateLimits.redisPrefix,
      algorithm: config.rateLimits.algorithm,
    }),
    fallback: createMemoryLimiter(),
    timeoutMs: config.rateLimits.timeoutMs,
    failureMode,
    registry,
    onDegradedChange: (degraded, cause) => {
      if (degraded) {
        logger.error(
          { err: cause, failureMode, alert: "rate_limiter_degraded" },
          failureMode === "open"
            ? "Redis unreachable: rate limits fall back to per-instance memory"
            : "Redis unreachable: refusing requests with 503 (RATE_LIMIT_FAILURE_MODE=closed)",
        );
      } else {
        redisAnswered = true;
        logger.info("Redis reachable again: rate limits are global again");
      }
    },
  });
  const ready: ReadinessCheck = async () => {
    if (!redisAnswered) redisAnswered = await pingRedis(redis);
    // In closed mode a degraded limiter refuses every request: not ready. The limiter itself
    // notices recovery only on a decision, which a load balancer withholding traffic from an
    // unready edge would never send, so readiness asks Redis directly.
    const refusing = failureMode === "closed" && limiter.isDegraded();
    return {
      ok: refusing ? await pingRedis(redis) : redisAnswered,
      detail: { degraded: limiter.isDegraded(), failureMode },
    };
  };
  return { limiter, ready, close: () => void redis.disconnect() };
}

/**
 * The data plane: the upstream proxy, the WebSocket tunnels and the handler in front of them,
 * with refused authentications reported once their minute has ended (one event per IP and
 * minute) and the tunnels of keys no longer active cut every second.
 */
export function createDataPlane(
  { config, logger, registry }: Context,
  {
    keys,
    limiter,
    usage,
    authProducer,
  }: {
    keys: KeyRegistry;
    limiter: ReturnType<typeof createLimiting>["limiter"];
    usage: UsagePublisher;
    authProducer: BatchingProducer;
  },
) {
  const proxy = createUpstreamProxy({
    upstreamUrl: config.upstream.url,
    timeoutMs: config.upstream.timeoutMs,
    connections: config.upstream.connections,
    poolWaitMs: config.upstream.poolWaitMs,
    exchangeTimeoutMs: config.exchangeTimeoutMs,
    maxBodyBytes: config.maxBodyBytes,
    trustForwardedProto: config.trustedProxyHops > 0,
  });
  const openWebSockets = gauge(registry, "edge_websockets_open", "WebSockets open through the edge");
  let holdDescriptors = (_count: number) => {};
  const tunnels = createWebSocketTunnels({
    upstreamUrl: config.upstream.url,
    timeoutMs: config.upstream.timeoutMs,
    trustForwardedProto: config.trustedProxyHops > 0,
    onCountChange: (open) => {
      openWebSockets.set(open);
      holdDescriptors(open);
    },
  });
  const recordAuthFailure = createAuthFailureRecorder({ producer: authProducer, logger, registry });
  const normaliseEndpoint = createEndpointNormaliser({ patterns: config.endpointPatterns });
  const authFailureLimit = createAuthFailureLimit({ perMinute: config.authFailuresPerMinute });
  const reportEnded = (nowMs: number) => {
    for (const summary of authFailureLimit.takeEnded(nowMs)) {
      recordAuthFailure(refusalSummaryEvent(summary, normaliseEndpoint));
    }
  };
  const summaries = createPeriodicTask({
    name: "refused-authentication summaries",
    logger,
    intervalMs: 1000,
    run: () => reportEnded(Date.now()),
  });
  const handler = createEdgeHandler({
    lookup: (hash) => keys.lookup(hash),
    keyHashSecret: config.keyHashSecret,
    limiter,
    defaults: config.rateLimits.defaults,
    proxy,
    recordUsage: (event) => usage.record(event),
    recordAuthFailure,
    normaliseEndpoint,
    authFailureLimit,
    corsOrigins: config.corsOrigins,
    instanceId: config.instanceId,
    isLoaded: () => keys.isLoaded(),
    trustedProxyHops: config.trustedProxyHops,
    maxInflightPerKey: config.maxInflightPerKey,
    tunnels,
    maxWebSocketsPerKey: config.maxWebSocketsPerKey,
    maxBodyBytes: config.maxBodyBytes,
    logger,
    registry,
  });
  // A deactivation or an expiry reaches a WebSocket within a second of reaching the key table.
  const revoked = createPeriodicTask({
    name: "revoked WebSockets",
    logger,
    intervalMs: 1000,
    run: () => void handler.closeRevokedTunnels(),
  });
  return {
    handler,
    proxy,
    tunnels,
    /** Each open WebSocket's upstream connection takes the place of a client connection. */
    countTunnelsAgainst(limits: { holdDescriptors(count: number): void }) {
      holdDescriptors = (count) => limits.holdDescriptors(count);
    },
    async startReporting() {
      await summaries.start();
      await revoked.start();
    },
    async stopReporting() {
      await revoked.stop();
      await summaries.stop();
      // The current minute too: its refusals would otherwise go unreported.
      reportEnded(Date.now() + 60_000);
    },
  };
}
