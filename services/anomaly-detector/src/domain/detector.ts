import type { AlertThresholdSettings } from "@apimon/config";
import type { AlertSignal, AuthFailure, UsageEvent } from "@apimon/events";
import { AuthFailureState } from "./auth-state";
import type { Condition } from "./condition";
import { type RuleSettings, ruleSettings, UsagePartitionState } from "./usage-state";

export type StreamKind = "usage" | "auth";

/** A consumed message as the detector needs it: its offset and decoded value. */
export interface Offered<T> {
  offset: string;
  value: T;
}

export interface Detector {
  /**
   * Applies usage events of one partition in offset order and returns the signals to publish.
   * Offsets at or below the last one applied are skipped, so a redelivered batch changes nothing.
   * In `replay` mode the state is rebuilt as if live but no signal comes out (the previous owner
   * of the partition published them already).
   */
  applyUsage(partition: number, messages: Offered<UsageEvent>[], mode?: Mode): AlertSignal[];
  applyAuth(partition: number, messages: Offered<AuthFailure>[], mode?: Mode): AlertSignal[];
  /** Resolution and de-escalation at clock time `nowMs`, for every partition not being rebuilt. */
  tick(nowMs: number): AlertSignal[];
  /** Drops state older than can matter (call every minute or so). */
  sweep(nowMs: number): void;
  /**
   * The partitions of a stream this instance now owns (after a group join): state of the
   * others is dropped silently; new ones are marked as rebuilding and returned.
   */
  assign(kind: StreamKind, partitions: number[]): number[];
  /** Marks a partition's rebuild as finished (or abandoned): the tick covers it again. */
  finishRebuild(kind: StreamKind, partition: number): void;
  isRebuilding(kind: StreamKind, partition?: number): boolean;
  /** Conditions firing or pending damping. */
  conditions(): Condition[];
  /** Keys with usage state. */
  keyCount(): number;
  /** Endpoints with usage state, and how many were forgotten to make room. */
  endpointCounts(): { tracked: number; evicted: number };
  usagePartition(partition: number): UsagePartitionState | undefined;
}

export type Mode = "live" | "replay";

export interface DetectorOptions {
  /** The current thresholds; read on every batch and tick, so changes apply at once. */
  thresholds: () => AlertThresholdSettings;
  /** The same clock as the tick's; it tells a partition that is being read from an idle one. */
  clock?: () => number;
  /** Client IPs whose auth failures are tracked per partition (least recently failing dropped). */
  maxTrackedIps?: number;
  /** Endpoints tracked per usage partition, over all keys (least recently called dropped). */
  maxTrackedEndpoints?: number;
  /** How often at most a firing condition reports its count of matches and latest value. */
  updateIntervalMs?: number;
}

/** A firing condition's updates: once a minute keeps an alert's count and last-seen time current. */
export const DEFAULT_UPDATE_INTERVAL_MS = 60_000;

/** A partition that got events this recently (on the clock) is being read: its event time counts. */
export const ACTIVE_PARTITION_MS = 10_000;

/** Replayed events advance the replay's clock; a tick runs each time it moved this far. */
const REPLAY_TICK_MS = 1000;

/**
 * The anomaly detector's pure core: per-partition rule state for usage events and auth
 * failures, the conditions' lifecycle, replay without signals, and partition ownership.
 */
