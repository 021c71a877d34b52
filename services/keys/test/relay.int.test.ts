import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import type { ApiKey, Prisma, PrismaClient } from "@apimon/db";
import {
  KEY_CHANGE_SIGNATURE_HEADER,
  type KeyChange,
  keyChangeSigner,
  topics,
  verifyKeyChange,
} from "@apimon/events";
import {
  type BatchingProducer,
  createBatchingProducer,
  createConsumerRunner,
  createKafka,
  type KafkaClient,
  subscription,
} from "@apimon/kafka";
import { createMetricsRegistry } from "@apimon/observability";
import { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from "@apimon/outbox";
import {
  type ControlledBroker,
  createTestDatabase,
  createTestTopics,
  metricValue,
  privateBroker,
  readToEnd,
  type TestDatabase,
  type TestTopics,
  TSX_NODE_ARGS,
  testInfra,
  testLogger,
  uniqueName,
  waitFor,
} from "@apimon/testkit";
import { enqueueAllKeyStates, enqueueKeyState, enqueueKeyTombstone } from "../src/outbox";

const repo = path.join(__dirname, "..", "..", "..");
const logger = testLogger("relay-test");
const keyChanges = topics.keyChanges;

let db: TestDatabase;
let prisma: PrismaClient;
const relays: OutboxRelay[] = [];
const producers: BatchingProducer[] = [];
const runs: TestTopics[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = db.prisma;
});

afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.stop()));
  await Promise.all(producers.splice(0).map((p) => p.disconnect().catch(() => {})));
  await prisma.outbox.deleteMany();
});

afterAll(async () => {
  for (const run of runs) await run.cleanup();
  await db?.drop();
});

/** A fresh keys.changes.v1 under its own prefix on a broker. */
async function freshTopic(kafka: KafkaClient): Promise<string> {
  const run = await createTestTopics("relay", [keyChanges], { kafka, logger });
  runs.push(run);
  return run.prefix;
}

async function createKeys(count: number): Promise<ApiKey[]> {
  const user = await prisma.user.create({ data: { email: `${uniqueName("u")}@example.com`, name: "Ada" } });
  await prisma.apiKey.createMany({
    data: Array.from({ length: count }, (_, i) => ({
      userId: user.id,
      name: `key ${i}`,
      keyHash: randomBytes(32).toString("hex"),
      keyPrefix: "ak_abcdefgh",
    })),
  });
  return prisma.apiKey.findMany({ where: { userId: user.id }, orderBy: { id: "asc" } });
}

/** What a consumer sees of one change: `m<n>` for a state with minute limit n, `T` for a tombstone. */
type Label = string;
const labelOf = (value: KeyChange | null): Label => (value === null ? "T" : `m${value.rateLimits.minute}`);

/** The changes written per key hash, in write order. */
type Written = Map<string, Label[]>;

/**
 * Writes `perKey` changes for every key through the outbox helpers, keys interleaved at random,
 * in transactions of `perTransaction` rows. Every third key ends deleted (a tombstone).
 */
async function writeChanges(keys: ApiKey[], perKey: number, written: Written, perTransaction = 250) {
  const counters = new Map<string, number>();
  const queue = keys.flatMap((k) => Array.from({ length: perKey }, () => k));
  for (let i = queue.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [queue[i], queue[j]] = [queue[j] as ApiKey, queue[i] as ApiKey];
  }
  for (let start = 0; start < queue.length; start += perTransaction) {
    const slice = queue.slice(start, start + perTransaction);
    const labels: [string, Label][] = [];
    await prisma.$transaction(
      async (tx) => {
        for (const key of slice) {
          const n = (counters.get(key.keyHash) ?? 0) + 1;
          counters.set(key.keyHash, n);
          const last = n === perKey;
          if (last && key.id % 3 === 0) {
            await enqueueKeyTombstone(tx, key.keyHash);
            labels.push([key.keyHash, "T"]);
          } else {
            await enqueueKeyState(tx, { ...key, rateLimitMinute: n, isActive: n % 2 === 1 });
            labels.push([key.keyHash, `m${n}`]);
          }
        }
      },
      { timeout: 60_000 },
    );
    // Recorded after the commit, in the order the rows were written.
    for (const [hash, label] of labels) written.set(hash, [...(written.get(hash) ?? []), label]);
  }
}

