// The event path on a broker started with `kafka.sh start --secure` (SASL_SSL, SCRAM users per
// service, the standard authorizer and the services' ACLs): its own broker on free ports, never
// the shared one.
import { type KafkaSecurity, kafkaEnv, kafkaSecurity, parseEnv } from "@apimon/config";
import { allTopics, type KeyChange, topics } from "@apimon/events";
import {
  applyServiceAcls,
  createKafka,
  ensureTopics,
  type KafkaClient,
  SERVICE_ACCESS,
  type SecureBrokerAccess,
  secureBrokerAccess,
  topicName,
} from "@apimon/kafka";
import { generateApiKey, hashApiKey } from "@apimon/key-registry";
import {
  type ControlledBroker,
  createTestDatabase,
  privateBroker,
  spawnTsx,
  type TestDatabase,
  type TsxProcess,
  testLogger,
  uniqueTopicPrefix,
  waitFor,
} from "@apimon/testkit";
import { type FullStack, KEY_HASH_SECRET, startFullStack } from "./lib/full-stack";
import { edgeKnowsAKey, freeStackPorts, ownUsageJournal } from "./lib/stack-run";

jest.setTimeout(240_000);

const logger = testLogger("secure-kafka");
let broker: ControlledBroker;
let access: SecureBrokerAccess;
let brokers: string[];

/** The client settings a service would load for `user`. */
function securityOf(user: string, mechanism?: "scram-sha-256" | "scram-sha-512" | "plain"): KafkaSecurity {
  return kafkaSecurity(parseEnv(kafkaEnv, access.env(user, mechanism)));
}

/**
 * A client for `user`; `retries: 0` for one that should be refused (a refused connection is
 * otherwise retried like an outage), the default for one that should get through (a partition
 * has no leader for a moment after its topic is created).
 */
function client(security: KafkaSecurity | undefined, clientId: string, retries = 8): KafkaClient {
  return createKafka({ brokers, clientId, logger, security, connectionTimeoutMs: 5000, retry: { retries } });
}

async function produceOne(
  kafka: KafkaClient,
  topic: string,
  message: { key: string; value: string } = { key: "k", value: "{}" },
): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: [message] });
  } finally {
    await producer.disconnect();
  }
}

beforeAll(async () => {
  broker = await privateBroker("kafka-secure", { secure: true });
  await broker.controlAsync("start");
  access = secureBrokerAccess(broker.runtimeDir);
  brokers = [`127.0.0.1:${broker.port}`];
  const admin = createKafka({ brokers, clientId: "secure-admin", logger, security: securityOf("admin") });
  await ensureTopics(admin, { prefix: "", specs: allTopics() });
});

afterAll(() => {
  broker?.dispose();
});

const keyChanges = topicName(topics.keyChanges, "");

describe("a secure broker", () => {
  it("refuses a client without credentials, in plaintext and over TLS", async () => {
    const plaintext = client(undefined, "no-tls", 0);
    await expect(plaintext.admin().connect()).rejects.toThrow();
    const anonymous = client({ ssl: { ca: securityOf("admin").ssl?.ca } }, "no-sasl", 0);
    await expect(produceOne(anonymous, keyChanges)).rejects.toThrow();
  });

  it("refuses a wrong password", async () => {
    const wrong = client(
      { ...securityOf("edge"), sasl: { mechanism: "scram-sha-512", username: "edge", password: "not-it" } },
      "wrong-password",
      0,
    );
    await expect(wrong.admin().connect()).rejects.toMatchObject({ name: "KafkaJSSASLAuthenticationError" });
  });

  it("lets only the keys service write keys.changes.v1", async () => {
    await expect(produceOne(client(securityOf("keys"), "keys"), keyChanges)).resolves.toBeUndefined();
    const others = SERVICE_ACCESS.map((a) => a.service).filter((s) => s !== "keys");
    expect(others).toHaveLength(6);
    for (const service of others) {
      await expect(produceOne(client(securityOf(service), service), keyChanges)).rejects.toThrow(
        "Not authorized to access topics: [Topic authorization failed]",
      );
    }
  });

  it("accepts each service over SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN", async () => {
    for (const mechanism of ["scram-sha-256", "scram-sha-512", "plain"] as const) {
      await expect(
        produceOne(
          client(securityOf("edge", mechanism), `edge-${mechanism}`),
          topicName(topics.usageEvents, ""),
        ),
      ).resolves.toBeUndefined();
    }
  });
});

