import { ConfigError, redactUrl } from "@apimon/config";
import { createShutdown } from "@apimon/http";
import { createBatchingProducer, createKafka } from "@apimon/kafka";
import { createKeyRegistry } from "@apimon/key-registry";
import { createLogger, createMetricsRegistry } from "@apimon/observability";
import { createRedisClient, pingRedis } from "@apimon/redis";
import { createControlApp } from "./app";
import { loadConfig } from "./config";
import { createEdgeHandler } from "./edge-handler";
import { createMemoryLimiter } from "./limiter/memory-limiter";
import { createRedisLimiter } from "./limiter/redis-limiter";
import { createResilientLimiter } from "./limiter/resilient-limiter";
import { createUpstreamProxy } from "./proxy/upstream-proxy";
import { startEdgeServer } from "./server";
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
  });

  const redis = createRedisClient({
    url: config.redisUrl,
    commandTimeoutMs: config.rateLimits.timeoutMs * 4,
    connectTimeoutMs: 1000,
    offlineQueue: false,
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
  });
  const handler = createEdgeHandler({
    lookup: (hash) => keys.lookup(hash),
    keyHashSecret: config.keyHashSecret,
    limiter,
    defaults: config.rateLimits.defaults,
    proxy,
    recordUsage: (event) => usage.record(event),
    recordAuthFailure: createAuthFailureRecorder({ producer: authProducer, logger, registry }),
    normaliseEndpoint: createEndpointNormaliser({ patterns: config.endpointPatterns }),
    instanceId: config.instanceId,
    trustProxy: config.trustProxy,
    logger,
    registry,
  });

  let shuttingDown = false;
  const control = createControlApp({
    registry,
    isShuttingDown: () => shuttingDown,
    checks: {
      keyRegistry: () => ({ ok: keys.isReady(), detail: { keys: keys.size() } }),
      redis: async () => {
        if (!redisAnswered) redisAnswered = await pingRedis(redis);
        return {
          ok: redisAnswered,
          detail: { degraded: limiter.isDegraded(), failureMode: config.rateLimits.failureMode },
        };
      },
      // Informational: a Kafka outage degrades nothing the client sees, so it never fails readiness.
      usageEvents: () => ({ ok: true, detail: usage.health() }),
    },
  });
  const server = await startEdgeServer(control, handler, { port: config.port, host: config.host });

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
      { name: "stop key registry", run: () => keys.stop() },
      // Memory goes to Kafka, or to the spool when Kafka is unreachable: nothing is dropped.
      { name: "drain usage events", run: () => usage.close() },
      { name: "disconnect usage producer", run: () => usageProducer.disconnect() },
      { name: "disconnect auth-failure producer", run: () => authProducer.disconnect() },
      { name: "close redis", run: () => void redis.disconnect() },
    ],
  });
  shutdown.installSignalHandlers();

  logger.info(
    { port: server.port, upstream: redactUrl(config.upstream.url), instance: config.instanceId },
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
