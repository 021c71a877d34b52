import { randomBytes } from "node:crypto";
import { KEY_CHANGE_SIGNATURE_HEADER, type KeyChange, topics, verifyKeyChange } from "@apimon/events";
import {
  type ConsumedMessage,
  type ConsumerProgress,
  type ConsumerRunner,
  createConsumerRunner,
  deleteConsumerGroups,
  fetchEndOffsets,
  type KafkaClient,
  subscription,
  topicName,
} from "@apimon/kafka";
import { counter, createPeriodicTask, gauge, type Logger, type Registry } from "@apimon/observability";
import { keyStatus, type LookupResult, type RegistryEntry, registryEntry } from "./key-status";

export interface KeyRegistryOptions {
  kafka: KafkaClient;
  logger: Logger;
  /** Prefix of the topic names (empty in production, unique per test run). */
  topicPrefix?: string;
  /** Names this process in its consumer group id (e.g. the edge instance). */
  instanceId: string;
  /** ms since the epoch; decides expiry at lookup time. */
  clock?: () => number;
  /** Prometheus registry for the registry's and its consumer's metrics. */
  registry?: Registry;
  /** Messages per handler call and offset commit (the initial load reads whole fetches at once). */
  maxBatchSize?: number;
  /**
   * The keys service's KEY_CHANGES_SIGNING_SECRET: with it, a change whose signature is missing
   * or wrong is dropped (counted and logged); without it every change is applied.
   */
  signingSecret?: string;
  /** How often the topic's end offsets are read to measure how current the table is. */
  lagCheckMs?: number;
}

export interface KeyRegistry {
  /**
   * Reads keys.changes.v1 from the beginning and resolves once every partition was read up to
   * its end as of this call; keeps following the topic afterwards. Rejects if stop() comes first.
   */
  start(): Promise<void>;
  /** Stops following the topic (the table keeps its last state) and deletes the throwaway group. */
  stop(): Promise<void>;
  /**
   * Read to the end once since start(), until stop(). The table answers from then on whatever
   * becomes of the consumer behind it (a broker restart, a consumer replaced): how stale it may
   * be is lagMs().
   */
  isLoaded(): boolean;
  /**
   * The consumer behind the table is running in its group: false before start(), after stop(),
   * and while kafkajs restarts a consumer or a crashed one is replaced. For operators; whether
   * the table may serve is isLoaded() and lagMs().
   */
  isFollowing(): boolean;
  /** Keys in the table (deactivated and expired ones included; deleted ones not). */
  size(): number;
  /** The status of a key hash now (by the clock): active, inactive (deactivated/expired) or unknown. */
  lookup(keyHash: string): LookupResult;
  /**
   * How stale the table may be, in ms by the clock: the time since the last moment the table
   * was seen to hold everything the topic held (the end offsets read every lagCheckMs). Grows
   * while the consumer is stuck or Kafka cannot be reached; null before the first load.
   */
  lagMs(): number | null;
}

/**
 * The in-memory table of API keys that the edge authenticates against, built from the
 * compacted keys.changes.v1 topic (key hash → latest state; a tombstone deletes it).
 *
 * Every start reads the whole topic again, in a consumer group of its own
 * (`key-registry-<instanceId>-<random>`): being alone in its group, the instance is assigned
 * every partition, so every edge holds every key, and no committed offset of an earlier run
 * can make it skip a key. Offsets are still committed by the runner (cheap at this slice size)
 * and the group is deleted on stop().
 */
