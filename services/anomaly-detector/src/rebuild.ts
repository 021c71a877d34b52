import type { AlertThresholdSettings } from "@apimon/config";
import { type AuthFailure, type TopicSpec, topics, type UsageEvent } from "@apimon/events";
import {
  type ConsumedMessage,
  fetchCommittedOffsets,
  fetchEndOffsets,
  fetchOffsetsByTimestamp,
  type KafkaClient,
  type ReplayRange,
  replayPartitions,
  topicName,
} from "@apimon/kafka";
import { Counter, Histogram, type Logger, type Registry } from "@apimon/observability";
import type { Detector, StreamKind } from "./domain/detector";

export interface StateRebuilder {
  /** The runner's onAssignment hook: drops revoked partitions, starts rebuilding new ones. */
  onAssignment(assignment: Record<string, number[]>): void;
  /**
   * The runner's initialOffset hook: a partition the group never committed starts right after
   * the replayed range (not at the log start, which would re-alert on days of history).
   */
  initialOffset(topic: string, partition: number): Promise<string | undefined>;
  /** Resolves once the partition's state is rebuilt; undefined when no rebuild of it is under way. */
  ready(kind: StreamKind, partition: number): Promise<void> | undefined;
  /** No rebuild under way. */
  isIdle(): boolean;
}

interface Job {
  /** The range replayed and whether the group had committed an offset, per partition. */
  plan: Promise<Map<number, { range: ReplayRange; committed: boolean }>>;
  done: Promise<void>;
  finished: boolean;
}

/**
 * How far back the detector re-reads on assignment: enough for every window (the spike baseline
 * is the longest) and for conditions that may still be firing.
 */
export function lookbackSeconds(kind: StreamKind, t: AlertThresholdSettings): number {
  const slack = 60;
  if (kind === "auth") return Math.max(t.unauthorized_access.windowSeconds, t.quietPeriodSeconds) + slack;
  return (
    Math.max(
      t.usage_spike.baselineSeconds + t.usage_spike.windowSeconds,
      t.error_rate.windowSeconds,
      t.quietPeriodSeconds,
    ) + slack
  );
}

/**
 * Rebuilds the detector's windows when it is assigned partitions (at start, after a restart or a
 * rebalance): it re-reads each new partition from the first message whose broker timestamp is
 * within the lookback up to the group's committed offset (or the end, for a group without one)
 * and applies it in replay mode (state only, no signals: the previous owner published them).
 * The live handler waits for its partition's rebuild, so a restart does not blind the detector.
 */
