// The limiter the edge uses: Redis first, with a hard deadline; process memory when Redis is
// slow or down. While degraded it does not wait on Redis for every request: it answers from
// memory and tries Redis again after `retryIntervalMs`.
//
// A Redis call that timed out may still have been applied by Redis later; the request was then
// counted in Redis and in memory. Over-counting by a few requests at the edge of an outage is
// accepted; under-counting is bounded by per-instance limits.
import { performance } from "node:perf_hooks";
import { counter, gauge, type Registry } from "@apimon/observability";
import { type Decision, type Limits, unavailableDecision } from "../domain/rate-limit";
import type { CheckOptions, Clock, Limiter } from "./limiter";

export type FailureMode = "open" | "closed";

export interface ResilientLimiterOptions {
  primary: Limiter;
  fallback: Limiter;
  /** Hard deadline for one primary decision. */
  timeoutMs?: number;
  /** `open`: answer from the fallback; `closed`: answer `unavailable` (the edge sends 503). */
  failureMode?: FailureMode;
  /** While degraded, how long to skip the primary before trying it again. */
  retryIntervalMs?: number;
  clock?: Clock;
  /** Registers `edge_limiter_fallback_total` and `edge_limiter_degraded`. */
  registry?: Registry;
  /** Called when the limiter becomes degraded (with the cause) or recovers: raise/clear an alert. */
  onDegradedChange?: (degraded: boolean, cause?: unknown) => void;
}

export interface ResilientLimiter extends Limiter {
  isDegraded(): boolean;
}

export class LimiterTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`rate limiter did not answer within ${timeoutMs} ms`);
    this.name = "LimiterTimeoutError";
  }
}

interface Deadline {
  reject: (error: Error) => void;
  startedAt: number;
  settled: boolean;
}

/**
 * Deadlines for the primary's answers, `timeoutMs` after the end of the event-loop turn that
 * asked. A busy event loop must not pass for a slow Redis:
 *  - the clock starts in a setImmediate, which runs after this turn's I/O callbacks, so the
 *    deadline does not count the time the turn still spends parsing other requests (and a
 *    pipelined client, which writes the turn's commands then, is measured from its write);
 *  - node runs due timers *before* it reads sockets in the same loop turn, so under load the
 *    timer would win against a reply that already sits in the socket buffer. An expired deadline
 *    therefore waits one setImmediate (which runs after the poll phase) before it gives up,
 *    letting a reply that arrived in time be read first.
 * Every decision of a turn shares one setImmediate, and all of them one timer armed for the
 * oldest: a timer per decision cost more than the rest of the limiter's own work.
 */
function createDeadlines(timeoutMs: number) {
  /** Started deadlines, oldest first (one timeout for all, so also in expiry order). */
  let started: Deadline[] = [];
  let head = 0;
  let starting: Deadline[] = [];
  let timer: NodeJS.Timeout | undefined;

  function start(): void {
    const now = performance.now();
    for (const deadline of starting) {
      deadline.startedAt = now;
      started.push(deadline);
    }
    starting = [];
    arm();
  }

  function arm(): void {
    while (head < started.length && (started[head] as Deadline).settled) head++;
    if (head === started.length) {
      started = [];
      head = 0;
      return;
    }
    if (timer !== undefined) return;
    const wait = (started[head] as Deadline).startedAt + timeoutMs - performance.now();
    timer = setTimeout(
      () => {
        timer = undefined;
        setImmediate(expire);
      },
      Math.max(0, Math.ceil(wait)),
    );
  }

  function expire(): void {
    const now = performance.now();
    while (head < started.length) {
      const deadline = started[head] as Deadline;
      if (!deadline.settled) {
        if (now - deadline.startedAt < timeoutMs) break;
        deadline.settled = true;
        deadline.reject(new LimiterTimeoutError(timeoutMs));
      }
      head++;
    }
    if (head > 1024) {
      started = started.slice(head);
      head = 0;
    }
    arm();
  }

  /** `promise`, or a LimiterTimeoutError once its deadline has passed. */
  return function withDeadline<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline: Deadline = { reject, startedAt: 0, settled: false };
      if (starting.length === 0) setImmediate(start);
      starting.push(deadline);
      promise.then(
        (value) => {
          if (deadline.settled) return;
          deadline.settled = true;
          resolve(value);
        },
        (error: unknown) => {
          if (deadline.settled) return;
          deadline.settled = true;
          reject(error);
        },
      );
    });
  };
}

export function createResilientLimiter({
  primary,
  fallback,
  timeoutMs = 50,
  failureMode = "open",
  retryIntervalMs = 1000,
  clock = Date.now,
  registry,
  onDegradedChange,
}: ResilientLimiterOptions): ResilientLimiter {
  const fallbacks = counter(
    registry,
    "edge_limiter_fallback_total",
    "Rate-limit decisions not taken by Redis (timeout or error), by reason",
    ["reason"],
  );
  const degradedGauge = gauge(
    registry,
    "edge_limiter_degraded",
    "1 while the rate limiter answers without Redis",
  );

  let degraded = false;
  let retryAt = 0;
  const withDeadline = createDeadlines(timeoutMs);

  function setDegraded(value: boolean, cause?: unknown): void {
    if (value === degraded) return;
    degraded = value;
    degradedGauge.set(value ? 1 : 0);
    onDegradedChange?.(value, cause);
  }

  async function degradedAnswer(
    apiKeyId: string,
    limits: Limits,
    options: CheckOptions | undefined,
    reason: string,
  ): Promise<Decision> {
    fallbacks.inc({ reason });
    if (failureMode === "closed") return unavailableDecision(limits, clock());
    return fallback.check(apiKeyId, limits, options);
  }

  return {
    async check(apiKeyId: string, limits: Limits, options?: CheckOptions): Promise<Decision> {
      if (degraded && clock() < retryAt) return degradedAnswer(apiKeyId, limits, options, "degraded");
      try {
        const decision = await withDeadline(primary.check(apiKeyId, limits, options));
        setDegraded(false);
        return decision;
      } catch (error) {
        retryAt = clock() + retryIntervalMs;
        setDegraded(true, error);
        return degradedAnswer(
          apiKeyId,
          limits,
          options,
          error instanceof LimiterTimeoutError ? "timeout" : "error",
        );
      }
    },
    isDegraded: () => degraded,
  };
}