describe("the stack over SASL_SSL", () => {
  const SIGNING_SECRET = "e2e-key-changes-signing-secret-0123456789";
  let stack: FullStack;

  beforeAll(async () => {
    stack = await startFullStack({
      label: "secure-stack",
      services: ["demo-upstream", "keys", "edge", "usage-recorder"],
      kafka: { brokers, security: securityOf("admin"), topicPrefix: "" },
      env: {
        keys: { ...access.env("keys"), KEY_CHANGES_SIGNING_SECRET: SIGNING_SECRET },
        edge: { ...access.env("edge", "scram-sha-256"), KEY_CHANGES_SIGNING_SECRET: SIGNING_SECRET },
        "usage-recorder": access.env("usage-recorder"),
      },
    });
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  });

  /** The edge's count of key changes it dropped for a missing signature. */
  async function droppedUnsigned(): Promise<number> {
    const text = await (await fetch(`${stack.readyUrl("edge")}/metrics`)).text();
    const line = text
      .split("\n")
      .find((l) => /^key_registry_rejected_changes_total\{[^}]*reason="missing"/.test(l));
    return line === undefined ? 0 : Number(line.split(" ").pop());
  }

  it("carries keys → keys.changes.v1 → the edge's registry, and edge → usage.events.v1 → usage-recorder", async () => {
    // newKey() resolves once the edge's registry holds the key: signed by keys, verified by the edge.
    const { key, id } = await stack.newKey();
    const N = 5;
    for (let i = 0; i < N; i++) {
      const res = await fetch(`${stack.url("edge")}/api/users/${(i % 3) + 1}`, {
        headers: { "x-api-key": key },
      });
      await res.arrayBuffer();
      expect(res.status).toBe(200);
    }
    await waitFor(
      async () => {
        const [row] = await stack.db.prisma.$queryRaw<{ n: bigint }[]>`
          SELECT count(*) AS n FROM api_usage WHERE api_key_id = ${id}`;
        return Number(row?.n) === N;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `${N} api_usage rows` },
    );
    const ready = await fetch(`${stack.readyUrl("edge")}/readyz`);
    const body = (await ready.json()) as {
      checks: { keyRegistry: { ok: boolean; detail: Record<string, unknown> } };
    };
    expect(ready.status).toBe(200);
    expect(body.checks.keyRegistry).toEqual({
      ok: true,
      detail: { keys: 1, lagMs: expect.any(Number), maxLagMs: 60_000, following: true },
    });
  });

  it("drops a forged, unsigned key change at the edge: the forged key is refused", async () => {
    const before = await droppedUnsigned();
    const plaintext = generateApiKey();
    const keyHash = hashApiKey(KEY_HASH_SECRET, plaintext);
    const forged: KeyChange = {
      id: 999_999,
      userId: 1,
      keyHash,
      keyPrefix: plaintext.slice(0, 11),
      active: true,
      expiresAt: null,
      rateLimits: { minute: null, hour: null, day: null },
      updatedAt: new Date().toISOString(),
    };
    // The admin user stands in for a writer that got past the ACLs: only the signature is left.
    await produceOne(client(securityOf("admin"), "forger"), keyChanges, {
      key: keyHash,
      value: JSON.stringify(forged),
    });
    await waitFor(async () => (await droppedUnsigned()) > before, {
      timeoutMs: 30_000,
      what: "the edge to drop the forged change",
    });
    const res = await fetch(`${stack.url("edge")}/api/users/1`, { headers: { "x-api-key": plaintext } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ detail: "Invalid API key" });
  });
});

