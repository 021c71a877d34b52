// A real stack for the edge's black-box tests: a test database, the keys service, the demo
// upstream and N edge processes (their real main.ts), on topics of their own, with real
// Kafka and Redis. Nothing is mocked.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createKeysClient, type KeysClient } from "@apimon/client";
import { type AuthFailure, topics, type UsageEvent } from "@apimon/events";
import {
  type ConsumerRunner,
  createConsumerRunner,
  createKafka,
  type KafkaClient,
  subscription,
} from "@apimon/kafka";
import {
  createTestDatabase,
  createTestTopics,
  freePort,
  keyMaker,
  spawnTsx,
  type TestDatabase,
  type TsxProcess,
  testInfra,
  testLogger,
  uniqueName,
  waitFor,
  waitForEdgeKeys,
  waitReady,
} from "@apimon/testkit";

export const ADMIN_TOKEN = "edge-test-admin-token-0123456789";
export const KEY_HASH_SECRET = "edge-test-key-hash-secret-0123456789abcdef";

export interface EdgeProcess {
  url: string;
  port: number;
  /** The admin port: /readyz with every check, /metrics. */
  adminUrl: string;
  instanceId: string;
  process: TsxProcess;
  spoolDir: string;
}

export interface EdgeStackOptions {
  label: string;
  edges?: number;
  /** Brokers for every component (a private broker for outage tests). */
  brokers?: string[];
  /** Redis for the edges (a TCP proxy for outage tests). */
  redisUrl?: string;
  /** Extra environment for every edge. */
  edgeEnv?: Record<string, string>;
}

export interface EdgeStack {
  db: TestDatabase;
  prefix: string;
  kafka: KafkaClient;
  keys: KeysClient;
  upstreamUrl: string;
  edges: EdgeProcess[];
  /** Starts one more edge on these settings (plus `env`) and waits until it is ready. */
  startEdge(env?: Record<string, string>): Promise<EdgeProcess>;
  /** Starts one more edge and waits only until its client port answers /healthz, not for readiness. */
  spawnEdge(env?: Record<string, string>): Promise<EdgeProcess>;
  /** Stops an edge (SIGTERM, a graceful shutdown) and forgets it. */
  stopEdge(edge: EdgeProcess): Promise<number | NodeJS.Signals | null>;
  /** A user and an active key for it; returns the plaintext key and its id. */
  newKey(rateLimits?: { minute?: number; hour?: number; day?: number }): Promise<{ key: string; id: number }>;
  /** Every usage and auth-failure event read so far (by a consumer started with the stack). */
  usage: Map<string, UsageEvent[]>;
  authFailures: AuthFailure[];
  stop(): Promise<void>;
}

const logger = testLogger("edge-stack");

/** Waits until the edge's key registry holds at least `count` keys. */
export function knowsKeys(edge: EdgeProcess, count: number): Promise<void> {
  return waitForEdgeKeys(edge.adminUrl, count, `edge ${edge.instanceId} to know ${count} keys`);
}

