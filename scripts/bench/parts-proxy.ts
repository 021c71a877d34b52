// The proxy of `pnpm bench:edge-parts`: the bare proxy (bare-proxy.ts) plus the edge's parts up
// to PARTS_STAGE, each stage adding one to the one before, so that what a part costs per request
// is the difference between two stages:
//
//   bare       the edge's upstream proxy behind a plain node server
//   ioredis    + one rate-limit decision per request (the edge's script) through ioredis
//   redis      the decision through the edge's pipelined connection instead (what the edge does)
//   event      + building the usage event as the edge does and serialising it
//   validated  + the usage event schema's check (zod)
//   kafka      + the edge's usage pipeline: the event validated, queued, sent by kafkajs
//
// Env: PARTS_STAGE, PARTS_PROXY_PORT, UPSTREAM_URL, REDIS_URL, RATE_LIMIT_REDIS_PREFIX,
// KAFKA_BROKERS, KAFKA_TOPIC_PREFIX, USAGE_SPOOL_DIR.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DEFAULT_PORTS, envTypes, kafkaEnv, parseEnv, redisEnv } from "@apimon/config";
import { usageEventSchema } from "@apimon/events";
import { createLogger, Registry } from "@apimon/observability";
import { createPipelinedRedis, createRedisClient, type ScriptRunner } from "@apimon/redis";
import { loadConfig as loadEdgeConfig } from "../../services/edge/src/config";
import { createRedisLimiter } from "../../services/edge/src/limiter/redis-limiter";
import { createUpstreamProxy } from "../../services/edge/src/proxy/upstream-proxy";
import { createEndpointNormaliser } from "../../services/edge/src/usage/endpoint";
import { createUsageEventBuilder } from "../../services/edge/src/usage/usage-event";
import { createUsagePipeline } from "../../services/edge/src/wiring";

export const STAGES = ["bare", "ioredis", "redis", "event", "validated", "kafka"] as const;
export type Stage = (typeof STAGES)[number];

/** Limits no run reaches: every request still makes its full Redis decision. */
const LIMITS = { minute: 1e12, hour: 1e12, day: 1e12 };

function loadConfig(env = process.env) {
  const stage = env.PARTS_STAGE ?? "bare";
  if (!(STAGES as readonly string[]).includes(stage)) {
    throw new Error(`PARTS_STAGE must be one of ${STAGES.join(", ")}; got ${stage}`);
  }
  return {
    ...parseEnv(
      {
        ...kafkaEnv,
        ...redisEnv,
        PARTS_PROXY_PORT: envTypes.port(0),
        UPSTREAM_URL: envTypes.url(`http://127.0.0.1:${DEFAULT_PORTS.demoUpstream}`),
      },
      env,
    ),
    PARTS_STAGE: stage as Stage,
    RATE_LIMIT_REDIS_PREFIX: env.RATE_LIMIT_REDIS_PREFIX ?? "bench-parts:",
    USAGE_SPOOL_DIR: env.USAGE_SPOOL_DIR ?? join(tmpdir(), "bench-parts-spool"),
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const stage = STAGES.indexOf(config.PARTS_STAGE);
  const has = (part: Stage) => stage >= STAGES.indexOf(part);
  const logger = createLogger({ service: "bench-parts", level: "warn" });
  const proxy = createUpstreamProxy({
    upstreamUrl: config.UPSTREAM_URL,
    timeoutMs: 30_000,
    connections: 128,
  });
  const usageEvent = createUsageEventBuilder({
    normaliseEndpoint: createEndpointNormaliser({}),
    instanceId: "bench-parts",
  });

  let redis: (ScriptRunner & { disconnect(): void; readonly status: string }) | undefined;
  if (config.PARTS_STAGE === "ioredis")
    redis = createRedisClient({ url: config.REDIS_URL, offlineQueue: false });
  else if (has("redis")) redis = createPipelinedRedis({ url: config.REDIS_URL });
  const limiter = redis && createRedisLimiter({ redis, keyPrefix: config.RATE_LIMIT_REDIS_PREFIX });

  let usage: ReturnType<typeof createUsagePipeline> | undefined;
  if (has("kafka")) {
    // The edge's own settings and defaults (USAGE_LINGER_MS and the Kafka variables pass through).
    const edgeConfig = loadEdgeConfig({
      ...process.env,
      KEY_HASH_SECRET: randomBytes(32).toString("hex"),
      KAFKA_CLIENT_ID: "bench-parts",
      USAGE_SPOOL_DIR: config.USAGE_SPOOL_DIR,
    });
    usage = createUsagePipeline({ config: edgeConfig, logger, registry: new Registry() });
    await usage.producer.connect();
  }
  let serialised = 0;

  const server = createServer(
    { maxHeaderSize: 16 * 1024, requestTimeout: 300_000, headersTimeout: 30_000 },
    async (req, res) => {
      if (req.url === "/readyz") {
        const ready = redis === undefined || redis.status === "ready";
        res.writeHead(ready ? 200 : 503, { "content-type": "application/json" }).end(`{"ready":${ready}}`);
        return;
      }
      const startedAt = Date.now();
      const startedMs = performance.now();
      const decision = limiter ? await limiter.check("1", LIMITS) : undefined;
      const outcome = await proxy.forward(req, res, { clientIp: "127.0.0.1" });
      if (!decision || !has("event")) return;
      const event = usageEvent(req, 1, 1, decision, outcome.statusCode, startedAt, startedMs, "127.0.0.1");
      if (usage) usage.usage.record(event);
      else serialised += JSON.stringify(has("validated") ? usageEventSchema.parse(event) : event).length;
    },
  );
  server.keepAliveTimeout = 10_000;
  server.listen(config.PARTS_PROXY_PORT, "127.0.0.1");

  const stop = () => {
    server.close(async () => {
      await usage?.usage.close();
      await usage?.producer.disconnect();
      redis?.disconnect();
      await proxy.close();
      process.stdout.write(`${JSON.stringify({ msg: "stopped", serialised })}\n`);
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

// Imported by edge-parts.ts for its list of stages: runs only as a program.
if (require.main === module) void main();
