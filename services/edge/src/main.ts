import { ConfigError, redactUrl } from "@apimon/config";
import { createShutdown } from "@apimon/http";
import { createBatchingProducer, createKafka } from "@apimon/kafka";
import { createKeyRegistry } from "@apimon/key-registry";
import { createLogger, createMetricsRegistry } from "@apimon/observability";
import { createRedisClient, pingRedis } from "@apimon/redis";
import { createControlApp } from "./app";
import { loadConfig } from "./config";
import { createAuthFailureLimit } from "./domain/auth-failure-limit";
import { createEdgeHandler, refusalSummaryEvent } from "./edge-handler";
import { createMemoryLimiter } from "./limiter/memory-limiter";
import { createRedisLimiter } from "./limiter/redis-limiter";
import { createResilientLimiter } from "./limiter/resilient-limiter";
import { createUpstreamProxy } from "./proxy/upstream-proxy";
import { registryReadiness } from "./registry-readiness";
import { startAdminServer, startEdgeServer } from "./server";
import { createAuthFailureRecorder } from "./usage/auth-failures";
import { createEndpointNormaliser } from "./usage/endpoint";
import { openUsageSpool } from "./usage/spool";
import { createUsagePublisher } from "./usage/usage-publisher";

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ service: "edge", level: config.logLevel });
  const registry = createMetricsRegistry("edge");

  // Usage events get a client and producer of their own with short retries: a send that fails
  // fast moves the publisher to the on-disk spool instead of holding events in memory.
  const usageKafka = createKafka({
    brokers: config.kafka.brokers,
    clientId: `${config.kafka.clientId}-edge-usage`,
    security: config.kafka.security,
    logger,
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 5000,
    retry: { retries: 2, initialRetryTimeMs: 100, maxRetryTimeMs: 500 },
  });
  const usageProducer = createBatchingProducer({
    kafka: usageKafka,
    logger,
    registry,
    topicPrefix: config.kafka.topicPrefix,
    maxBatchMessages: 500,
    // Nobody waits for a usage event: a longer linger means fewer, larger produce requests, and
    // each request (a socket write and an acks=all round trip) costs the edge and the broker far
    // more than a message in it.
    lingerMs: 25,
  });
  const spool = openUsageSpool({ dir: config.spool.dir, maxBytes: config.spool.maxBytes, logger, registry });
  const usage = createUsagePublisher({ producer: usageProducer, spool, logger, registry, chunkSize: 500 });

  const kafka = createKafka({
    brokers: config.kafka.brokers,
    clientId: `${config.kafka.clientId}-edge`,
    security: config.kafka.security,
    logger,
  });
  const authProducer = createBatchingProducer({
    kafka,
    logger,
    registry,
    topicPrefix: config.kafka.topicPrefix,
  });
  const keys = createKeyRegistry({
    kafka,
    logger,
    registry,
    topicPrefix: config.kafka.topicPrefix,
    instanceId: config.instanceId,
    signingSecret: config.keyChangesSigningSecret,
  });
  if (!config.keyChangesSigningSecret) {
    logger.warn(
      "KEY_CHANGES_SIGNING_SECRET is not set: key changes are applied without checking their signature",
    );
  }

  const redis = createRedisClient({
    url: config.redisUrl,
    commandTimeoutMs: config.rateLimits.timeoutMs * 4,
    connectTimeoutMs: 1000,
    offlineQueue: false,
    // Every request makes one decision: under load many in one turn, which then share a write.
    // The limiter's deadline counts from that write (resilient-limiter.ts).
    autoPipelining: true,
  });
  redis.on("error", () => {}); // reconnects by itself; the limiter reports what it means
  let redisAnswered = false;
  const limiter = createResilientLimiter({
    primary: createRedisLimiter({
      redis,
      keyPrefix: config.rateLimits.redisPrefix,
      algorithm: config.rateLimits.algorithm,
    }),
    fallback: createMemoryLimiter(),
    timeoutMs: config.rateLimits.timeoutMs,
    failureMode: config.rateLimits.failureMode,
    registry,
    onDegradedChange: (degraded, cause) => {
      if (degraded) {
        logger.error(
          { err: cause, failureMode: config.rateLimits.failureMode, alert: "rate_limiter_degraded" },
          config.rateLimits.failureMode === "open"
            ? "Redis unreachable: rate limits fall back to per-instance memory"
            : "Redis unreachable: refusing requests with 503 (RATE_LIMIT_FAILURE_MODE=closed)",
        );
      } else {
        redisAnswered = true;
        logger.info("Redis reachable again: rate limits are global again");
      }
    },
  });

  const proxy = createUpstreamProxy({
    upstreamUrl: config.upstream.url,
    timeoutMs: config.upstream.timeoutMs,
    connections: config.upstream.connections,
    poolWaitMs: config.upstream.poolWaitMs,
    exchangeTimeoutMs: config.exchangeTimeoutMs,
    maxBodyBytes: config.maxBodyBytes,
    trustForwardedProto: config.trustedProxyHops > 0,
  });
  const recordAuthFailure = createAuthFailureRecorder({ producer: authProducer, logger, registry });
  const normaliseEndpoint = createEndpointNormaliser({ patterns: config.endpointPatterns });
  const authFailureLimit = createAuthFailureLimit({ perMinute: config.authFailuresPerMinute });
  // Refused attempts are reported once their minute has ended: one event per IP and minute.
  const summaries = setInterval(() => {
    for (const summary of authFailureLimit.takeEnded(Date.now())) {
      recordAuthFailure(refusalSummaryEvent(summary, normaliseEndpoint));
    }
  }, 1000);
  summaries.unref();
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
    isReady: () => keys.isReady(),
    trustedProxyHops: config.trustedProxyHops,
    maxInflightPerKey: config.maxInflightPerKey,
    maxBodyBytes: config.maxBodyBytes,
    logger,
    registry,
  });

  let shuttingDown = false;
  const control = createControlApp({
    registry,
    isShuttingDown: () => shuttingDown,
    checks: {
      keyRegistry: registryReadiness({ keys, maxLagMs: config.registryMaxLagMs }),
      redis: async () => {
        if (!redisAnswered) redisAnswered = await pingRedis(redis);
        // In closed mode a degraded limiter refuses every request: not ready. The limiter itself
        // notices recovery only on a decision, which a load balancer withholding traffic from an
        // unready edge would never send, so readiness asks Redis directly.
        const refusing = config.rateLimits.failureMode === "closed" && limiter.isDegraded();
        return {
          ok: refusing ? await pingRedis(redis) : redisAnswered,
          detail: { degraded: limiter.isDegraded(), failureMode: config.rateLimits.failureMode },
        };
      },
      // Informational: a Kafka outage degrades nothing the client sees, so it never fails readiness.
      usageEvents: () => ({ ok: true, detail: usage.health() }),
    },
  });
  const admin = await startAdminServer(control, { port: config.adminPort, host: config.host });
  const server = await startEdgeServer(handler, {
    port: config.port,
    host: config.host,
    exchangeTimeoutMs: config.exchangeTimeoutMs,
  });

  const shutdown = createShutdown({
    logger,
    timeoutMs: config.shutdownTimeoutMs,
    steps: [
      {
        name: "fail readiness",
        run: () => {
          shuttingDown = true;
        },
      },
      { name: "close server", run: () => server.close() },
      { name: "close upstream pool", run: () => proxy.close() },
      {
        name: "report refused authentications",
        run: () => {
          clearInterval(summaries);
          // The current minute too: its refusals would otherwise go unreported.
          for (const summary of authFailureLimit.takeEnded(Date.now() + 60_000)) {
            recordAuthFailure(refusalSummaryEvent(summary, normaliseEndpoint));
          }
        },
      },
      { name: "stop key registry", run: () => keys.stop() },
      // Memory goes to Kafka, or to the spool when Kafka is unreachable: nothing is dropped.
      { name: "drain usage events", run: () => usage.close() },
      { name: "disconnect usage producer", run: () => usageProducer.disconnect() },
      { name: "disconnect auth-failure producer", run: () => authProducer.disconnect() },
      { name: "close redis", run: () => void redis.disconnect() },
      { name: "close admin server", run: () => admin.close() },
    ],
  });
  shutdown.installSignalHandlers();

  logger.info(
    {
      port: server.port,
      adminPort: admin.port,
      upstream: redactUrl(config.upstream.url),
      instance: config.instanceId,
    },
    "edge listening; loading the key registry",
  );
  await keys.start();
  logger.info({ keys: keys.size() }, "key registry loaded; edge ready");
}

main().catch((error) => {
  const detail =
    error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error);
  process.stderr.write(`edge failed to start: ${detail}\n`);
  process.exit(1);
});