export async function startEdgeStack({
  label,
  edges: edgeCount = 1,
  brokers = testInfra.kafkaBrokers,
  redisUrl = testInfra.redisUrl,
  edgeEnv = {},
}: EdgeStackOptions): Promise<EdgeStack> {
  const db = await createTestDatabase();
  const kafka = createKafka({ brokers, clientId: `${label}-test`, logger });
  const run = await createTestTopics(label, [topics.keyChanges, topics.usageEvents, topics.authFailures], {
    kafka,
    logger,
  });
  const { prefix } = run;
  const baseEnv = {
    ...process.env,
    KAFKA_BROKERS: brokers.join(","),
    KAFKA_TOPIC_PREFIX: prefix,
    LOG_LEVEL: "info",
    KEY_HASH_SECRET,
  };
  const processes: TsxProcess[] = [];
  const spoolDirs: string[] = [];

  const upstreamPort = await freePort();
  processes.push(
    spawnTsx("services/demo-upstream/src/main.ts", { ...baseEnv, DEMO_UPSTREAM_PORT: String(upstreamPort) }),
  );
  const keysPort = await freePort();
  processes.push(
    spawnTsx("services/keys/src/main.ts", {
      ...baseEnv,
      DATABASE_URL: db.url,
      KEYS_PORT: String(keysPort),
      ADMIN_TOKEN,
    }),
  );
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
  const keysUrl = `http://127.0.0.1:${keysPort}`;
  const redisPrefix = `${uniqueName("rl")}:`;

  const usage = new Map<string, UsageEvent[]>();
  const authFailures: AuthFailure[] = [];
  const consumer: ConsumerRunner = createConsumerRunner({
    kafka,
    groupId: run.group(`${label}-reader`),
    logger,
    topicPrefix: prefix,
    maxWaitTimeMs: 200,
    subscriptions: [
      subscription(topics.usageEvents, async (messages) => {
        for (const m of messages) {
          const seen = usage.get(m.value.id) ?? [];
          seen.push(m.value);
          usage.set(m.value.id, seen);
        }
      }),
      subscription(topics.authFailures, async (messages) => {
        for (const m of messages) authFailures.push(m.value);
      }),
    ],
  });
  await consumer.start();

  const edges: EdgeProcess[] = [];
  async function spawnEdge(env: Record<string, string> = {}): Promise<EdgeProcess> {
    const port = await freePort();
    const adminPort = await freePort();
    const instanceId = `${label}-edge-${edges.length + 1}`;
    const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), `apimon-${label}-spool-`));
    spoolDirs.push(spoolDir);
    const proc = spawnTsx("services/edge/src/main.ts", {
      ...baseEnv,
      EDGE_PORT: String(port),
      EDGE_ADMIN_PORT: String(adminPort),
      EDGE_HOST: "127.0.0.1",
      EDGE_INSTANCE_ID: instanceId,
      UPSTREAM_URL: upstreamUrl,
      REDIS_URL: redisUrl,
      RATE_LIMIT_REDIS_PREFIX: redisPrefix,
      USAGE_SPOOL_DIR: spoolDir,
      ...edgeEnv,
      ...env,
    });
    processes.push(proc);
    const edge = {
      url: `http://127.0.0.1:${port}`,
      port,
      adminUrl: `http://127.0.0.1:${adminPort}`,
      instanceId,
      process: proc,
      spoolDir,
    };
    edges.push(edge);
    await waitFor(
      async () => {
        try {
          return (await fetch(`${edge.url}/healthz`)).ok;
        } catch {
          return false;
        }
      },
      { timeoutMs: 90_000, intervalMs: 100, what: `edge ${instanceId} to listen` },
    ).catch((error: unknown) => {
      throw new Error(
        `${error instanceof Error ? error.message : error}\n--- edge output ---\n${proc.output()}`,
      );
    });
    return edge;
  }

  async function startEdge(env: Record<string, string> = {}): Promise<EdgeProcess> {
    const edge = await spawnEdge(env);
    await waitReady(edge.adminUrl, {
      ...readiness,
      what: `edge ${edge.instanceId} to be ready`,
      process: edge.process,
    });
    return edge;
  }

  const readiness = { timeoutMs: 90_000, intervalMs: 100 };
  await waitReady(upstreamUrl, { ...readiness, what: "the demo upstream" });
  await waitReady(keysUrl, { ...readiness, what: "the keys service" });
  const keys = createKeysClient({ baseUrl: keysUrl, adminToken: ADMIN_TOKEN });
  await Promise.all(Array.from({ length: edgeCount }, () => startEdge()));

  return {
    db,
    prefix,
    kafka,
    keys,
    upstreamUrl,
    edges,
    startEdge,
    spawnEdge,
    async stopEdge(edge) {
      edges.splice(edges.indexOf(edge), 1);
      return edge.process.stop("SIGTERM");
    },
    usage,
    authFailures,
    // Every edge must know the key before the test uses it.
    newKey: keyMaker(keys, {
      label,
      userName: "Edge test",
      afterCreate: async (count) => void (await Promise.all(edges.map((edge) => knowsKeys(edge, count)))),
    }),
    async stop() {
      await consumer.stop();
      await Promise.all(processes.map((p) => p.stop("SIGTERM")));
      await run.cleanup();
      await db.drop();
      for (const dir of spoolDirs) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