export function createDetector({
  thresholds,
  clock = Date.now,
  maxTrackedIps,
  maxTrackedEndpoints,
  updateIntervalMs = DEFAULT_UPDATE_INTERVAL_MS,
}: DetectorOptions): Detector {
  const usage = new Map<number, UsagePartitionState>();
  /** Endpoints evicted by the partitions' states dropped since (a counter must not go down). */
  let evictedBefore = 0;
  const auth = new AuthFailureState(maxTrackedIps);
  const authPartitions = new Set<number>();
  const applied: Record<StreamKind, Map<number, number>> = { usage: new Map(), auth: new Map() };
  const rebuilding: Record<StreamKind, Set<number>> = { usage: new Set(), auth: new Set() };
  /** Per partition: the newest event time applied, and when (on the clock) it was applied. */
  const progress: Record<StreamKind, Map<number, { watermark: number; appliedAt: number }>> = {
    usage: new Map(),
    auth: new Map(),
  };

  /**
   * The time at which a partition's quiet periods are judged. While the partition is being read
   * it is its event time (the newest occurredAt applied, never past the clock): a detector that
   * catches up on a backlog must not resolve a condition because the wall clock moved on while
   * the events that would have kept it firing are still unread. An idle partition (nothing for
   * ACTIVE_PARTITION_MS) is judged by the clock, so quiet scopes resolve when traffic stops.
   */
  function resolutionTime(kind: StreamKind, partition: number, nowMs: number): number {
    const p = progress[kind].get(partition);
    if (p === undefined || nowMs - p.appliedAt >= ACTIVE_PARTITION_MS) return nowMs;
    return Math.min(nowMs, p.watermark);
  }
  let cached: { source: AlertThresholdSettings; settings: RuleSettings } | undefined;

  function settings(): RuleSettings {
    const source = thresholds();
    if (cached?.source !== source) cached = { source, settings: ruleSettings(source, updateIntervalMs) };
    return cached.settings;
  }

  function usageState(partition: number): UsagePartitionState {
    let state = usage.get(partition);
    if (state === undefined) {
      state = new UsagePartitionState(maxTrackedEndpoints);
      usage.set(partition, state);
    }
    return state;
  }

  function apply<T>(
    kind: StreamKind,
    partition: number,
    messages: Offered<T>[],
    mode: Mode,
    one: (value: T, s: RuleSettings, out: AlertSignal[]) => void,
    tickAt: (nowMs: number, s: RuleSettings, out: AlertSignal[]) => void,
    timeOf: (value: T) => number,
  ): AlertSignal[] {
    const s = settings();
    const out: AlertSignal[] = [];
    const discard: AlertSignal[] = [];
    let last = applied[kind].get(partition) ?? -1;
    let replayClock = Number.NEGATIVE_INFINITY;
    for (const message of messages) {
      const offset = Number(message.offset);
      if (offset <= last) continue;
      last = offset;
      if (mode === "replay") {
        // Conditions that resolved during the replayed span resolve here too, silently.
        const at = timeOf(message.value);
        if (at - replayClock >= REPLAY_TICK_MS) {
          if (replayClock !== Number.NEGATIVE_INFINITY) tickAt(at, s, discard);
          replayClock = at;
        }
        one(message.value, s, discard);
      } else {
        one(message.value, s, out);
      }
    }
    applied[kind].set(partition, last);
    if (mode === "live" && messages.length > 0) {
      const p = progress[kind].get(partition) ?? { watermark: Number.NEGATIVE_INFINITY, appliedAt: 0 };
      // A partition's events are in time order but for small skews between edges: its last
      // event is a close enough lower bound of its event time, at one parse per batch.
      const at = timeOf((messages[messages.length - 1] as Offered<T>).value);
      if (at > p.watermark) p.watermark = at;
      p.appliedAt = clock();
      progress[kind].set(partition, p);
    }
    discard.length = 0;
    return out;
  }

  return {
    applyUsage(partition, messages, mode = "live") {
      const state = usageState(partition);
      return apply(
        "usage",
        partition,
        messages,
        mode,
        (event, s, out) => state.apply(event, s, out),
        (now, s, out) => state.tick(now, s, out),
        (event) => Date.parse(event.occurredAt),
      );
    },
    applyAuth(partition, messages, mode = "live") {
      authPartitions.add(partition);
      return apply(
        "auth",
        partition,
        messages,
        mode,
        (failure, s, out) => auth.apply(partition, failure, s, out),
        (now, s, out) => auth.tickPartition(partition, now, s, out),
        (failure) => Date.parse(failure.occurredAt),
      );
    },
    tick(nowMs) {
      const s = settings();
      const out: AlertSignal[] = [];
      for (const [partition, state] of usage) {
        if (!rebuilding.usage.has(partition)) state.tick(resolutionTime("usage", partition, nowMs), s, out);
      }
      const authNow = (partition: number) =>
        rebuilding.auth.has(partition) ? null : resolutionTime("auth", partition, nowMs);
      // A key's failures span partitions: judge by the one furthest behind, and not while any
      // of them is being rebuilt.
      let keysNow = nowMs;
      for (const p of authPartitions) keysNow = Math.min(keysNow, resolutionTime("auth", p, nowMs));
      auth.tick(s, out, authNow, rebuilding.auth.size > 0 ? null : keysNow);
      return out;
    },
    sweep(nowMs) {
      const s = settings();
      for (const [partition, state] of usage) if (!rebuilding.usage.has(partition)) state.sweep(nowMs, s);
      if (rebuilding.auth.size === 0) auth.sweep(nowMs, s);
    },
    assign(kind, partitions) {
      const owned = new Set(partitions);
      const held = kind === "usage" ? new Set(usage.keys()) : new Set(authPartitions);
      for (const p of applied[kind].keys()) held.add(p);
      for (const p of rebuilding[kind]) held.add(p);
      for (const p of held) {
        if (owned.has(p)) continue;
        if (kind === "usage") {
          evictedBefore += usage.get(p)?.evicted ?? 0;
          usage.delete(p);
        } else {
          auth.dropPartition(p);
          authPartitions.delete(p);
        }
        applied[kind].delete(p);
        progress[kind].delete(p);
        rebuilding[kind].delete(p);
      }
      const added = partitions.filter((p) => !held.has(p));
      for (const p of added) rebuilding[kind].add(p);
      return added;
    },
    finishRebuild(kind, partition) {
      rebuilding[kind].delete(partition);
    },
    isRebuilding(kind, partition) {
      return partition === undefined ? rebuilding[kind].size > 0 : rebuilding[kind].has(partition);
    },
    conditions() {
      return [...[...usage.values()].flatMap((state) => state.conditions()), ...auth.conditions()];
    },
    keyCount() {
      let n = 0;
      for (const state of usage.values()) n += state.keyCount();
      return n;
    },
    endpointCounts() {
      let tracked = 0;
      let evicted = evictedBefore;
      for (const state of usage.values()) {
        tracked += state.endpointCount();
        evicted += state.evicted;
      }
      return { tracked, evicted };
    },
    usagePartition(partition) {
      return usage.get(partition);
    },
  };
}