export function createStateRebuilder({
  kafka,
  groupId,
  topicPrefix,
  logger,
  detector,
  thresholds,
  now = Date.now,
  registry,
}: {
  kafka: KafkaClient;
  groupId: string;
  topicPrefix: string;
  logger: Logger;
  detector: Detector;
  thresholds: () => AlertThresholdSettings;
  /** Wall clock for broker timestamps (not event time). */
  now?: () => number;
  registry?: Registry;
}): StateRebuilder {
  const log = logger.child({ component: "rebuild" });
  const registers = registry ? [registry] : [];
  const replayed = new Counter({
    name: "detector_rebuild_messages_total",
    help: "Messages re-read to rebuild state after an assignment",
    labelNames: ["stream"],
    registers,
  });
  const rebuilds = new Counter({
    name: "detector_rebuilds_total",
    help: "State rebuilds after an assignment, by stream and outcome",
    labelNames: ["stream", "outcome"],
    registers,
  });
  const seconds = new Histogram({
    name: "detector_rebuild_seconds",
    help: "Time to rebuild the state of newly assigned partitions",
    labelNames: ["stream"],
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers,
  });
  const streams: { kind: StreamKind; spec: TopicSpec<unknown>; name: string }[] = [
    {
      kind: "usage",
      spec: topics.usageEvents as TopicSpec<unknown>,
      name: topicName(topics.usageEvents, topicPrefix),
    },
    {
      kind: "auth",
      spec: topics.authFailures as TopicSpec<unknown>,
      name: topicName(topics.authFailures, topicPrefix),
    },
  ];
  /** The job that owns each `kind:partition`; a newer assignment replaces it. */
  const jobs = new Map<string, Job>();
  /** Partitions whose first batch has yet to ask where to start (answered once per rebuild). */
  const seeks = new Map<string, Job>();
  const running = new Set<Job>();

  function start(kind: StreamKind, spec: TopicSpec<unknown>, name: string, partitions: number[]): void {
    const stop = seconds.startTimer({ stream: kind });
    const plan = (async () => {
      const lookbackMs = lookbackSeconds(kind, thresholds()) * 1000;
      const [committed, fromTime, ends] = await Promise.all([
        fetchCommittedOffsets(kafka, groupId, name),
        fetchOffsetsByTimestamp(kafka, name, now() - lookbackMs),
        fetchEndOffsets(kafka, name),
      ]);
      const plans = new Map<number, { range: ReplayRange; committed: boolean }>();
      for (const partition of partitions) {
        const high = ends.find((e) => e.partition === partition)?.high ?? 0n;
        const done = committed.get(partition) ?? null;
        const to = done ?? high;
        const from = fromTime.get(partition) ?? to;
        plans.set(partition, {
          range: { partition, from: from < to ? from : to, to },
          committed: done !== null,
        });
      }
      return plans;
    })();
    const job: Job = { plan, done: Promise.resolve(), finished: false };
    for (const partition of partitions) {
      jobs.set(`${kind}:${partition}`, job);
      seeks.set(`${kind}:${partition}`, job);
    }
    const mine = (partition: number) => jobs.get(`${kind}:${partition}`) === job;
    job.done = (async () => {
      let outcome = "ok";
      try {
        const plans = await plan;
        const result = await replayPartitions({
          kafka,
          logger,
          topic: spec,
          topicPrefix,
          ranges: [...plans.values()].map((p) => p.range),
          onMessages: (messages: ConsumedMessage<unknown>[], partition: number) => {
            if (!mine(partition)) return;
            replayed.inc({ stream: kind }, messages.length);
            if (kind === "usage")
              detector.applyUsage(partition, messages as ConsumedMessage<UsageEvent>[], "replay");
            else detector.applyAuth(partition, messages as ConsumedMessage<AuthFailure>[], "replay");
          },
        });
        log.info({ stream: kind, partitions, messages: result.messages }, "state rebuilt");
      } catch (err) {
        // Going on with partial state beats not detecting at all; the metric and log say so.
        outcome = "error";
        log.error({ err, stream: kind, partitions }, "state rebuild failed; continuing with partial state");
      } finally {
        for (const partition of partitions) if (mine(partition)) detector.finishRebuild(kind, partition);
        rebuilds.inc({ stream: kind, outcome });
        stop();
      }
    })();
    running.add(job);
    void job.done.finally(() => {
      job.finished = true;
      running.delete(job);
    });
  }

  return {
    onAssignment(assignment) {
      for (const { kind, spec, name } of streams) {
        const owned = assignment[name] ?? [];
        for (const map of [jobs, seeks]) {
          for (const key of [...map.keys()]) {
            const [k, p] = key.split(":");
            if (k === kind && !owned.includes(Number(p))) map.delete(key);
          }
        }
        const added = detector.assign(kind, owned);
        if (added.length > 0) start(kind, spec, name, added);
      }
    },
    async initialOffset(topic, partition) {
      const stream = streams.find((s) => s.name === topic);
      const key = stream && `${stream.kind}:${partition}`;
      const job = key && seeks.get(key);
      if (!key || !job) return undefined;
      seeks.delete(key);
      try {
        const plan = (await job.plan).get(partition);
        return plan && !plan.committed ? plan.range.to.toString() : undefined;
      } catch {
        return undefined;
      }
    },
    ready(kind, partition) {
      const job = jobs.get(`${kind}:${partition}`);
      return job && !job.finished ? job.done : undefined;
    },
    isIdle: () => running.size === 0,
  };
}