describe("pnpm start --secure (scripts/stack.ts)", () => {
  let db: TestDatabase;
  let stack: TsxProcess | undefined;
  const journal = ownUsageJournal("secure-stack");

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });

  afterAll(async () => {
    // SIGTERM: the stack stops the services it started (a SIGKILL would orphan them).
    await stack?.stop("SIGTERM");
    await db?.drop();
    journal.remove();
  });

  it("runs every service on the secure broker, each as its own user, and carries a call through the pipeline", async () => {
    // Topics of their own (ACLs name topics literally): the broker's admin grants them first.
    const prefix = uniqueTopicPrefix("secure-stack");
    await applyServiceAcls(client(securityOf("admin"), "acl-admin"), { topicPrefix: prefix });
    const ports = await freeStackPorts();
    stack = spawnTsx(
      "scripts/stack.ts",
      {
        ...process.env,
        ...ports,
        // The private broker's own settings: the stack finds it running, secure, and leaves it be.
        ...broker.env,
        KAFKA_BROKERS: brokers.join(","),
        KAFKA_TOPIC_PREFIX: prefix,
        USAGE_SPOOL_DIR: journal.USAGE_SPOOL_DIR,
        STACK_FROM_SOURCE: "1",
        // Nine services compiled from source at once on a shared machine: time to get ready.
        STACK_READY_TIMEOUT_MS: "300000",
        DATABASE_URL: db.url,
        RATE_LIMIT_REDIS_PREFIX: `${prefix}rl:`,
        ADMIN_TOKEN: "secure-stack-admin-token",
      },
      ["--secure"],
    );
    // Ready, or given up (a service not ready in the stack's own time): the output tells which.
    await waitFor(() => /stack: (Ctrl-C stops everything|stopped)/.test(stack?.output() ?? ""), {
      timeoutMs: 360_000,
      what: "the stack to be ready",
    });
    expect(stack.output()).not.toContain("stack: stopped");
    expect(stack.output()).toContain(
      `stack: Kafka over SASL_SSL (CA ${access.caFile}); topics as admin; services as keys, usage-recorder, key-stats, anomaly-detector, alerts, notifier, edge`,
    );

    // The printed demo key works once the edge's key table holds it (keys → keys.changes.v1 → edge).
    const demo = stack.output().match(/demo API key: (ak_[\w-]+)/)?.[1] as string;
    expect(demo).toBeDefined();
    await edgeKnowsAKey(ports.EDGE_ADMIN_PORT as string, 30_000);
    const answer = await fetch(`http://127.0.0.1:${ports.EDGE_PORT}/api/users`, {
      headers: { "x-api-key": demo },
    });
    await answer.arrayBuffer();
    expect(answer.status).toBe(200);

    // edge → usage.events.v1 → usage-recorder and key-stats, each over SASL_SSL as itself.
    const [key] = await db.prisma.apiKey.findMany({ where: { keyPrefix: demo.slice(0, 11) } });
    await waitFor(
      async () => {
        const rows = await db.prisma.apiUsage.count({ where: { apiKeyId: key?.id } });
        const stats = await db.prisma.apiKey.findUnique({ where: { id: key?.id } });
        return rows === 1 && Number(stats?.usageCount) === 1;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: "the call in api_usage and in usage_count" },
    );

    expect(await stack.stop("SIGTERM")).toBe(0);
    expect(stack.output()).toContain("stack: stopped");
    // The broker was not the stack's to stop.
    const after = client(securityOf("admin"), "after-stack").admin();
    await expect(after.connect()).resolves.toBeUndefined();
    await after.disconnect();
  }, 480_000);
});
