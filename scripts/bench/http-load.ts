// Load generation for the HTTP benchmarks: autocannon (closed loop, and its `overallRate`) plus a
// small open-loop generator that spaces requests evenly.
//
// Latency percentiles are computed here from every 2xx response's own time (autocannon's
// `response` event, fractional ms) rather than read from autocannon's histogram, which records
// whole milliseconds: the edge's budget is half a millisecond, below that resolution.
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";

/** The part of autocannon's programmatic API used here (the package ships no types). */
interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  pipelining: number;
  headers?: Record<string, string>;
  overallRate?: number;
  timeout?: number;
}

interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
  requests: { total: number; average: number };
}

interface AutocannonInstance {
  on(
    event: "response",
    listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void,
  ): void;
  stop(): void;
}

type Autocannon = (
  options: AutocannonOptions,
  done: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

// autocannon ships no type declarations: a typed require instead of an untyped import.
const autocannon = require("autocannon") as Autocannon;

export interface LoadResult {
  /** Completed responses per second over the run. */
  rps: number;
  /** Completed responses (any status). */
  responses: number;
  durationS: number;
  /** Latency of 2xx responses, ms. */
  p50: number;
  p99: number;
  /** Responses that were not 2xx, connection errors and timeouts: all must be 0 for a valid run. */
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

export interface LoadTarget {
  url: string;
  headers?: Record<string, string>;
}

export type LatencyRecorder = ReturnType<typeof createLatencyRecorder>;

/** Growable store of latency samples (ms) with nearest-rank percentiles. */
export function createLatencyRecorder() {
  let samples = new Float64Array(1 << 16);
  let count = 0;
  return {
    record(ms: number): void {
      if (count === samples.length) {
        const bigger = new Float64Array(samples.length * 2);
        bigger.set(samples);
        samples = bigger;
      }
      samples[count++] = ms;
    },
    count: () => count,
    /** Percentiles (0–100) of everything recorded, nearest rank; NaN without samples. */
    percentiles(...ps: number[]): number[] {
      const sorted = samples.slice(0, count).sort();
      return ps.map((p) => {
        if (count === 0) return Number.NaN;
        const rank = Math.min(count, Math.max(1, Math.ceil((p / 100) * count)));
        return sorted[rank - 1] as number;
      });
    },
  };
}

/**
 * One autocannon run. Without `overallRate` every connection sends its next request as soon as
 * the previous one answered (closed loop: the peak). With it, autocannon gives each connection a
 * per-second budget that it spends back to back from the start of each second, then idles: the
 * average rate is `overallRate`, but the load comes in bursts at full concurrency. The run's
 * percentiles are those of `latencies`, which may already hold earlier runs' samples.
 */
export function runAutocannon(
  target: LoadTarget,
  { connections, durationS, overallRate }: { connections: number; durationS: number; overallRate?: number },
  latencies: LatencyRecorder = createLatencyRecorder(),
): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        connections,
        duration: durationS,
        pipelining: 1,
        timeout: 10,
        ...(target.headers ? { headers: target.headers } : {}),
        ...(overallRate !== undefined ? { overallRate } : {}),
      },
      (error, result) => {
        if (error) return reject(error);
        const [p50, p99] = latencies.percentiles(50, 99);
        const statusCodes: Record<string, number> = {};
        for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = count;
        resolve({
          rps: result.duration > 0 ? result.requests.total / result.duration : 0,
          responses: result.requests.total,
          durationS: result.duration,
          p50: p50 as number,
          p99: p99 as number,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          statusCodes,
        });
      },
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.record(responseTime);
    });
  });
}

/**
 * Open loop at a fixed rate: request i is sent at start + i/rate (to the timer's ~1 ms
 * granularity) whether or not earlier ones answered, over at most `connections` keep-alive
 * sockets (a request waits for a free socket, and that wait counts in its latency). Latency runs
 * from handing the request to the agent to the last byte of the answer; the percentiles are
 * those of `latencies`, as in runAutocannon.
 */
export function runPaced(
  target: LoadTarget,
  { rate, durationS, connections }: { rate: number; durationS: number; connections: number },
  latencies: LatencyRecorder = createLatencyRecorder(),
): Promise<LoadResult> {
  const url = new URL(target.url);
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const statusCodes: Record<string, number> = {};
  const total = Math.max(1, Math.round(rate * durationS));
  const intervalMs = 1000 / rate;
  let sent = 0;
  let settled = 0;
  let non2xx = 0;
  let errors = 0;
  let timeouts = 0;

  return new Promise((resolve) => {
    const startedAt = performance.now();
    const finishIfDone = () => {
      if (settled < total) return;
      agent.destroy();
      const durationS = (performance.now() - startedAt) / 1000;
      const [p50, p99] = latencies.percentiles(50, 99);
      const responses = Object.values(statusCodes).reduce((a, b) => a + b, 0);
      resolve({
        rps: responses / durationS,
        responses,
        durationS,
        p50: p50 as number,
        p99: p99 as number,
        non2xx,
        errors,
        timeouts,
        statusCodes,
      });
    };
    const fire = () => {
      const sentAt = performance.now();
      let done = false;
      const settle = () => {
        if (done) return;
        done = true;
        settled++;
        finishIfDone();
      };
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          headers: target.headers,
        },
        (res) => {
          res.on("data", () => {});
          res.on("end", () => {
            const code = res.statusCode ?? 0;
            statusCodes[code] = (statusCodes[code] ?? 0) + 1;
            if (code >= 200 && code < 300) latencies.record(performance.now() - sentAt);
            else non2xx++;
            settle();
          });
          res.on("error", () => {
            errors++;
            settle();
          });
        },
      );
      let timedOut = false;
      req.setTimeout(10_000, () => {
        timedOut = true;
        timeouts++;
        req.destroy(new Error("timeout"));
      });
      req.on("error", () => {
        if (!timedOut) errors++;
        settle();
      });
      req.end();
    };
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - startedAt) / intervalMs) + 1);
      while (sent < due) {
        sent++;
        fire();
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
}