export function createKeyRegistry({
  kafka,
  logger,
  topicPrefix = "",
  instanceId,
  clock = Date.now,
  registry,
  maxBatchSize = 5000,
  signingSecret,
  lagCheckMs = 5000,
}: KeyRegistryOptions): KeyRegistry {
  const topic = topicName(topics.keyChanges, topicPrefix);
  const log = logger.child({ component: "key-registry", topic });
  const table = new Map<string, RegistryEntry>();
  const keysGauge = gauge(registry, "key_registry_keys", "Keys in the in-memory key registry");
  const readyGauge = gauge(
    registry,
    "key_registry_ready",
    "1 once the key registry has read its topic to the end",
  );

  const rejected = counter(
    registry,
    "key_registry_rejected_changes_total",
    "Key changes dropped because their signature was missing or wrong",
    ["reason"],
  );

  let runner: ConsumerRunner | undefined;
  /** Between start() and stop(). */
  let active = false;
  /** Bumped by every start and stop, so a start can tell that a stop overtook it. */
  let generations = 0;
  let groupId = "";
  let loaded = false;
  /** Partitions not yet read up to their end offset as of start(), with that offset. */
  let behind = new Map<number, bigint>();
  let settleLoad: { resolve: () => void; reject: (error: Error) => void } | undefined;
  /** The next offset to apply per partition, as the runner reports progress. */
  const positions = new Map<number, bigint>();
  /** When (by the clock) the table last held everything the topic held. */
  let caughtUpAt: number | undefined;
  /** An end-offset reading the table has not reached yet: caught up as of `at` once it does. */
  let pendingCheck: { at: number; ends: Map<number, bigint> } | undefined;

  function finishLoad(): void {
    if (loaded) return;
    loaded = true;
    readyGauge.set(1);
    settleLoad?.resolve();
    settleLoad = undefined;
  }

  function apply(messages: ConsumedMessage<KeyChange | null>[]): void {
    // Checked for the whole slice before anything is applied: a bad message makes the runner
    // rerun the slice one message at a time and dead-letter only that one.
    for (const m of messages) {
      if (m.key === null) throw new Error("keys.changes.v1 message without a key");
      // An entry stored under another hash would let that key's holder in with this key's state.
      if (m.value !== null && m.value.keyHash !== m.key) {
        throw new Error("keys.changes.v1 message key differs from its keyHash");
      }
    }
    for (const m of messages) {
      const hash = m.key as string;
      if (signingSecret !== undefined) {
        const raw = m.raw === undefined ? (m.value === null ? null : JSON.stringify(m.value)) : m.raw;
        const check = verifyKeyChange(
          signingSecret,
          hash,
          raw === null ? null : raw.toString("utf8"),
          m.headers[KEY_CHANGE_SIGNATURE_HEADER],
        );
        if (check !== "valid") {
          // Dropped, not dead-lettered: the DLQ is for messages to fix and replay, and a forged
          // change must never be applied. The next signed change of the key overwrites it.
          rejected.inc({ reason: check });
          log.warn(
            { partition: m.partition, offset: m.offset, keyHash: hash, reason: check },
            "dropped a key change whose signature is not valid",
          );
          continue;
        }
      }
      if (m.value === null) table.delete(hash);
      else table.set(hash, registryEntry(m.value));
    }
    keysGauge.set(table.size);
  }

  /** True when the table has applied every partition up to `ends`. */
  function reached(ends: Map<number, bigint>): boolean {
    for (const [partition, end] of ends) if ((positions.get(partition) ?? 0n) < end) return false;
    return true;
  }

  async function checkLag(): Promise<void> {
    if (pendingCheck !== undefined || !loaded) return;
    const at = clock();
    try {
      const ends = await fetchEndOffsets(kafka, topic);
      const check = {
        at,
        ends: new Map(ends.filter((p) => p.high > p.low).map((p) => [p.partition, p.high])),
      };
      if (reached(check.ends)) caughtUpAt = Math.max(caughtUpAt ?? at, at);
      else pendingCheck = check;
    } catch (error) {
      // The lag keeps growing from the last good reading, which is what readiness should see.
      log.warn({ err: error }, "could not read the key topic's end offsets");
    }
  }

  const lagChecks = createPeriodicTask({
    name: "key registry lag check",
    logger: log,
    intervalMs: lagCheckMs,
    run: checkLag,
  });

  function progress({ partition, nextOffset }: ConsumerProgress): void {
    positions.set(partition, BigInt(nextOffset));
    if (pendingCheck !== undefined && reached(pendingCheck.ends)) {
      caughtUpAt = Math.max(caughtUpAt ?? pendingCheck.at, pendingCheck.at);
      pendingCheck = undefined;
    }
    const end = behind.get(partition);
    if (end === undefined || BigInt(nextOffset) < end) return;
    behind.delete(partition);
    if (behind.size === 0) finishLoad();
  }

  async function start(): Promise<void> {
    if (active) throw new Error("key registry already started");
    active = true;
    const generation = ++generations;
    const stopped = () => generation !== generations;
    const startedAt = Date.now();
    const readAt = clock();
    table.clear();
    positions.clear();
    caughtUpAt = undefined;
    pendingCheck = undefined;
    keysGauge.set(0);
    loaded = false;
    readyGauge.set(0);
    const load = new Promise<void>((resolve, reject) => {
      settleLoad = { resolve, reject };
    });
    // Observed below; this only keeps a rejection before that point from going unhandled.
    load.catch(() => {});
    groupId = `key-registry-${instanceId}-${randomBytes(4).toString("hex")}`;
    try {
      // The end offsets before reading anything: "ready" means at least this much was applied.
      // Empty partitions (high = low) have nothing to wait for.
      const ends = await fetchEndOffsets(kafka, topic);
      if (stopped()) await load; // rejected by stop()
      behind = new Map(ends.filter((p) => p.high > p.low).map((p) => [p.partition, p.high]));
      const current = createConsumerRunner({
        kafka,
        groupId,
        logger,
        topicPrefix,
        subscriptions: [subscription(topics.keyChanges, async (messages) => apply(messages))],
        fromBeginning: true,
        maxBatchSize,
        registry,
        onProgress: progress,
      });
      runner = current;
      await current.start();
      if (stopped()) {
        // stop() ran while the consumer was starting up: make sure it is down, then fail.
        await current.stop();
        await load;
      }
      if (behind.size === 0) finishLoad();
      await load;
      // Loaded means everything the topic held when start() read its end offsets.
      caughtUpAt = readAt;
      await lagChecks.start();
      log.info(
        { groupId, keys: table.size, partitions: ends.length, ms: Date.now() - startedAt },
        "key registry loaded",
      );
    } catch (error) {
      // A failed start leaves nothing running; stop() cleans up after itself instead.
      if (!stopped()) await stop().catch(() => {});
      throw error;
    }
  }

  async function stop(): Promise<void> {
    generations++;
    active = false;
    loaded = false;
    readyGauge.set(0);
    settleLoad?.reject(new Error("key registry stopped before it had read its topic to the end"));
    settleLoad = undefined;
    await lagChecks.stop();
    const current = runner;
    runner = undefined;
    if (!current) return;
    await current.stop();
    const left = await deleteConsumerGroups(kafka, [groupId]).catch((error: unknown) => {
      log.warn({ err: error, groupId }, "could not delete the registry's consumer group");
      return [];
    });
    if (left.length > 0) log.warn({ groupId }, "the registry's consumer group was not deleted");
  }

  return {
    start,
    stop,
    isLoaded: () => loaded,
    isFollowing: () => runner?.isHealthy() ?? false,
    size: () => table.size,
    lookup: (keyHash) => keyStatus(table.get(keyHash), clock()),
    lagMs: () => (caughtUpAt === undefined ? null : Math.max(0, clock() - caughtUpAt)),
  };
}
