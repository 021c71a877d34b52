// The whole product as processes, for end-to-end tests: every service's real main.ts on a test
// database and topics of its own, with real Kafka, Postgres and Redis. Nothing is mocked.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createKeysClient, type KeysClient } from "@apimon/client";
import type { KafkaSecurity } from "@apimon/config";
import { allTopics } from "@apimon/events";
import { createKafka, type KafkaClient } from "@apimon/kafka";
import {
  createTestDatabase,
  createTestTopics,
  freePort,
  keyMaker,
  startService,
  type TestDatabase,
  type TsxProcess,
  testInfra,
  testLogger,
  uniqueName,
  waitForEdgeKeys,
  waitReady,
} from "@apimon/testkit";

export const ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef";
export const KEY_HASH_SECRET = "e2e-key-hash-secret-0123456789abcdef";

export type ServiceName =
  | "demo-upstream"
  | "keys"
  | "edge"
  | "usage-recorder"
  | "key-stats"
  | "anomaly-detector"
  | "alerts"
  | "notifier"
  | "console";

/** The prefix of each service's own variables (`<prefix>_PORT`, `<prefix>_HOST`). */
const ENV_PREFIX: Record<ServiceName, string> = {
  "demo-upstream": "DEMO_UPSTREAM",
  keys: "KEYS",
  edge: "EDGE",
  "usage-recorder": "USAGE_RECORDER",
  "key-stats": "KEY_STATS",
  "anomaly-detector": "DETECTOR",
  alerts: "ALERTS",
  notifier: "NOTIFIER",
  console: "CONSOLE",
};

/** Every service of the product, in an order that starts each after what it calls. */
export const ALL_SERVICES = Object.keys(ENV_PREFIX) as ServiceName[];

export interface RunningService {
  name: ServiceName;
  url: string;
  process: TsxProcess;
}

export interface FullStack {
  db: TestDatabase;
  prefix: string;
  kafka: KafkaClient;
  keys: KeysClient;
  services: Map<ServiceName, RunningService>;
  url(name: ServiceName): string;
  /** Where a service answers /readyz and /metrics (the edge's admin port, or `url`). */
  readyUrl(name: ServiceName): string;
  /** An admin call to a service's API; throws with the body on an unexpected status. */
  admin<T = unknown>(
    name: ServiceName,
    method: string,
    path: string,
    body?: unknown,
    expect?: number,
  ): Promise<T>;
  /** A fresh user and active key; resolves once the edge knows the key. */
  newKey(rateLimits?: { minute?: number; hour?: number; day?: number }): Promise<{ key: string; id: number }>;
  stop(): Promise<void>;
}

export interface FullStackOptions {
  label: string;
  services: ServiceName[];
  /** Extra environment per service. */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /**
   * Another broker than the test infrastructure's: the test's own client connects with
   * `security`, and the topics get `topicPrefix` (its ACLs are granted for that prefix). Each
   * service's credentials go in `env`.
   */
  kafka?: { brokers: string[]; security: KafkaSecurity; topicPrefix: string };
}

const logger = testLogger("full-stack");

export async function startFullStack({
  label,
  services: names,
  env = {},
  kafka: broker,
}: FullStackOptions): Promise<FullStack> {
  const db = await createTestDatabase();
  const brokers = broker?.brokers ?? testInfra.kafkaBrokers;
  const kafka = createKafka({ brokers, clientId: `${label}-e2e`, logger, security: broker?.security });
  const { prefix } = await createTestTopics(label, allTopics(), {
    kafka,
    logger,
    prefix: broker?.topicPrefix,
    replicationFactor: testInfra.kafkaReplicationFactor,
  });
  const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), `apimon-${label}-`));

  const ports = new Map<ServiceName, number>();
  for (const name of names) ports.set(name, await freePort());
  // The edge answers /readyz and /metrics on its admin port; its client port passes them upstream.
  const edgeAdminUrl = `http://127.0.0.1:${await freePort()}`;
  const url = (name: ServiceName) => {
    const port = ports.get(name);
    if (port === undefined) throw new Error(`${name} is not part of this stack`);
    return `http://127.0.0.1:${port}`;
  };
  const readyUrl = (name: ServiceName) => (name === "edge" ? edgeAdminUrl : url(name));
  // What every service of the stack gets besides its database, topics, port and loopback host.
  const common: NodeJS.ProcessEnv = {
    REDIS_URL: testInfra.redisUrl,
    KAFKA_BROKERS: brokers.join(","),
    ADMIN_TOKEN,
    KEY_HASH_SECRET,
    UPSTREAM_URL: ports.has("demo-upstream") ? url("demo-upstream") : "http://127.0.0.1:9",
    ALERTS_URL: ports.has("alerts") ? url("alerts") : "http://127.0.0.1:9",
    KEYS_URL: ports.has("keys") ? url("keys") : "http://127.0.0.1:9",
    CONSOLE_PUBLIC_URL: ports.has("console") ? url("console") : "http://127.0.0.1:8087",
    USAGE_SPOOL_DIR: spoolDir,
    RATE_LIMIT_REDIS_PREFIX: `${uniqueName("rl")}:`,
    EDGE_ADMIN_PORT: new URL(edgeAdminUrl).port,
  };

  const runGroups = (name: ServiceName): Record<string, string> =>
    name === "notifier"
      ? { NOTIFIER_GROUP_PREFIX: `${prefix}notifier` }
      : { [`${ENV_PREFIX[name]}_GROUP_ID`]: `${prefix}${name}` };
  const services = new Map<ServiceName, RunningService>();
  for (const name of names) {
    const proc = await startService(`services/${name}/src/main.ts`, {
      envPrefix: ENV_PREFIX[name],
      databaseUrl: db.url,
      topicPrefix: prefix,
      port: ports.get(name),
      // Consumer groups of this run's own: two stacks at once (Jest runs test files side by
      // side) must not share a group, whose members would be handed each other's partitions.
      env: { ...common, ...runGroups(name), ...env[name] },
    });
    services.set(name, { name, url: proc.url, process: proc });
  }
  const stop = async () => {
    await Promise.all([...services.values()].map((s) => s.process.stop("SIGTERM")));
    await db.drop();
    fs.rmSync(spoolDir, { recursive: true, force: true });
  };
  try {
    await Promise.all(
      [...services.values()].map((s) =>
        waitReady(readyUrl(s.name), {
          timeoutMs: 120_000,
          intervalMs: 200,
          what: `${s.name} to be ready`,
          process: s.process,
        }),
      ),
    );
  } catch (error) {
    await stop();
    throw error;
  }

  const keys = createKeysClient({ baseUrl: url("keys"), adminToken: ADMIN_TOKEN });
  return {
    db,
    prefix,
    kafka,
    keys,
    services,
    url,
    readyUrl,
    async admin<T>(name: ServiceName, method: string, pathname: string, body?: unknown, expect?: number) {
      const res = await fetch(`${url(name)}${pathname}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (expect !== undefined ? res.status !== expect : !res.ok) {
        throw new Error(`${method} ${pathname} → ${res.status}: ${text}`);
      }
      return (text ? JSON.parse(text) : undefined) as T;
    },
    newKey: keyMaker(keys, {
      label,
      userName: "E2E",
      afterCreate: async (count) => {
        if (services.has("edge")) await waitForEdgeKeys(edgeAdminUrl, count, "the edge to know the new key");
      },
    }),
    stop,
  };
}
