// The per-instance limiter: the same rules in process memory, used while Redis is unreachable.
// Each instance counts only what it sees, so with N edges a key may get up to N times its
// limits during an outage; that is the accepted price of staying up (failure mode `open`).
import {
  type Decision,
  decide,
  type Limits,
  WINDOWS,
  type Window,
  type WindowCounts,
  windowEndMs,
  windowStartMs,
} from "../domain/rate-limit";
import type { CheckOptions, Clock, Limiter } from "./limiter";

export interface MemoryLimiterOptions {
  clock?: Clock;
  /** Most API keys tracked at once; the least recently used key is dropped beyond it. */
  maxKeys?: number;
}

interface KeyCounters {
  /** Window start (ms) and count per window. */
  windows: Record<Window, { start: number; count: number }>;
  /** When the day window ends: from then on every counter of this entry is stale. */
  expiresAt: number;
}

export interface MemoryLimiter extends Limiter {
  /** Keys currently tracked (for tests and a health detail). */
  size(): number;
}

export function createMemoryLimiter({
  clock = Date.now,
  maxKeys = 100_000,
}: MemoryLimiterOptions = {}): MemoryLimiter {
  // Map order is insertion order; a key is re-inserted on every use, so the first is the LRU.
  const entries = new Map<string, KeyCounters>();
  let nextSweepAt = 0;

  function sweep(nowMs: number): void {
    for (const [id, entry] of entries) if (entry.expiresAt <= nowMs) entries.delete(id);
  }

  function countsOf(entry: KeyCounters, nowMs: number): WindowCounts {
    const counts = {} as WindowCounts;
    for (const w of WINDOWS) {
      const start = windowStartMs(w, nowMs);
      // A counter from an earlier window is stale: the new window starts at zero.
      if (entry.windows[w].start !== start) entry.windows[w] = { start, count: 0 };
      counts[w] = entry.windows[w].count;
    }
    return counts;
  }

  return {
    async check(apiKeyId: string, limits: Limits, { count = true }: CheckOptions = {}): Promise<Decision> {
      const nowMs = clock();
      // Drop keys whose day ended, at most once a minute (amortised O(1) per check).
      if (nowMs >= nextSweepAt) {
        sweep(nowMs);
        nextSweepAt = windowEndMs("minute", nowMs);
      }
      let entry = entries.get(apiKeyId);
      if (entry === undefined) {
        entry = {
          windows: {
            minute: { start: windowStartMs("minute", nowMs), count: 0 },
            hour: { start: windowStartMs("hour", nowMs), count: 0 },
            day: { start: windowStartMs("day", nowMs), count: 0 },
          },
          expiresAt: windowEndMs("day", nowMs),
        };
      } else {
        entries.delete(apiKeyId);
      }
      entries.set(apiKeyId, entry);
      if (entries.size > maxKeys) {
        sweep(nowMs);
        for (const id of entries.keys()) {
          if (entries.size <= maxKeys) break;
          entries.delete(id);
        }
      }

      const decision = decide(limits, countsOf(entry, nowMs), nowMs, count);
      if (decision.allowed && count) {
        for (const w of WINDOWS) entry.windows[w].count += 1;
        entry.expiresAt = windowEndMs("day", nowMs);
      }
      return decision;
    },
    size: () => entries.size,
  };
}