/** Everything on the topic (as of now), per key in offset order. */
async function readTopic(
  kafka: KafkaClient,
  prefix: string,
): Promise<{ perKey: Map<string, Label[]>; total: number }> {
  const messages = await readToEnd(kafka, prefix, keyChanges, { logger });
  const perKey = new Map<string, Label[]>();
  for (const m of messages) {
    const key = m.key ?? "";
    perKey.set(key, [...(perKey.get(key) ?? []), labelOf(m.value)]);
  }
  return { perKey, total: messages.length };
}

/** Per key, the topic's sequence with repeats collapsed must be exactly the written sequence. */
function expectInOrder(perKey: Map<string, Label[]>, written: Written): number {
  let duplicates = 0;
  expect([...perKey.keys()].sort()).toEqual([...written.keys()].sort());
  for (const [hash, labels] of written) {
    const got = perKey.get(hash) ?? [];
    const collapsed = got.filter((l, i) => i === 0 || l !== got[i - 1]);
    duplicates += got.length - collapsed.length;
    expect({ hash, sequence: collapsed }).toEqual({ hash, sequence: labels });
  }
  return duplicates;
}

const countRows = (where: Prisma.OutboxWhereInput = {}) => prisma.outbox.count({ where });
const unpublishedRows = () => countRows({ publishedAt: null });

/** Waits until the relay has marked every outbox row published. */
const everyRowMarked = (timeoutMs = 60_000) =>
  waitFor(async () => (await unpublishedRows()) === 0, { timeoutMs, what: "every row marked" });

function relay(kafka: KafkaClient, prefix: string, options: Partial<OutboxRelayOptions> = {}) {
  const registry = createMetricsRegistry("keys", { defaultMetrics: false });
  const producer = createBatchingProducer({ kafka, logger, topicPrefix: prefix });
  producers.push(producer);
  const r = createOutboxRelay({
    prisma,
    producer,
    logger,
    registry,
    pollMs: 50,
    topicPrefix: prefix,
    ...options,
  });
  relays.push(r);
  return { relay: r, registry };
}

