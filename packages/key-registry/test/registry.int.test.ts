import { randomBytes } from "node:crypto";
import {
  dlqRecordSchema,
  dlqTopic,
  KEY_CHANGE_SIGNATURE_HEADER,
  type KeyChange,
  signKeyChange,
  topics,
} from "@apimon/events";
import { type BatchingProducer, createBatchingProducer, type KafkaClient, topicName } from "@apimon/kafka";
import { createMetricsRegistry, type Registry } from "@apimon/observability";
import {
  createTestTopics,
  type TestTopics,
  testKafka,
  testLogger,
  uniqueName,
  waitFor,
} from "@apimon/testkit";
import { createKeyRegistry, type KeyRegistry } from "../src";

const logger = testLogger("key-registry-test");
const keyChanges = topics.keyChanges;
let kafka: KafkaClient;
let producer: BatchingProducer;
let prefix: string;
let run: TestTopics;
const registries: KeyRegistry[] = [];

/** A clock the test moves by hand. */
let now = Date.now();
const clock = () => now;

function newHash(): string {
  return randomBytes(32).toString("hex");
}

let nextId = 1;
function keyState(overrides: Partial<KeyChange> = {}): KeyChange {
  return {
    id: nextId++,
    userId: 1,
    keyHash: newHash(),
    keyPrefix: "ak_abcdefgh",
    active: true,
    expiresAt: null,
    rateLimits: { minute: null, hour: null, day: null },
    updatedAt: new Date(now).toISOString(),
    ...overrides,
  };
}

/** Every key hash this file published, to compare whole tables. */
const everyHash = new Set<string>();

async function publish(...changes: KeyChange[]): Promise<void> {
  for (const c of changes) everyHash.add(c.keyHash);
  await Promise.all(changes.map((c) => producer.publish(keyChanges, c)));
}

async function tombstone(keyHash: string): Promise<void> {
  await producer.publish(keyChanges, null, { key: keyHash });
}

function registry(
  instanceId = uniqueName("edge"),
  options: { signingSecret?: string; registry?: Registry; lagCheckMs?: number; kafka?: KafkaClient } = {},
): KeyRegistry {
  const r = createKeyRegistry({ kafka, logger, topicPrefix: prefix, instanceId, clock, ...options });
  registries.push(r);
  return r;
}

/**
 * A client of its own, with a hand on the crash listeners of the consumers made through it: a
 * test can report a crash that kafkajs will not restart from, as it does after "Failed to find
 * group coordinator" while a broker shuts down (which no broker can be made to answer on demand).
 */
function withCrashes() {
  type Listener = (event: { payload: { error: Error; groupId: string; restart: boolean } }) => void;
  const listeners: Listener[] = [];
  const kafka = testKafka("registry-crashes");
  const makeConsumer = kafka.consumer.bind(kafka);
  kafka.consumer = (config) => {
    const consumer = makeConsumer(config);
    const on = consumer.on.bind(consumer) as (name: string, listener: Listener) => () => void;
    Object.assign(consumer, {
      on: (name: string, listener: Listener) => {
        if (name === consumer.events.CRASH) listeners.push(listener);
        return on(name, listener);
      },
    });
    return consumer;
  };
  return {
    kafka,
    /** Consumers made so far. */
    consumers: () => listeners.length,
    /** Reports a crash of the latest consumer that kafkajs will not restart from. */
    crash() {
      listeners.at(-1)?.({
        payload: { error: new Error("Failed to find group coordinator"), groupId: "", restart: false },
      });
    },
  };
}

beforeAll(async () => {
  run = await createTestTopics("registry", [keyChanges], { logger, withDlq: true });
  ({ kafka, prefix } = run);
  producer = createBatchingProducer({ kafka, logger, topicPrefix: prefix });
});

afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.stop()));
});

afterAll(async () => {
  await producer.disconnect();
  await run.cleanup();
});

