import { type TopicSpec, topics } from "@apimon/events";
import type { BatchingProducer } from "@apimon/kafka";
import type { Logger, Registry } from "@apimon/observability";
import { counter, createPeriodicTask, gauge } from "@apimon/observability";
import { backoffMs, planBatch, streamOf } from "./batch";

/**
 * The advisory lock that makes one relay the publisher of a database's outbox, across every
 * replica of every service that runs one (keys, alerts). The value is the one the keys
 * service's own relay used, so an older keys build and this relay still exclude each other.
 * (The migration runner uses 72707369.)
 */
export const OUTBOX_RELAY_LOCK_KEY = 72_707_370n;

/** A tagged-template SQL query, as Prisma's `$queryRaw` / `$executeRaw` take it. */
type SqlTag<R> = (query: TemplateStringsArray, ...values: unknown[]) => PromiseLike<R>;

/** What the relay needs of a transaction: raw queries (a Prisma transaction client fits). */
export interface OutboxSqlClient {
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<T>;
  $executeRaw: SqlTag<number>;
}

/**
 * What the relay needs of the database: raw queries and interactive transactions. A
 * PrismaClient from @apimon/db fits; the structural type keeps this package free of Prisma.
 */
export interface OutboxDatabase extends OutboxSqlClient {
  $transaction<R>(
    fn: (tx: OutboxSqlClient) => Promise<R>,
    options?: { timeout?: number; maxWait?: number },
  ): Promise<R>;
}

export interface OutboxRelayOptions {
  prisma: OutboxDatabase;
  producer: BatchingProducer;
  logger: Logger;
  registry?: Registry;
  /** Pause between polls when there is nothing to publish (or another replica publishes). */
  pollMs: number;
  /** Informational: the producer already applies it; logged so an operator sees where rows go. */
  topicPrefix?: string;
  /** Rows read per batch (at most one per key is published from them). */
  batchSize?: number;
  /** ms since the epoch: backoff, hold re-checks and pruning. */
  clock?: () => number;
  /** Backoff after failures (Kafka or Postgres): doubling from initialMs, capped at maxMs. */
  retry?: { initialMs?: number; maxMs?: number };
  /** Consecutive failed batches after which isHealthy() turns false. */
  unhealthyAfterFailures?: number;
  /** How long one batch may hold its transaction (and the lock) while Kafka acknowledges. */
  transactionTimeoutMs?: number;
  /** How long an invalid row's key stays held before its oldest row is looked at again. */
  holdRecheckMs?: number;
  /** Published rows older than this are deleted; 0 keeps them. Default 7 days. */
  pruneAfterMs?: number;
  /** How often pruning runs. */
  pruneEveryMs?: number;
  /**
   * The topics this relay publishes (default: every topic of the catalog). Services that share
   * the outbox table each name their own, so that one never publishes another's rows without
   * what only the owner adds (the keys service's signatures).
   */
  topics?: readonly TopicSpec<unknown>[];
  /**
   * Extra headers for a message, computed as it is published (e.g. a signature over the value
   * exactly as validated here), added to the row's own headers.
   */
  sign?: (message: {
    topic: TopicSpec<unknown>;
    key: string;
    value: unknown;
  }) => Record<string, string> | undefined;
}

export interface OutboxRelay {
  /** Starts the polling loop in the background and returns at once. */
  start(): Promise<void>;
  /** Lets the batch in flight finish (published and marked, or rolled back), then stops. */
  stop(): Promise<void>;
  /** Running, and fewer than `unhealthyAfterFailures` batches in a row have failed. */
  isHealthy(): boolean;
  /** One batch: the number of rows published and marked (0 when idle or not the lock holder). */
  runOnce(): Promise<number>;
  /**
   * Cuts the current idle pause short, so rows committed just now go out without waiting for
   * the next poll (call it after a commit that wrote outbox rows). A no-op while backing off.
   */
  nudge(): void;
}

interface RawRow {
  id: bigint | string | number;
  topic: string;
  message_key: string;
  payload: unknown;
  tombstone: boolean;
  headers: unknown;
}

interface Held {
  topic: string;
  messageKey: string;
  rowId: bigint;
  reason: string;
}