describe("outbox relay", () => {
  let kafka: KafkaClient;

  beforeAll(() => {
    kafka = createKafka({ brokers: testInfra.kafkaBrokers, clientId: "relay-int", logger });
  });

  it("publishes outbox rows to keys.changes.v1 in order per key, once each, with one publisher among replicas", async () => {
    const prefix = await freshTopic(kafka);
    const keys = await createKeys(30);
    const written: Written = new Map();
    await writeChanges(keys, 10, written);
    const rows = await countRows();
    expect(rows).toBe(300);

    // Two replicas on one database: the advisory lock lets one publish at a time.
    const [a, b] = [relay(kafka, prefix, { batchSize: 40 }), relay(kafka, prefix, { batchSize: 40 })];
    await Promise.all([a.relay.start(), b.relay.start()]);
    await everyRowMarked();

    const { perKey, total } = await readTopic(kafka, prefix);
    // No failure, so no repeat: the lock kept the replicas from publishing a row twice.
    expect(total).toBe(rows);
    expect(expectInOrder(perKey, written)).toBe(0);
    const publishedTotal =
      (await metricValue(a.registry, "outbox_relay_published_total", { topic: keyChanges.name })) +
      (await metricValue(b.registry, "outbox_relay_published_total", { topic: keyChanges.name }));
    expect(publishedTotal).toBe(rows);
    await waitFor(async () => (await metricValue(a.registry, "outbox_relay_unpublished")) === 0, {
      what: "backlog gauge at 0",
    });
    expect(a.relay.isHealthy() && b.relay.isHealthy()).toBe(true);

    // Tombstones went out as null values under the key hash.
    const deleted = keys.filter((k) => k.id % 3 === 0).map((k) => k.keyHash);
    expect(deleted.length).toBeGreaterThan(0);
    for (const hash of deleted) expect(perKey.get(hash)?.at(-1)).toBe("T");
  });

  it("signs what it publishes, and every key's state can be enqueued again to be signed", async () => {
    const prefix = await freshTopic(kafka);
    const secret = "relay-signing-secret-0123456789abcdef";
    await createKeys(5);
    const keyCount = await prisma.apiKey.count();
    expect(await enqueueAllKeyStates(prisma, { chunkSize: 2 })).toBe(keyCount);
    expect(await countRows()).toBe(keyCount);
    const { relay: r } = relay(kafka, prefix, { sign: keyChangeSigner(secret) });
    await r.start();
    await everyRowMarked();

    const checks: string[] = [];
    const runner = createConsumerRunner({
      kafka,
      groupId: uniqueName("signature-reader"),
      logger,
      topicPrefix: prefix,
      subscriptions: [
        subscription(keyChanges, async (messages) => {
          for (const m of messages) {
            const raw = m.raw === undefined || m.raw === null ? null : m.raw.toString("utf8");
            checks.push(verifyKeyChange(secret, m.key ?? "", raw, m.headers[KEY_CHANGE_SIGNATURE_HEADER]));
          }
        }),
      ],
    });
    await runner.start();
    try {
      await waitFor(() => checks.length >= keyCount, { timeoutMs: 60_000, what: `${keyCount} messages` });
    } finally {
      await runner.stop();
    }
    expect(checks).toEqual(Array.from({ length: keyCount }, () => "valid"));
  });

  it("publishes only its own topics: another service's relay on the same outbox leaves key changes to this one", async () => {
    const prefix = await freshTopic(kafka);
    const keys = await createKeys(3);
    await writeChanges(keys, 2, new Map());
    const rows = await unpublishedRows();
    expect(rows).toBe(6);
    // The alerts service's relay shares the table (and the lock) but publishes notifications only.
    const { relay: other } = relay(kafka, prefix, { topics: [topics.notifications] });
    expect(await other.runOnce()).toBe(0);
    expect(await unpublishedRows()).toBe(rows);
    const { relay: own } = relay(kafka, prefix, { topics: [keyChanges] });
    let published = 0;
    for (let n = await own.runOnce(); n > 0; n = await own.runOnce()) published += n;
    expect(published).toBe(rows);
    expect(await unpublishedRows()).toBe(0);
  });

  it("finds an empty outbox with one count, without a transaction or the lock, and publishes what is written next", async () => {
    const prefix = await freshTopic(kafka);
    let transactions = 0;
    const counting = new Proxy(prisma, {
      get(target, property, receiver) {
        if (property !== "$transaction") return Reflect.get(target, property, receiver);
        return (...args: Parameters<typeof prisma.$transaction>) => {
          transactions++;
          return (target.$transaction as (...a: unknown[]) => unknown)(...args);
        };
      },
    });
    const { relay: idle, registry } = relay(kafka, prefix, { prisma: counting });
    for (let i = 0; i < 3; i++) expect(await idle.runOnce()).toBe(0);
    expect(transactions).toBe(0);
    expect(await metricValue(registry, "outbox_relay_unpublished")).toBe(0);

    const keys = await createKeys(2);
    await writeChanges(keys, 1, new Map());
    expect(await idle.runOnce()).toBe(2);
    expect(transactions).toBe(1);
    expect(await unpublishedRows()).toBe(0);
    expect((await readTopic(kafka, prefix)).total).toBe(2);
  });

  it("leaves rows of unknown topics alone, and holds back only the key of an invalid row until it is fixed", async () => {
    const prefix = await freshTopic(kafka);
    const [good, bad] = await createKeys(2);
    if (!good || !bad) throw new Error("keys missing");
    const written: Written = new Map();
    await prisma.outbox.create({ data: { topic: "keys.changes.v9", messageKey: "x", payload: { any: 1 } } });
    const broken = await prisma.outbox.create({
      data: { topic: keyChanges.name, messageKey: bad.keyHash, payload: { keyHash: bad.keyHash } },
    });
    await writeChanges([bad, good], 2, written);

    const { relay: r, registry } = relay(kafka, prefix, { holdRecheckMs: 200 });
    await r.start();
    await waitFor(async () => (await countRows({ messageKey: good.keyHash, publishedAt: null })) === 0, {
      timeoutMs: 30_000,
      what: "the good key's rows",
    });
    expect(await countRows({ messageKey: bad.keyHash, publishedAt: null })).toBe(3);
    await waitFor(async () => (await metricValue(registry, "outbox_relay_unroutable")) === 1, {
      what: "the unroutable row counted",
    });
    // Through several rechecks (every 200 ms here) the key stays held, and the gauge says so
    // throughout: it does not dip while the row is read again.
    const seen = new Set<number>();
    for (const until = Date.now() + 1_000; Date.now() < until; ) {
      seen.add(await metricValue(registry, "outbox_relay_held_keys"));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect([...seen]).toEqual([1]);
    expect(await metricValue(registry, "outbox_relay_errors_total", { kind: "invalid_row" })).toBeGreaterThan(
      0,
    );
    expect(r.isHealthy()).toBe(true);

    // An operator repairs the row: the held key's changes follow, in order.
    await prisma.outbox.update({
      where: { id: broken.id },
      data: {
        payload: keyChanges.schema.parse({
          id: bad.id,
          userId: bad.userId,
          keyHash: bad.keyHash,
          keyPrefix: bad.keyPrefix,
          active: true,
          expiresAt: null,
          rateLimits: { minute: 100, hour: null, day: null },
          updatedAt: new Date().toISOString(),
        }) as Prisma.InputJsonObject,
      },
    });
    written.set(bad.keyHash, ["m100", ...(written.get(bad.keyHash) ?? [])]);
    await waitFor(async () => (await countRows({ topic: keyChanges.name, publishedAt: null })) === 0, {
      timeoutMs: 30_000,
      what: "the repaired key's rows",
    });
    const { perKey } = await readTopic(kafka, prefix);
    expectInOrder(perKey, written);
    expect(await countRows({ topic: "keys.changes.v9", publishedAt: null })).toBe(1);
  });

  it("retries from the oldest unpublished row when its database connections are cut mid-stream", async () => {
    const prefix = await freshTopic(kafka);
    const written: Written = new Map();
    await writeChanges(await createKeys(40), 25, written);
    const rows = await countRows();
    const { relay: r, registry } = relay(kafka, prefix, {
      batchSize: 30,
      retry: { initialMs: 50, maxMs: 200 },
    });
    await r.start();
    for (const cutAt of [200, 500, 800]) {
      await waitFor(async () => rows - (await unpublishedRows()) >= cutAt, {
        timeoutMs: 60_000,
        what: `${cutAt} rows`,
      });
      // Every other connection to the test database, the relay's included (it shares this pool),
      // once the relay's batch holds its transaction open (waiting for Kafka's acks): a cut
      // between two batches would fail nothing.
      await waitFor(
        async () => {
          const [cut] = await prisma.$queryRaw<{ n: number }[]>`
            WITH cut AS (
              SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid()
                AND EXISTS (
                  SELECT 1 FROM pg_stat_activity
                  WHERE datname = current_database() AND state = 'idle in transaction'))
            SELECT count(*)::int AS n FROM cut`;
          return (cut?.n ?? 0) > 0;
        },
        { timeoutMs: 30_000, intervalMs: 1, what: "the relay inside a batch" },
      );
    }
    await everyRowMarked();
    const { perKey, total } = await readTopic(kafka, prefix);
    expect(total).toBeGreaterThanOrEqual(rows);
    expectInOrder(perKey, written);
    expect(await metricValue(registry, "outbox_relay_errors_total", { kind: "database" })).toBeGreaterThan(0);
    await waitFor(() => r.isHealthy(), { what: "the relay healthy again" });
  });

  it("prunes published rows older than the retention", async () => {
    const prefix = await freshTopic(kafka);
    const written: Written = new Map();
    await writeChanges(await createKeys(3), 2, written);
    const { relay: r } = relay(kafka, prefix);
    while ((await r.runOnce()) > 0);
    expect(await countRows()).toBe(6);
    await r.runOnce(); // idle again, within the retention: nothing to prune
    expect(await countRows()).toBe(6);

    const later = relay(kafka, prefix, { clock: () => Date.now() + 8 * 86_400_000 });
    await later.relay.runOnce();
    expect(await countRows()).toBe(0);
  });

  it("loses and reorders nothing when the relay process is killed mid-stream and restarted", async () => {
    const prefix = await freshTopic(kafka);
    const keys = await createKeys(100);
    const written: Written = new Map();
    await writeChanges(keys, 30, written, 500);
    const rows = await countRows();
    expect(rows).toBe(3000);

    const children: ChildProcess[] = [];
    let childOutput = "";
    const startChild = () => {
      // node itself with tsx's loader, not the tsx CLI: the CLI runs the script in a second
      // process, which a SIGKILL of the CLI would leave running.
      const child = spawn(
        process.execPath,
        [...TSX_NODE_ARGS, path.join(__dirname, "relay-crash-child.ts")],
        {
          cwd: repo,
          env: {
            ...process.env,
            DATABASE_URL: db.url,
            KAFKA_BROKERS: testInfra.kafkaBrokers.join(","),
            TOPIC_PREFIX: prefix,
            RELAY_BATCH_SIZE: "60",
          },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      child.stdout?.on("data", (d) => {
        childOutput += d;
      });
      child.stderr?.on("data", (d) => {
        childOutput += d;
      });
      children.push(child);
      return new Promise<NodeJS.Signals | null>((resolve) =>
        child.once("exit", (_code, signal) => resolve(signal)),
      );
    };
    const publishedRows = async () => rows - (await unpublishedRows());

    try {
      // Killed twice, without warning, while it works through the backlog.
      for (const killAt of [500, 1500]) {
        const exited = startChild();
        const child = children.at(-1) as ChildProcess;
        await waitFor(async () => (await publishedRows()) >= killAt, {
          timeoutMs: 90_000,
          what: `${killAt} rows published`,
        });
        child.kill("SIGKILL");
        expect(await exited).toBe("SIGKILL");
        expect(childOutput).toContain("relay started");
        expect(await publishedRows()).toBeLessThan(rows);
      }
    } finally {
      for (const child of children)
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }

    // A new relay takes over from the oldest unpublished row.
    const { relay: r } = relay(kafka, prefix);
    await r.start();
    await everyRowMarked(90_000);
    const { perKey, total } = await readTopic(kafka, prefix);
    expect(total).toBeGreaterThanOrEqual(rows);
    expectInOrder(perKey, written);
  });
});

describe("outbox relay through a Kafka outage", () => {
  let broker: ControlledBroker | undefined;

  beforeAll(async () => {
    // A private broker (own runtime dir, free ports, small heap), so stopping it harms no one.
    broker = await privateBroker("relay-kafka");
    broker.control("start");
  }, 180_000);

  afterAll(() => broker?.dispose(), 60_000);

  it("keeps changes written while Kafka is down and publishes them in order when it is back", async () => {
    if (!broker) throw new Error("the private broker did not start");
    const kafka = broker.impatientClient("relay-outage", logger);
    // No cleanup: the private broker is removed with its topics.
    const { prefix } = await createTestTopics("outage", [keyChanges], { kafka, logger });
    const keys = await createKeys(20);
    const written: Written = new Map();
    const { relay: r, registry } = relay(kafka, prefix, {
      retry: { initialMs: 100, maxMs: 1000 },
      unhealthyAfterFailures: 2,
    });
    await r.start();

    await writeChanges(keys, 5, written);
    await waitFor(async () => (await unpublishedRows()) === 0, {
      timeoutMs: 60_000,
      what: "rows before the outage",
    });

    broker?.control("stop");
    await writeChanges(keys, 20, written);
    await waitFor(() => !r.isHealthy(), { timeoutMs: 60_000, what: "the relay to report unhealthy" });
    await waitFor(async () => (await metricValue(registry, "outbox_relay_unpublished")) > 0, {
      timeoutMs: 30_000,
      what: "a backlog in the gauge",
    });
    expect(await metricValue(registry, "outbox_relay_errors_total", { kind: "kafka" })).toBeGreaterThan(0);
    expect(await unpublishedRows()).toBeGreaterThan(0);

    broker?.control("start");
    await waitFor(async () => (await unpublishedRows()) === 0, {
      timeoutMs: 120_000,
      what: "the backlog published",
    });
    await waitFor(
      async () => (await metricValue(registry, "outbox_relay_unpublished")) === 0 && r.isHealthy(),
      {
        timeoutMs: 30_000,
        what: "the gauge drained and the relay healthy",
      },
    );

    const { perKey, total } = await readTopic(kafka, prefix);
    expect(total).toBeGreaterThanOrEqual(20 * 25);
    expectInOrder(perKey, written);
  }, 300_000);
});