describe("key registry on keys.changes.v1", () => {
  it("has every key the topic held when start() resolves, then follows changes live", async () => {
    now = Date.now();
    // Several states per key: the table keeps the last one.
    const keys = Array.from({ length: 300 }, () =>
      keyState({ rateLimits: { minute: 1, hour: null, day: null } }),
    );
    await publish(...keys);
    const latest = keys.map((k) => ({ ...k, rateLimits: { minute: 2, hour: 20, day: null } }));
    await publish(...latest);
    const deactivated = keyState({ active: false });
    const expired = keyState({ expiresAt: new Date(now - 1000).toISOString() });
    const deleted = keyState();
    await publish(deactivated, expired, deleted);
    await tombstone(deleted.keyHash);

    const edge = registry();
    expect(edge.isLoaded()).toBe(false);
    await edge.start();
    expect(edge.isLoaded()).toBe(true);
    // Nothing is awaited after start(): the table is complete the moment it resolves.
    expect(edge.size()).toBe(302);
    for (const k of latest) expect(edge.lookup(k.keyHash)).toEqual({ status: "active", key: k });
    expect(edge.lookup(deactivated.keyHash)).toEqual({
      status: "inactive",
      key: deactivated,
      reason: "deactivated",
    });
    expect(edge.lookup(expired.keyHash)).toEqual({ status: "inactive", key: expired, reason: "expired" });
    expect(edge.lookup(deleted.keyHash)).toEqual({ status: "unknown" });
    expect(edge.lookup(newHash())).toEqual({ status: "unknown" });

    // Live: deactivation.
    const target = latest[17] as KeyChange;
    await publish({ ...target, active: false });
    await waitFor(() => edge.lookup(target.keyHash).status === "inactive", {
      timeoutMs: 15_000,
      what: "deactivation",
    });
    expect(edge.lookup(target.keyHash)).toMatchObject({ status: "inactive", reason: "deactivated" });

    // Live: a new key, then its deletion (tombstone).
    const fresh = keyState();
    await publish(fresh);
    await waitFor(() => edge.lookup(fresh.keyHash).status === "active", {
      timeoutMs: 15_000,
      what: "new key",
    });
    await tombstone(fresh.keyHash);
    await waitFor(() => edge.lookup(fresh.keyHash).status === "unknown", {
      timeoutMs: 15_000,
      what: "tombstone",
    });
    expect(edge.size()).toBe(302);
  });

  it("expires keys by the clock, which is how a rotation's grace period ends", async () => {
    now = Date.now();
    const edge = registry();
    await edge.start();

    // Rotation: the old key keeps working for 2 s of grace, the new one from now on.
    const oldKey = keyState({ expiresAt: new Date(now + 2000).toISOString() });
    const newKey = keyState({ userId: oldKey.userId });
    await publish(oldKey, newKey);
    await waitFor(
      () =>
        edge.lookup(oldKey.keyHash).status === "active" && edge.lookup(newKey.keyHash).status === "active",
      {
        timeoutMs: 15_000,
        what: "both keys of the rotation",
      },
    );

    now += 2000;
    expect(edge.lookup(oldKey.keyHash)).toEqual({ status: "inactive", key: oldKey, reason: "expired" });
    expect(edge.lookup(newKey.keyHash)).toEqual({ status: "active", key: newKey });

    // A key given an expiry in the past is expired at once.
    const lapsed = keyState();
    await publish(lapsed);
    await waitFor(() => edge.lookup(lapsed.keyHash).status === "active", { timeoutMs: 15_000, what: "key" });
    await publish({ ...lapsed, expiresAt: new Date(now - 1).toISOString() });
    await waitFor(() => edge.lookup(lapsed.keyHash).status === "inactive", {
      timeoutMs: 15_000,
      what: "expiry",
    });
    expect(edge.lookup(lapsed.keyHash)).toMatchObject({ status: "inactive", reason: "expired" });
  });

  it("dead-letters malformed records and goes on", async () => {
    now = Date.now();
    const edge = registry();
    await edge.start();

    const before = keyState();
    const after = keyState();
    const impostor = keyState();
    // Idempotent: a retried send (the broker wrote it, its answer was lost) must not double the data.
    const raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await raw.connect();
    const name = topicName(keyChanges, prefix);
    await raw.send({
      topic: name,
      messages: [
        { key: before.keyHash, partition: 1, value: JSON.stringify(before) },
        { key: after.keyHash, partition: 1, value: "{not json" },
        { key: after.keyHash, partition: 1, value: JSON.stringify({ ...after, keyHash: "short" }) },
        // Valid by schema, but filed under another key: applying it would hand that key this state.
        { key: after.keyHash, partition: 1, value: JSON.stringify(impostor) },
        { key: after.keyHash, partition: 1, value: JSON.stringify(after) },
      ],
    });
    await raw.disconnect();

    await waitFor(() => edge.lookup(after.keyHash).status === "active", {
      timeoutMs: 15_000,
      what: "the record after",
    });
    expect(edge.lookup(before.keyHash)).toEqual({ status: "active", key: before });
    expect(edge.lookup(after.keyHash)).toEqual({ status: "active", key: after });
    expect(edge.lookup(impostor.keyHash)).toEqual({ status: "unknown" });
    expect(edge.isLoaded()).toBe(true);

    // The three bad records are in the DLQ with their reasons.
    const reasons: string[] = [];
    const reader = kafka.consumer({ groupId: uniqueName("dlq-reader"), maxWaitTimeInMs: 500 });
    await reader.connect();
    await reader.subscribe({ topic: topicName(dlqTopic(keyChanges), prefix), fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        const record = dlqRecordSchema.parse(JSON.parse(String(message.value)));
        if (record.key === after.keyHash) reasons.push(record.error);
      },
    });
    await waitFor(() => reasons.length >= 3, { timeoutMs: 20_000, what: "3 DLQ records" });
    await reader.disconnect();
    expect(reasons).toEqual([
      expect.stringMatching(/^invalid JSON/),
      expect.stringMatching(/^schema keys.changes.v1: keyHash/),
      "handler error: keys.changes.v1 message key differs from its keyHash",
    ]);
  });

  it("rebuilds the same table on restart, and every instance sees every key", async () => {
    now = Date.now();
    await publish(...Array.from({ length: 50 }, () => keyState()));
    const [idA, idB] = [uniqueName("edge-a"), uniqueName("edge-b")];
    const [a, b] = [registry(idA), registry(idB)];
    await Promise.all([a.start(), b.start()]);
    const table = (r: KeyRegistry) => [...everyHash].map((h) => r.lookup(h));
    expect(a.size()).toBeGreaterThanOrEqual(50);
    expect(table(b)).toEqual(table(a));

    // A change after both are up reaches both (each is alone in its own consumer group).
    const late = keyState();
    await publish(late);
    await waitFor(
      () => a.lookup(late.keyHash).status === "active" && b.lookup(late.keyHash).status === "active",
      { timeoutMs: 15_000, what: "the late key on both instances" },
    );

    const before = table(a);
    await a.stop();
    expect(a.isLoaded()).toBe(false);
    const restarted = registry(idA);
    await restarted.start();
    expect(table(restarted)).toEqual(before);
    expect(restarted.size()).toBe(a.size());
    expect(table(b)).toEqual(before);

    // The stopped instance's throwaway group is gone from the broker; the running one's is not.
    const admin = kafka.admin();
    await admin.connect();
    const { groups } = await admin.listGroups();
    await admin.disconnect();
    const ids = groups.map((g) => g.groupId);
    expect(ids.filter((g) => g.startsWith(`key-registry-${idA}-`))).toHaveLength(1);
    expect(ids.filter((g) => g.startsWith(`key-registry-${idB}-`))).toHaveLength(1);
  });

  it("fails start() when stop() comes first, and can be started again", async () => {
    const edge = registry();
    const starting = edge.start();
    await edge.stop();
    await expect(starting).rejects.toThrow("key registry stopped before it had read its topic to the end");
    expect(edge.isLoaded()).toBe(false);
    await edge.start();
    expect(edge.isLoaded()).toBe(true);
    expect(edge.size()).toBeGreaterThan(0);
  });

  it("answers from its table while a consumer kafkajs gave up on is replaced, then follows on", async () => {
    now = Date.now();
    const known = keyState();
    await publish(known);
    const client = withCrashes();
    const edge = registry(uniqueName("edge"), { kafka: client.kafka });
    await edge.start();
    expect(client.consumers()).toBe(1);
    await waitFor(() => edge.isFollowing(), { timeoutMs: 15_000, what: "the consumer in its group" });

    client.crash();
    // The consumer runner replaces the consumer after a second; the table serves meanwhile.
    expect(edge.isFollowing()).toBe(false);
    expect(edge.isLoaded()).toBe(true);
    expect(edge.lookup(known.keyHash)).toEqual({ status: "active", key: known });
    await waitFor(() => client.consumers() === 2, { timeoutMs: 15_000, what: "a replacement consumer" });
    await waitFor(() => edge.isFollowing(), { timeoutMs: 15_000, what: "the replacement in its group" });
    expect(edge.isLoaded()).toBe(true);

    // The replacement follows the topic: a later change reaches the table, which still holds
    // everything it held.
    const size = edge.size();
    const later = keyState();
    await publish(later);
    await waitFor(() => edge.lookup(later.keyHash).status === "active", {
      timeoutMs: 30_000,
      what: "a change read by the replacement",
    });
    expect(edge.lookup(known.keyHash)).toEqual({ status: "active", key: known });
    expect(edge.size()).toBe(size + 1);
  });

  it("with a signing secret, applies signed changes and drops forged or unsigned ones, counting them", async () => {
    now = Date.now();
    const secret = "registry-signing-secret-0123456789abcdef";
    const metrics = createMetricsRegistry("registry_test", { defaultMetrics: false });
    const edge = registry(uniqueName("edge"), { signingSecret: secret, registry: metrics });
    const rejected = async () => {
      const counted = await metrics.getSingleMetric("key_registry_rejected_changes_total")?.get();
      const by = Object.fromEntries((counted?.values ?? []).map((v) => [v.labels.reason, v.value]));
      return { missing: by.missing ?? 0, invalid: by.invalid ?? 0 };
    };
    await edge.start();
    // The earlier tests' unsigned changes on this topic were dropped while loading.
    const before = await rejected();

    const signed = keyState();
    const forged = keyState();
    const foreign = keyState();
    const deactivated = keyState();
    const signature = (k: KeyChange | null, hash: string, key = secret) => ({
      [KEY_CHANGE_SIGNATURE_HEADER]: signKeyChange(key, hash, k),
    });
    const raw = kafka.producer();
    await raw.connect();
    await raw.send({
      topic: topicName(keyChanges, prefix),
      messages: [
        { key: signed.keyHash, value: JSON.stringify(signed), headers: signature(signed, signed.keyHash) },
        {
          key: deactivated.keyHash,
          value: JSON.stringify(deactivated),
          headers: signature(deactivated, deactivated.keyHash),
        },
        // Forged: an activation without a signature, one signed with another secret, and an
        // unsigned tombstone and a raised limit for keys that hold signed states.
        { key: forged.keyHash, value: JSON.stringify(forged) },
        {
          key: foreign.keyHash,
          value: JSON.stringify(foreign),
          headers: signature(foreign, foreign.keyHash, "another-secret-0123456789abcdef"),
        },
        { key: signed.keyHash, value: null },
        {
          key: deactivated.keyHash,
          value: JSON.stringify({
            ...deactivated,
            active: true,
            rateLimits: { minute: 1e6, hour: null, day: null },
          }),
          headers: signature(deactivated, deactivated.keyHash),
        },
      ],
    });
    // A signed deactivation after the forgeries shows they were all read.
    const off = { ...deactivated, active: false };
    await raw.send({
      topic: topicName(keyChanges, prefix),
      messages: [{ key: off.keyHash, value: JSON.stringify(off), headers: signature(off, off.keyHash) }],
    });
    await raw.disconnect();

    await waitFor(() => edge.lookup(deactivated.keyHash).status === "inactive", {
      timeoutMs: 15_000,
      what: "the signed deactivation",
    });
    expect(edge.lookup(signed.keyHash)).toEqual({ status: "active", key: signed });
    expect(edge.lookup(forged.keyHash)).toEqual({ status: "unknown" });
    expect(edge.lookup(foreign.keyHash)).toEqual({ status: "unknown" });
    expect(await rejected()).toEqual({ missing: before.missing + 2, invalid: before.invalid + 2 });
  });

  it("reports how far behind its topic the table may be, from end offsets it reads periodically", async () => {
    now = Date.now();
    const edge = registry(uniqueName("edge"), { lagCheckMs: 50 });
    expect(edge.lagMs()).toBeNull();
    await edge.start();
    expect(edge.lagMs()).toBe(0);
    // By the clock, a minute passes without a reading...
    now += 60_000;
    const stale = edge.lagMs();
    // ...and the next reading, with the table at the end of the topic, brings the lag back to 0.
    await waitFor(() => edge.lagMs() === 0, { timeoutMs: 15_000, what: "a lag reading" });
    expect(stale).toBeGreaterThan(0);
    await edge.stop();
    expect(edge.isLoaded()).toBe(false);
  });
});