/** A publish that Kafka did not acknowledge; the batch is marked only as far as it was acked. */
class PublishFailed extends Error {
  constructor(cause: unknown) {
    super(`publish failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "PublishFailed";
  }
}

const DAY_MS = 86_400_000;
const PRUNE_CHUNK = 5000;

/**
 * Publishes the outbox (rows written in the same transactions as the changes they announce:
 * key states, notification jobs) to Kafka. Moved here from the keys service so that every
 * service with an outbox runs the same relay under the same lock.
 *
 * - Nothing lost: a row is marked published only after Kafka acknowledged its message
 *   (acks=all); a failure rolls the marks back and the next batch starts again from the oldest
 *   unpublished row.
 * - Per-key order: each batch publishes, per (topic, key), only that key's oldest unpublished
 *   row, through one FIFO producer. So a key's messages reach Kafka in id order, and a crash
 *   between ack and mark only repeats a message right after itself (at-least-once; consumers
 *   apply messages idempotently). This relies on writers of one key committing in id order:
 *   each writer must hold a lock on the key's row (api_keys, alerts) while it inserts its
 *   outbox rows.
 * - One publisher: every batch runs in a transaction that first takes
 *   pg_try_advisory_xact_lock(OUTBOX_RELAY_LOCK_KEY); another replica skips its turn. The lock
 *   lives exactly as long as the transaction that marks the rows, so a replica can never mark
 *   while another publishes, and a dead connection frees it with the rollback. A session lock
 *   would need a dedicated connection outside Prisma's pool, and losing that connection would
 *   free the lock while this replica keeps publishing. Residual risk, as with any lease: if
 *   this replica's connection dies (or its transaction outlives transactionTimeoutMs) while
 *   its batch waits for acks, another replica may publish the same rows meanwhile. That gives
 *   duplicates; an older state landing after a newer one would further need this replica's
 *   send to stall past a whole batch of the other's. Ruling that out takes Kafka's
 *   transactional producer (fencing), which the batching producer does not use.
 * - Rows whose topic is not in this version's catalog are left alone (a newer version may
 *   know them), counted in outbox_relay_unroutable. Rows that fail their topic's schema hold
 *   back their key only (logged, outbox_relay_held_keys), and are looked at again every
 *   holdRecheckMs, so a corrected row goes out without a restart.
 */
export function createOutboxRelay({
  prisma,
  producer,
  logger,
  registry,
  pollMs,
  topicPrefix = "",
  batchSize = 500,
  clock = Date.now,
  retry = {},
  unhealthyAfterFailures = 3,
  transactionTimeoutMs = 120_000,
  holdRecheckMs = 60_000,
  pruneAfterMs = 7 * DAY_MS,
  pruneEveryMs = 3_600_000,
  topics: relayed = Object.values(topics) as TopicSpec<unknown>[],
  sign,
}: OutboxRelayOptions): OutboxRelay {
  const log = logger.child({ component: "outbox-relay", topicPrefix });
  const catalog = new Map<string, TopicSpec<unknown>>(relayed.map((t) => [t.name, t]));
  const knownTopics = [...catalog.keys()];
  // Unroutable means unknown to this version's catalog, not merely another relay's topic.
  const catalogTopics = (Object.values(topics) as TopicSpec<unknown>[]).map((t) => t.name);
  const backoff = { initialMs: retry.initialMs ?? 200, maxMs: retry.maxMs ?? 30_000 };

  const unpublished = gauge(registry, "outbox_relay_unpublished", "Outbox rows waiting to be published");
  const unroutable = gauge(
    registry,
    "outbox_relay_unroutable",
    "Unpublished outbox rows whose topic this version does not know (left in place)",
  );
  const heldKeys = gauge(
    registry,
    "outbox_relay_held_keys",
    "Keys whose oldest outbox row is invalid, holding back that key's changes",
  );
  const leader = gauge(
    registry,
    "outbox_relay_leader",
    "1 when this replica held the relay lock in its last batch",
  );
  const published = counter(
    registry,
    "outbox_relay_published_total",
    "Outbox rows published to Kafka and marked",
    ["topic"],
  );
  const errors = counter(
    registry,
    "outbox_relay_errors_total",
    "Relay failures: kafka (publish not acked), database, invalid_row, prune",
    ["kind"],
  );

  const held = new Map<string, Held>();
  let holdsClearedAt = clock();
  let nextPruneAt = clock();
  let failures = 0;
  let lastUnroutable = 0;
  /** Rows the last count found for this relay to publish; undefined before it, or if it failed. */
  let backlog: number | undefined;

  /**
   * Forgets held keys now and then, so their rows are read and validated again. The gauge keeps
   * its value until the next batch has looked: a row still invalid is still holding its key back,
   * and a gauge that dipped to 0 at each recheck would make an alert on it flap.
   */
  function recheckHolds(): void {
    if (held.size === 0 || clock() - holdsClearedAt < holdRecheckMs) return;
    held.clear();
    holdsClearedAt = clock();
  }

  interface BatchOutcome {
    fetched: number;
    /** Rows acked by Kafka and marked in the transaction, by topic. */
    marked: Map<string, number>;
    failed: boolean;
    reason?: unknown;
  }

  /** One batch in one transaction: lock, read, publish, await acks, mark what was acked. */
  function publishBatch(): Promise<BatchOutcome> {
    const heldList = [...held.values()];
    return prisma.$transaction(
      async (tx): Promise<BatchOutcome> => {
        const outcome: BatchOutcome = { fetched: 0, marked: new Map(), failed: false };
        const [lock] = await tx.$queryRaw<{ locked: boolean }[]>`
          SELECT pg_try_advisory_xact_lock(${OUTBOX_RELAY_LOCK_KEY}) AS locked`;
        leader.set(lock?.locked ? 1 : 0);
        if (!lock?.locked) {
          // Another replica relays: this one holds back nothing of its own.
          heldKeys.set(held.size);
          return outcome;
        }

        // Served by the partial index on id WHERE published_at IS NULL.
        const raw = await tx.$queryRaw<RawRow[]>`
          SELECT id, topic, message_key, payload, payload IS NULL AS tombstone, headers
          FROM outbox
          WHERE published_at IS NULL
            AND topic = ANY(${knownTopics}::text[])
            AND (topic, message_key) NOT IN (
              SELECT * FROM unnest(${heldList.map((h) => h.topic)}::text[], ${heldList.map((h) => h.messageKey)}::text[])
            )
          ORDER BY id
          LIMIT ${batchSize}`;
        outcome.fetched = raw.length;
        const plan = planBatch(
          raw.map((r) => ({
            id: BigInt(r.id),
            topic: r.topic,
            messageKey: r.message_key,
            payload: r.payload,
            tombstone: r.tombstone,
            headers: r.headers,
          })),
          catalog,
        );
        for (const { row, reason } of plan.invalid) {
          held.set(streamOf(row), { topic: row.topic, messageKey: row.messageKey, rowId: row.id, reason });
          errors.inc({ kind: "invalid_row" });
          log.error(
            { outboxId: row.id.toString(), topic: row.topic, messageKey: row.messageKey, reason },
            "outbox row cannot be published; holding back its key's changes until it is fixed",
          );
        }
        heldKeys.set(held.size);
        if (plan.publish.length === 0) return outcome;

        // The whole batch is queued at once, in id order, so the producer sends it together;
        // every outcome is awaited before anything is marked.
        const results = await Promise.allSettled(
          plan.publish.map((m) => {
            const signature = sign?.({ topic: m.topic, key: m.row.messageKey, value: m.value });
            const headers = signature ? { ...m.headers, ...signature } : m.headers;
            return producer.publish(m.topic, m.value, { key: m.row.messageKey, headers });
          }),
        );
        // A batch holds one row per key, so marking only the acked rows keeps every key in order.
        const acked = plan.publish.filter((_, i) => results[i]?.status === "fulfilled");
        if (acked.length > 0) {
          await tx.$executeRaw`
            UPDATE outbox SET published_at = now()
            WHERE id = ANY(${acked.map((m) => m.row.id)}::bigint[])`;
        }
        for (const m of acked) outcome.marked.set(m.topic.name, (outcome.marked.get(m.topic.name) ?? 0) + 1);
        const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
        if (rejected) {
          outcome.failed = true;
          outcome.reason = rejected.reason;
        }
        return outcome;
      },
      { timeout: transactionTimeoutMs, maxWait: 10_000 },
    );
  }

  let publishedSinceLog = 0;

  /** Counts the unpublished rows into the gauges; returns how many this relay could publish. */
  async function refreshBacklog(): Promise<number> {
    const [counts] = await prisma.$queryRaw<{ routable: bigint; unroutable: bigint }[]>`
      SELECT count(*) FILTER (WHERE topic = ANY(${knownTopics}::text[])) AS routable,
             count(*) FILTER (WHERE NOT (topic = ANY(${catalogTopics}::text[]))) AS unroutable
      FROM outbox WHERE published_at IS NULL`;
    unpublished.set(Number(counts?.routable ?? 0));
    const stray = Number(counts?.unroutable ?? 0);
    unroutable.set(stray);
    if (stray !== lastUnroutable && stray > 0) {
      const names = await prisma.$queryRaw<{ topic: string }[]>`
        SELECT DISTINCT topic FROM outbox
        WHERE published_at IS NULL AND NOT (topic = ANY(${catalogTopics}::text[])) LIMIT 20`;
      log.warn(
        { rows: stray, topics: names.map((n) => n.topic) },
        "outbox rows for topics this version does not know; left unpublished",
      );
    }
    lastUnroutable = stray;
    return Number(counts?.routable ?? 0);
  }

  async function prune(): Promise<void> {
    if (pruneAfterMs <= 0 || clock() < nextPruneAt) return;
    nextPruneAt = clock() + pruneEveryMs;
    const cutoff = new Date(clock() - pruneAfterMs);
    let total = 0;
    try {
      // In chunks, so no single statement locks or rewrites much at once.
      for (let i = 0; i < 100; i++) {
        const n = await prisma.$executeRaw`
          DELETE FROM outbox WHERE id IN (
            SELECT id FROM outbox WHERE published_at < ${cutoff} ORDER BY id LIMIT ${PRUNE_CHUNK})`;
        total += n;
        if (n < PRUNE_CHUNK) break;
      }
      if (total > 0) log.info({ rows: total, before: cutoff.toISOString() }, "pruned published outbox rows");
    } catch (error) {
      errors.inc({ kind: "prune" });
      log.warn({ err: error }, "pruning the outbox failed; trying again later");
    }
  }

  async function runOnce(): Promise<number> {
    recheckHolds();
    let count = 0;
    let batched = false;
    try {
      // Most polls find nothing to publish. One count (over the partial index of unpublished
      // rows) says so, where a batch takes a transaction and the lock to find it out: at the
      // default poll that kept an idle service busy for a few percent of a core. While rows
      // drain, the count after each batch has said there are more, and the next batch starts
      // without counting again.
      if (!backlog) backlog = await refreshBacklog();
      if (backlog > 0) {
        batched = true;
        const outcome = await publishBatch();
        // Counted once the marks are committed.
        for (const [topic, n] of outcome.marked) {
          published.inc({ topic }, n);
          count += n;
        }
        if (outcome.failed) throw new PublishFailed(outcome.reason);
      }
    } catch (error) {
      failures++;
      const kind = error instanceof PublishFailed ? "kafka" : "database";
      errors.inc({ kind });
      log.warn(
        { err: error, kind, failures },
        "outbox batch failed; retrying from the oldest unpublished row",
      );
      backlog = await refreshBacklog().catch(() => undefined);
      throw error;
    }
    if (failures > 0) log.info({ failures }, "outbox relay recovered");
    failures = 0;
    publishedSinceLog += count;
    if (batched) {
      backlog = await refreshBacklog().catch((error: unknown) => {
        log.warn({ err: error }, "could not count the backlog");
        return undefined;
      });
    }
    if (count === 0) {
      if (publishedSinceLog > 0) log.info({ rows: publishedSinceLog }, "outbox drained");
      publishedSinceLog = 0;
      await prune();
    }
    return count;
  }

  // While there is backlog the next batch follows at once; after a failure, backoff (a nudge
  // does not cut it short); a nudge during a batch means its rows may not have been visible to
  // it, so the next batch follows at once too.
  const task = createPeriodicTask({
    name: "outbox relay",
    logger: log,
    intervalMs: pollMs,
    firstRun: "now",
    keepAlive: true,
    run: async () => ((await runOnce()) > 0 ? 0 : pollMs),
    onError: () => backoffMs(failures, backoff),
  });

  return {
    async start() {
      if (task.isRunning()) return;
      log.info({ pollMs, batchSize }, "outbox relay started");
      await task.start();
    },
    async stop() {
      if (!task.isRunning()) return;
      await task.stop();
      log.info("outbox relay stopped");
    },
    isHealthy: () => task.isRunning() && failures < unhealthyAfterFailures,
    runOnce,
    nudge: () => task.wake(),
  };
}
