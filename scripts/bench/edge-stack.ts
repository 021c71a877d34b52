// What the edge benches run: the demo upstream, the bare proxy and the edge with one key, on
// Kafka topics, Redis keys and a usage spool of the run's own, and the clean-up of all of them.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type KeyChange, topics } from "@apimon/events";
import { createBatchingProducer, createKafka, ensureTopics } from "@apimon/kafka";
import { displayPrefix, generateApiKey, hashApiKey } from "@apimon/key-registry";
import type { Logger } from "@apimon/observability";
import { createRedisClient } from "@apimon/redis";
import { freePort } from "@apimon/testkit";
import type { LoadTarget } from "./http-load";
import { checkInfrastructure, deleteRedisKeys } from "./infra";
import { type Service, spawnService, stopService, waitReady } from "./processes";

export const BENCH_PATH = "/api/users/1";
export const TARGET_IDS = ["a", "b", "c"] as const;
export type TargetId = (typeof TARGET_IDS)[number];
/** The two proxies a bench measures: the bare proxy (b) and the edge (c). */
export type ProxyName = "bare" | "edge";

export interface EdgeStackConfig {
  brokers: string[];
  redisUrl: string;
  /** The most connections one load run opens to the edge. */
  connections: number;
}

export interface StartOptions {
  /** Node flags for each proxy, e.g. --cpu-prof. */
  nodeFlags?: (name: ProxyName) => string[];
  /** A command that runs each proxy's node in its own process, e.g. valgrind. */
  wrapper?: (name: ProxyName) => string[];
  /** Edge variables over the bench's. */
  edgeEnv?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}

export interface StartedEdgeStack {
  upstream: Service;
  bareProxy: Service;
  edge: Service;
  targets: Record<TargetId, LoadTarget & { name: string }>;
  /** The edge's Prometheus exposition now. */
  edgeMetrics(): Promise<string>;
  /** Requests the edge has counted so far (`edge_requests_total`, every series). */
  edgeRequestsCounted(): Promise<number>;
}

/** The sum of every series of a counter in a Prometheus text exposition (0 when absent). */
export function counterSum(metrics: string, name: string): number {
  let total = 0;
  for (const line of metrics.split("\n")) {
    if (!line.startsWith(name) || (line[name.length] !== "{" && line[name.length] !== " ")) continue;
    total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

/**
 * The run's names and clients; `start` brings the processes up, and `cleanUp` (safe to call at
 * any point, and more than once) stops them and deletes what the run created. SIGINT and SIGTERM
 * clean up too, then exit with 130.
 */
export function createEdgeStack(
  label: string,
  config: EdgeStackConfig,
  logger: Logger,
  out: (line: string) => void,
) {
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const topicPrefix = `${label}-${runId}.`;
  const redisPrefix = `${label}-${runId}:`;
  const keyHashSecret = randomBytes(32).toString("hex");
  const spoolDir = mkdtempSync(join(tmpdir(), `apimon-${label}-spool-`));
  const kafka = createKafka({
    brokers: config.brokers,
    clientId: `apimon-${label}`,
    logger,
    connectionTimeoutMs: 2000,
    retry: { retries: 2, initialRetryTimeMs: 200, maxRetryTimeMs: 1000 },
  });
  const redis = createRedisClient({ url: config.redisUrl, commandTimeoutMs: 5000, connectTimeoutMs: 2000 });
  redis.on("error", () => {}); // reported by checkInfrastructure
  const services: Service[] = [];
  const createdTopics: string[] = [];
  let infrastructureOk = false;

  let cleaning: Promise<void> | undefined;
  const cleanUp = (): Promise<void> => {
    cleaning ??= removeEverything();
    return cleaning;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    out(`bench: ${signal}: stopping the services and cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  async function removeEverything(): Promise<void> {
    await Promise.all(services.map((s) => stopService(s)));
    if (createdTopics.length > 0) {
      const admin = kafka.admin();
      try {
        await admin.connect();
        await admin.deleteTopics({ topics: createdTopics });
      } catch (error) {
        out(`bench: could not delete the topics ${createdTopics.join(", ")}: ${(error as Error).message}`);
      } finally {
        await admin.disconnect().catch(() => {});
      }
    }
    if (infrastructureOk) {
      await deleteRedisKeys(redis, redisPrefix).catch((error: Error) =>
        out(`bench: could not delete the Redis keys ${redisPrefix}*: ${error.message}`),
      );
    }
    redis.disconnect();
    rmSync(spoolDir, { recursive: true, force: true });
  }

  async function start(options: StartOptions = {}): Promise<StartedEdgeStack> {
    const { nodeFlags = () => [], wrapper = () => [], edgeEnv = {}, readyTimeoutMs = 120_000 } = options;
    await checkInfrastructure(kafka, redis, config);
    infrastructureOk = true;

    // Topics of this run, and one key the edge learns from keys.changes.v1 at start-up, with
    // limits no run can reach (the limiter still does its full Redis round trip per request).
    const { created } = await ensureTopics(kafka, {
      prefix: topicPrefix,
      specs: [topics.keyChanges, topics.usageEvents, topics.authFailures],
    });
    createdTopics.push(...created);
    const apiKey = generateApiKey();
    const now = new Date().toISOString();
    const keyChange: KeyChange = {
      id: 1,
      userId: 1,
      keyHash: hashApiKey(keyHashSecret, apiKey),
      keyPrefix: displayPrefix(apiKey),
      active: true,
      expiresAt: null,
      rateLimits: { minute: 1_000_000_000, hour: 1_000_000_000, day: 1_000_000_000 },
      updatedAt: now,
    };
    const producer = createBatchingProducer({ kafka, logger, topicPrefix });
    await producer.publish(topics.keyChanges, keyChange);
    await producer.disconnect();

    const ports = new Set<number>();
    while (ports.size < 4) ports.add(await freePort());
    const [upstreamPort, bareProxyPort, edgePort, edgeAdminPort] = [...ports];
    const baseEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "warn" };
    const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
    const upstream = spawnService("demo-upstream", "services/demo-upstream/src/main.ts", {
      ...baseEnv,
      DEMO_UPSTREAM_PORT: String(upstreamPort),
      DEMO_UPSTREAM_HOST: "127.0.0.1",
    });
    services.push(upstream);
    const bareProxy = spawnService(
      "bare-proxy",
      "scripts/bench/bare-proxy.ts",
      { ...baseEnv, BARE_PROXY_PORT: String(bareProxyPort), UPSTREAM_URL: upstreamUrl },
      nodeFlags("bare"),
      wrapper("bare"),
    );
    services.push(bareProxy);
    const edge = spawnService(
      "edge",
      "services/edge/src/main.ts",
      {
        ...baseEnv,
        EDGE_PORT: String(edgePort),
        EDGE_ADMIN_PORT: String(edgeAdminPort),
        // The bench loads one key from every connection: the per-key in-flight cap (a protection
        // against one client hogging the edge) must not turn the peak into 429s.
        EDGE_MAX_INFLIGHT_PER_KEY: String(Math.max(1000, config.connections * 2)),
        EDGE_HOST: "127.0.0.1",
        EDGE_INSTANCE_ID: `${label}-${runId}`,
        UPSTREAM_URL: upstreamUrl,
        KEY_HASH_SECRET: keyHashSecret,
        REDIS_URL: config.redisUrl,
        RATE_LIMIT_REDIS_PREFIX: redisPrefix,
        KAFKA_BROKERS: config.brokers.join(","),
        KAFKA_TOPIC_PREFIX: topicPrefix,
        USAGE_SPOOL_DIR: spoolDir,
        ...edgeEnv,
      },
      nodeFlags("edge"),
      wrapper("edge"),
    );
    services.push(edge);
    const urls = {
      a: `http://127.0.0.1:${upstreamPort}`,
      b: `http://127.0.0.1:${bareProxyPort}`,
      c: `http://127.0.0.1:${edgePort}`,
    };
    await Promise.all([
      waitReady(upstream, urls.a),
      waitReady(bareProxy, urls.b, readyTimeoutMs),
      waitReady(edge, `http://127.0.0.1:${edgeAdminPort}`, readyTimeoutMs),
    ]);

    const targets: Record<TargetId, LoadTarget & { name: string }> = {
      a: { name: "(a) upstream direct", url: `${urls.a}${BENCH_PATH}` },
      b: { name: "(b) bare proxy", url: `${urls.b}${BENCH_PATH}` },
      c: { name: "(c) edge", url: `${urls.c}${BENCH_PATH}`, headers: { "x-api-key": apiKey } },
    };
    // Every target answers the same thing before the load starts (the edge: the key works).
    for (const target of Object.values(targets)) {
      const res = await fetch(target.url, { headers: target.headers ?? {} });
      const body = await res.text();
      if (res.status !== 200) throw new Error(`${target.name} answered ${res.status} ${body}`);
    }
    const edgeMetrics = async () => (await fetch(`http://127.0.0.1:${edgeAdminPort}/metrics`)).text();
    return {
      upstream,
      bareProxy,
      edge,
      targets,
      edgeMetrics,
      edgeRequestsCounted: async () => counterSum(await edgeMetrics(), "edge_requests_total"),
    };
  }

  return { kafka, redis, runId, topicPrefix, spoolDir, start, cleanUp };
}
