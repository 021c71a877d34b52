import { mkdirSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { envTypes, parseEnv } from "@apimon/config";
import { topics } from "@apimon/events";
import { fetchEndOffsets, type KafkaClient, topicName } from "@apimon/kafka";
import { createLogger } from "@apimon/observability";
import type { Redis } from "@apimon/redis";
import { formatSummary, readProfile, summariseProfile } from "./cpu-profile";
import { BENCH_PATH, counterSum, createEdgeStack, TARGET_IDS, type TargetId } from "./edge-stack";
import {
  createLatencyRecorder,
  type LatencyRecorder,
  type LoadResult,
  runAutocannon,
  runPaced,
} from "./http-load";
import { loadHttpBenchConfig } from "./infra";
import { CLOCK_TICKS_PER_S, processCpu, stopService } from "./processes";
import { median, ms, problemsOf, reportProblems, runBench, table, verdict } from "./report";

const repoDir = join(__dirname, "..", "..");
const GOALS = {
  throughputRatio: 0.8,
  addedP50Ms: 0.5,
  addedP99Ms: 2,
  cpuRatio: 1.25,
  redisCallsPerRequest: 1,
};
/** The edge's latency histograms read around its paced windows. */
const EDGE_LATENCY_HISTOGRAMS = {
  limiter: "edge_limiter_decision_seconds",
  upstream: "edge_upstream_seconds",
} as const;
const HALF_MODES = ["burst", "paced"] as const;
type HalfMode = (typeof HALF_MODES)[number];

function loadConfig(env = process.env) {
  // Rounds of a, b, c (then of b, c at half rate), interleaved; within a round b and c take
  // turns in slices of BENCH_SLICE_S seconds.
  const { BENCH_SLICE_S } = parseEnv({ BENCH_SLICE_S: envTypes.positiveInt(2) }, env);
  return {
    ...loadHttpBenchConfig({ durationS: 10, rounds: 1 }, env),
    sliceS: BENCH_SLICE_S,
    nodeFlags: (env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean),
  };
}

const out = (line = "") => process.stdout.write(`${line}\n`);
// Silent: every Kafka failure that matters here also rejects the call that hit it.
const logger = createLogger({ service: "bench-edge", level: "silent" });

// ---------------------------------------------------------------------------------------------
// Child processes

/** A load run with the CPU seconds each probed process used during it. */
type Measured = LoadResult & { cpuS: Record<Probed, number> };

/** Slices of one target's load as one run: their sums, and the percentiles of all their samples. */
function mergeSlices(slices: Measured[], latencies: LatencyRecorder): Measured {
  const sum = (pick: (m: Measured) => number) => slices.reduce((n, m) => n + pick(m), 0);
  const responses = sum((m) => m.responses);
  const durationS = sum((m) => m.durationS);
  const [p50, p99] = latencies.percentiles(50, 99);
  const statusCodes: Record<string, number> = {};
  for (const m of slices)
    for (const [code, n] of Object.entries(m.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  const cpuS = {} as Record<Probed, number>;
  for (const p of PROBED) cpuS[p] = sum((m) => m.cpuS[p]);
  return {
    rps: durationS > 0 ? responses / durationS : 0,
    responses,
    durationS,
    p50: p50 as number,
    p99: p99 as number,
    non2xx: sum((m) => m.non2xx),
    errors: sum((m) => m.errors),
    timeouts: sum((m) => m.timeouts),
    statusCodes,
    cpuS,
  };
}

// ---------------------------------------------------------------------------------------------
// Infrastructure

async function countMessages(kafka: KafkaClient, topic: string): Promise<number> {
  const offsets = await fetchEndOffsets(kafka, topic);
  return Number(offsets.reduce((sum, p) => sum + (p.high - p.low), 0n));
}

/** A histogram's cumulative bucket counts by upper bound (`+Inf` as Infinity), summed over labels. */
function histogramBuckets(metrics: string, name: string): Map<number, number> {
  const buckets = new Map<number, number>();
  const prefix = `${name}_bucket{`;
  for (const line of metrics.split("\n")) {
    if (!line.startsWith(prefix)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)));
  }
  return buckets;
}

/**
 * The q-quantile of the observations between two snapshots of a histogram, interpolated within
 * its bucket as Prometheus' histogram_quantile does; NaN without observations, the highest
 * finite bound when the quantile falls in the +Inf bucket.
 */
function histogramQuantile(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const bounds = [...after.keys()].sort((x, y) => x - y);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = counts[counts.length - 1] ?? 0;
  if (total <= 0) return Number.NaN;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if ((counts[i] as number) < rank) continue;
    const upper = bounds[i] as number;
    const lower = i === 0 ? 0 : (bounds[i - 1] as number);
    if (upper === Number.POSITIVE_INFINITY) return lower;
    const below = i === 0 ? 0 : (counts[i - 1] as number);
    // The counts below this bucket fell short of the rank, so it holds at least one observation.
    return lower + ((upper - lower) * (rank - below)) / ((counts[i] as number) - below);
  }
  return Number.NaN;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const stat = statSync(join(dir, name));
    total += stat.isDirectory() ? dirBytes(join(dir, name)) : stat.size;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// CPU and Redis probes

/** The process listening on a local TCP port (from /proc/net/tcp*), if this user can see it. */
function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (cols[3] !== "0A" || !local) continue; // 0A: LISTEN
      if (Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16) === port && cols[9])
        inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${entry}/fd/${fd}`);
        if (target.startsWith("socket:[") && inodes.has(target.slice(8, -1))) return Number(entry);
      } catch {
        // the fd closed meanwhile
      }
    }
  }
  return undefined;
}

const PROBED = ["bare", "bareMain", "edge", "edgeMain", "redis", "broker"] as const;
type Probed = (typeof PROBED)[number];
const PROBE_NAMES: Record<Probed, string> = {
  bare: "bare proxy",
  bareMain: "  its main thread",
  edge: "edge",
  edgeMain: "  its main thread",
  redis: "Redis",
  broker: "Kafka broker",
};
/** Probes of one thread: a process' main thread, whose id is the process id. */
const MAIN_THREADS: ReadonlySet<Probed> = new Set(["bareMain", "edgeMain"]);

/** CPU seconds of every probed process or thread now (NaN where unreadable). */
function cpuSnapshot(pids: Record<Probed, number | undefined>): Record<Probed, number> {
  const snap = {} as Record<Probed, number>;
  for (const p of PROBED) {
    const pid = pids[p];
    const thread = MAIN_THREADS.has(p) ? pid : undefined;
    snap[p] = pid === undefined ? Number.NaN : (processCpu(pid, thread)?.seconds ?? Number.NaN);
  }
  return snap;
}

/** `INFO commandstats` as command → calls. */
async function redisCommandCalls(redis: Redis): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const line of (await redis.info("commandstats")).split("\n")) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match?.[1] && match[2]) calls.set(match[1], Number(match[2]));
  }
  return calls;
}

function callsDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [command, calls] of after) {
    const d = calls - (before.get(command) ?? 0);
    if (d > 0) delta.set(command, d);
  }
  return delta;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const config = loadConfig();
  const profile = process.argv.includes("--profile");
  const profileRoot = join(repoDir, ".runtime", "bench-edge-profile");
  const stack = createEdgeStack("bench-edge", config, logger, out);
  const { kafka, redis, topicPrefix, spoolDir } = stack;
  const profileDir = join(profileRoot, stack.runId);

  try {
    // BENCH_NODE_FLAGS go to both, e.g. --perf-prof for Linux perf. --profile writes one
    // file per thread (tsx's loader runs in a worker): the main thread's is the largest.
    if (profile) for (const name of ["edge", "bare"]) mkdirSync(join(profileDir, name), { recursive: true });
    const { bareProxy, edge, targets, edgeMetrics, edgeRequestsCounted } = await stack.start({
      nodeFlags: (name) => [
        ...config.nodeFlags,
        ...(profile ? ["--cpu-prof", `--cpu-prof-dir=${join(profileDir, name)}`] : []),
      ],
    });
    // The answers the edge gave so far: the start's one request.
    let edgeRequests = 1;

    const { connections, durationS, warmupS, rounds, sliceS } = config;
    const slices = Math.ceil(durationS / sliceS);
    out(
      `bench: GET ${BENCH_PATH}; autocannon ${connections} connections, pipelining 1, ` +
        `${warmupS} s warm-up + ${durationS} s measured per target` +
        `${slices > 1 ? `, b and c in turns of ${sliceS} s` : ""}` +
        `${rounds > 1 ? `; ${rounds} rounds of a, b, c (medians reported)` : ""}`,
    );
    // The processes whose CPU time is read around each measured window (Redis and the broker
    // by the port they listen on: they must run on this machine for their figures).
    const pids: Record<Probed, number | undefined> = {
      bare: bareProxy.child.pid,
      bareMain: bareProxy.child.pid,
      edge: edge.child.pid,
      edgeMain: edge.child.pid,
      redis: pidListeningOn(Number(new URL(config.redisUrl).port || 6379)),
      broker: pidListeningOn(Number(config.brokers[0]?.split(":").pop() ?? 9092)),
    };
    const comms = {} as Record<Probed, string | undefined>;
    for (const p of PROBED)
      comms[p] =
        pids[p] === undefined || MAIN_THREADS.has(p) ? undefined : processCpu(pids[p] as number)?.comm;
    const problems: string[] = [];
    const run = async (id: TargetId, label: string, load: () => Promise<LoadResult>): Promise<Measured> => {
      const before = cpuSnapshot(pids);
      const result = await load();
      const after = cpuSnapshot(pids);
      problems.push(...problemsOf(`${targets[id].name} ${label}`, result));
      if (id === "c") edgeRequests += result.responses;
      const cpuS = {} as Record<Probed, number>;
      for (const p of PROBED) cpuS[p] = after[p] - before[p];
      return { ...result, cpuS };
    };
    /**
     * (b) and (c) under the same load, taking turns of `sliceS` seconds until each ran
     * `durationS` (b c, c b, b c, …), each target's slices merged into one run. On a shared
     * machine a slowdown lasting seconds then falls on both, which one window after the other
     * would charge to one of them. Also returns the edge's CPU per request over the bare proxy's
     * for each pair of slices run back to back.
     */
    const alternate = async (
      label: string,
      load: (id: "b" | "c", seconds: number, latencies: LatencyRecorder) => Promise<LoadResult>,
    ) => {
      const parts = { b: [] as Measured[], c: [] as Measured[] };
      const latencies = { b: createLatencyRecorder(), c: createLatencyRecorder() };
      for (let i = 0; i < slices; i++) {
        const seconds = Math.min(sliceS, durationS - i * sliceS);
        for (const id of i % 2 === 0 ? (["b", "c"] as const) : (["c", "b"] as const)) {
          parts[id].push(await run(id, label, () => load(id, seconds, latencies[id])));
        }
      }
      const perRequest = (m: Measured, p: Probed) => m.cpuS[p] / m.responses;
      return {
        b: mergeSlices(parts.b, latencies.b),
        c: mergeSlices(parts.c, latencies.c),
        pairRatios: parts.c.map((c, i) => perRequest(c, "edge") / perRequest(parts.b[i] as Measured, "bare")),
      };
    };
    // Around the edge's peak windows: Redis commands (all clients: Redis is shared) and the
    // requests the edge itself counted, which include the few autocannon abandons at the end.
    const redisCalls = new Map<string, number>();
    let edgeCountedInWindows = 0;

    // Rounds interleave the targets, so that a burst of foreign load on a shared machine hits
    // each of them rather than one; every figure reported is the median over the rounds.
    // The profiles are summarised from here on: start-up (tsx compiling every module) left out.
    const loadStartedUs = Number(process.hrtime.bigint() / 1000n);
    const peak: Record<TargetId, Measured[]> = { a: [], b: [], c: [] };
    const peakPairRatios: number[] = [];
    const warmUp = async (id: TargetId) => {
      if (warmupS > 0)
        await run(id, "warm-up", () => runAutocannon(targets[id], { connections, durationS: warmupS }));
    };
    for (let round = 1; round <= rounds; round++) {
      if (round === 1) await warmUp("a");
      peak.a.push(await run("a", "peak", () => runAutocannon(targets.a, { connections, durationS })));
      if (round === 1) for (const id of ["b", "c"] as const) await warmUp(id);
      // Redis sees only the edge's traffic during the turns: the bare proxy sends it nothing.
      const callsBefore = await redisCommandCalls(redis);
      const countedBefore = await edgeRequestsCounted();
      const turns = await alternate("peak", (id, seconds, latencies) =>
        runAutocannon(targets[id], { connections, durationS: seconds }, latencies),
      );
      // Requests abandoned at the end of the run finish (or fail) within moments.
      await new Promise((r) => setTimeout(r, 500));
      edgeCountedInWindows += (await edgeRequestsCounted()) - countedBefore;
      for (const [command, calls] of callsDelta(callsBefore, await redisCommandCalls(redis))) {
        redisCalls.set(command, (redisCalls.get(command) ?? 0) + calls);
      }
      peak.b.push(turns.b);
      peak.c.push(turns.c);
      peakPairRatios.push(...turns.pairRatios);
      // Each round's own figure: a round the machine slowed shows here, not only in the median.
      for (const id of TARGET_IDS) {
        const result = peak[id].at(-1) as Measured;
        const probed = id === "b" ? "bare" : id === "c" ? "edge" : undefined;
        const cpu = probed
          ? `, cpu ${((result.cpuS[probed] / result.responses) * 1e6).toFixed(0)} µs/req`
          : "";
        out(
          `bench: ${rounds > 1 ? `round ${round}: ` : ""}${targets[id].name}: ${result.rps.toFixed(0)} rps, ` +
            `p50 ${ms(result.p50)} ms, p99 ${ms(result.p99)} ms${cpu}`,
        );
      }
    }

    const halfRate = Math.max(1, Math.round(median(peak.b.map((r) => r.rps)) / 2));
    out(`bench: at half of (b)'s peak: ${halfRate} rps for ${durationS} s per target and load`);
    // The edge's own histograms over its paced windows: how much of a request's time was the
    // wait for Redis' decision and for the upstream's headers (ms, per round).
    const pacedParts: Record<keyof typeof EDGE_LATENCY_HISTOGRAMS, { p50: number[]; p99: number[] }> = {
      limiter: { p50: [], p99: [] },
      upstream: { p50: [], p99: [] },
    };
    const half: Record<HalfMode, Record<"b" | "c", Measured[]>> = {
      burst: { b: [], c: [] },
      paced: { b: [], c: [] },
    };
    for (let round = 1; round <= rounds; round++) {
      const burst = await alternate("half rate (autocannon)", (id, seconds, latencies) =>
        runAutocannon(targets[id], { connections, durationS: seconds, overallRate: halfRate }, latencies),
      );
      // The edge's histograms move only during its own turns.
      const metricsBefore = await edgeMetrics();
      const paced = await alternate("half rate (paced)", (id, seconds, latencies) =>
        runPaced(targets[id], { rate: halfRate, durationS: seconds, connections }, latencies),
      );
      const metricsAfter = await edgeMetrics();
      for (const id of ["b", "c"] as const) {
        half.burst[id].push(burst[id]);
        half.paced[id].push(paced[id]);
      }
      for (const part of Object.keys(pacedParts) as (keyof typeof pacedParts)[]) {
        const name = EDGE_LATENCY_HISTOGRAMS[part];
        const before = histogramBuckets(metricsBefore, name);
        const after = histogramBuckets(metricsAfter, name);
        pacedParts[part].p50.push(histogramQuantile(before, after, 0.5) * 1000);
        pacedParts[part].p99.push(histogramQuantile(before, after, 0.99) * 1000);
      }
    }

    // What the edge itself counted (autocannon abandons the requests in flight when a run ends,
    // so the edge handled a few more than the generator saw answered).
    const finalMetrics = await edgeMetrics();
    const handled = counterSum(finalMetrics, "edge_requests_total");
    // Decisions Redis did not take in time (the limiter answered from memory instead).
    const limiterFallbacks = counterSum(finalMetrics, "edge_limiter_fallback_total");
    // How the usage events travelled: Kafka produce requests (acks=all batches) of the edge.
    const produceRequests = counterSum(finalMetrics, "kafka_producer_send_seconds_count");
    // A graceful stop drains the edge's usage events to Kafka (or to the spool when it cannot).
    const edgeExit = await stopService(edge);
    const usageEvents = await countMessages(kafka, topicName(topics.usageEvents, topicPrefix));
    const authFailures = await countMessages(kafka, topicName(topics.authFailures, topicPrefix));
    const spooledBytes = dirBytes(spoolDir);

    // ---- the report
    const med = (results: LoadResult[], pick: (r: LoadResult) => number) => median(results.map(pick));
    const ratio = (num: LoadResult[], den: LoadResult[]) =>
      median(num.map((r, i) => r.rps / (den[i]?.rps ?? 0)));
    const throughputRatio = ratio(peak.c, peak.b);
    out();
    out(
      `Edge benchmark (GET ${BENCH_PATH}, ${connections} connections, pipelining 1, ${durationS} s per run` +
        `${rounds > 1 ? `, median of ${rounds} rounds` : ""})`,
    );
    out();
    out("Peak (autocannon, closed loop):");
    out(
      table(
        ["target", "rps", "p50 ms", "p99 ms", "non-2xx", "errors"],
        TARGET_IDS.map((id) => [
          targets[id].name,
          med(peak[id], (r) => r.rps).toFixed(0),
          ms(med(peak[id], (r) => r.p50)),
          ms(med(peak[id], (r) => r.p99)),
          String(peak[id].reduce((n, r) => n + r.non2xx, 0)),
          String(peak[id].reduce((n, r) => n + r.errors + r.timeouts, 0)),
        ]),
      ),
    );
    out(
      `  throughput c/b = ${throughputRatio.toFixed(3)}  (goal ≥ ${GOALS.throughputRatio})  ` +
        `${verdict(throughputRatio >= GOALS.throughputRatio)}` +
        `   [b/a = ${ratio(peak.b, peak.a).toFixed(3)}, c/a = ${ratio(peak.c, peak.a).toFixed(3)}]`,
    );
    // CPU per request of one process over a set of windows: medians of the per-round figures.
    const cpuPerRequestUs = (runs: Measured[], p: Probed) =>
      median(runs.map((r) => (r.cpuS[p] / r.responses) * 1e6));
    const cores = (runs: Measured[], p: Probed) => median(runs.map((r) => r.cpuS[p] / r.durationS));
    const us = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : "n/a");
    const bareUs = cpuPerRequestUs(peak.b, "bare");
    const edgeUs = cpuPerRequestUs(peak.c, "edge");
    const cpuRatio = edgeUs / bareUs;
    out();
    out(
      `cpu per request: bare ${us(bareUs)} µs, edge ${us(edgeUs)} µs, ratio ${cpuRatio.toFixed(2)}  ` +
        `(goal ≤ ${GOALS.cpuRatio})  ${verdict(cpuRatio <= GOALS.cpuRatio)}`,
    );
    out(
      table(
        ["process", "pid", "(b) cores", "(b) µs/req", "(c) cores", "(c) µs/req"],
        PROBED.map((p) => {
          const pid = pids[p];
          const comm = comms[p];
          return [
            `${PROBE_NAMES[p]}${comm ? ` (${comm})` : ""}`,
            pid === undefined ? "not found" : String(pid),
            cores(peak.b, p).toFixed(2),
            us(cpuPerRequestUs(peak.b, p)),
            cores(peak.c, p).toFixed(2),
            us(cpuPerRequestUs(peak.c, p)),
          ];
        }),
      ),
    );
    if (peakPairRatios.length > 1) {
      const sorted = [...peakPairRatios].sort((x, y) => x - y);
      out(
        `  ratio per pair of ${sliceS} s turns run back to back: median ${median(sorted).toFixed(2)}, ` +
          `range ${(sorted[0] as number).toFixed(2)}–${(sorted.at(-1) as number).toFixed(2)} (${sorted.length} pairs)`,
      );
    }
    out(
      "  CPU time (user + system, every thread) from /proc/<pid>/stat over the peak windows only, per\n" +
        "  answer of that window; clock tick 1/" +
        `${CLOCK_TICKS_PER_S} s. Redis and the broker are shared with everything else on the machine:\n` +
        "  their (b) column (no Redis or Kafka traffic from the bench) is the background to subtract.\n" +
        "  A node process' main thread runs its JavaScript and system calls; its other threads are V8's\n" +
        "  (garbage collection helpers, concurrent marking, the optimising compiler) and libuv's.",
    );

    const latencyRows = HALF_MODES.map((mode) => {
      const { b, c } = half[mode];
      // Added latency per round (b and c ran back to back), then the median over the rounds.
      const addedP50 = median(c.map((r, i) => r.p50 - (b[i]?.p50 ?? Number.NaN)));
      const addedP99 = median(c.map((r, i) => r.p99 - (b[i]?.p99 ?? Number.NaN)));
      const signed = (v: number) => `${v >= 0 ? "+" : ""}${ms(v)}`;
      return [
        mode === "burst" ? "autocannon overallRate" : "paced (even spacing)",
        `${med(b, (r) => r.rps).toFixed(0)} / ${med(c, (r) => r.rps).toFixed(0)}`,
        ms(med(b, (r) => r.p50)),
        ms(med(c, (r) => r.p50)),
        `${signed(addedP50)} ${verdict(addedP50 <= GOALS.addedP50Ms)}`,
        ms(med(b, (r) => r.p99)),
        ms(med(c, (r) => r.p99)),
        `${signed(addedP99)} ${verdict(addedP99 <= GOALS.addedP99Ms)}`,
      ];
    });
    out();
    out(
      `At half of (b)'s peak, ${halfRate} rps (goals: added p50 ≤ ${GOALS.addedP50Ms} ms, ` +
        `added p99 ≤ ${GOALS.addedP99Ms} ms):`,
    );
    out(
      table(["load", "rps b / c", "b p50", "c p50", "added p50", "b p99", "c p99", "added p99"], latencyRows),
    );
    out(
      "  autocannon's overallRate spends each connection's per-second budget back to back at the start of\n" +
        "  every second, so its latencies are those of bursts at full concurrency; the paced rows send one\n" +
        "  request every 1/rate s (1 ms timer granularity) and show the per-request cost at that rate.",
    );
    const partMs = (v: number) => (Number.isFinite(v) ? ms(v) : "n/a");
    out(
      `  within the edge, paced (its histograms): waiting for the limiter's decision p50 ${partMs(median(pacedParts.limiter.p50))} ms, ` +
        `p99 ${partMs(median(pacedParts.limiter.p99))} ms;\n` +
        `  from forwarding to the upstream's headers p50 ${partMs(median(pacedParts.upstream.p50))} ms, ` +
        `p99 ${partMs(median(pacedParts.upstream.p99))} ms (interpolated within buckets)`,
    );
    const pacedBareUs = cpuPerRequestUs(half.paced.b, "bare");
    const pacedEdgeUs = cpuPerRequestUs(half.paced.c, "edge");
    out(
      `  cpu per request at half rate (paced): bare ${us(pacedBareUs)} µs, edge ${us(pacedEdgeUs)} µs, ` +
        `ratio ${(pacedEdgeUs / pacedBareUs).toFixed(2)}`,
    );

    // commandstats also counts the commands a script runs inside Redis: the rate-limit scripts
    // run one MGET and, when they allow, an INCR and an expiry (PEXPIRE or PEXPIREAT) per window.
    // Those are no round trips; any other command is (an MGET beyond one per script run included).
    const calls = (command: string) => redisCalls.get(command) ?? 0;
    const scriptRuns = calls("evalsha") + calls("eval");
    const inScripts = new Map([
      ["incr", calls("incr")],
      ["pexpireat", calls("pexpireat")],
      ["pexpire", calls("pexpire")],
      ["mget", Math.min(calls("mget"), scriptRuns)],
    ]);
    const roundTrips = [...redisCalls]
      .filter(([command]) => command !== "info")
      .map(([command, n]) => [command, n - (inScripts.get(command) ?? 0)] as const)
      .filter(([, n]) => n > 0);
    const redisTotal = roundTrips.reduce((n, [, c]) => n + c, 0);
    const perRequest = redisTotal / edgeCountedInWindows;
    out();
    out(
      `Redis round trips per authenticated request: ${perRequest.toFixed(2)}  ` +
        `(goal ${GOALS.redisCallsPerRequest.toFixed(2)})  ` +
        `${verdict(perRequest.toFixed(2) === GOALS.redisCallsPerRequest.toFixed(2))}`,
    );
    out(
      `  INFO commandstats over the (c) peak windows: ${redisTotal} commands sent ` +
        `(${
          roundTrips
            .sort((x, y) => y[1] - x[1])
            .map(([command, calls]) => `${command} ${calls}`)
            .join(", ") || "none"
        }) for ${edgeCountedInWindows} requests the edge counted; not counted: the bench's own INFO\n` +
        `  calls and the commands run inside the scripts (${[...inScripts]
          .filter(([, n]) => n > 0)
          .map(([c, n]) => `${c} ${n}`)
          .join(", ")}).\n` +
        "  Redis is shared: another client's commands in that window count too (look for commands the edge\n" +
        "  does not send: the edge sends one EVALSHA per decision, EVAL after a NOSCRIPT).",
    );
    out();
    out(
      `Usage events on ${topicName(topics.usageEvents, topicPrefix)}: ${usageEvents}; ` +
        `requests the edge counted (edge_requests_total): ${handled}; ` +
        `answers the load generator saw from the edge: ${edgeRequests}` +
        `${spooledBytes > 0 ? `; ${spooledBytes} bytes left in the spool` : ""}; ` +
        `auth failures: ${authFailures}; limiter decisions not taken by Redis: ${limiterFallbacks}; ` +
        `Kafka produce requests: ${produceRequests} (${(usageEvents / produceRequests).toFixed(1)} events each); ` +
        `edge exit code ${edgeExit}.`,
    );
    out(
      `  usage events on the topic = requests the edge counted: ${verdict(usageEvents === handled)}` +
        `${usageEvents !== handled ? ` (${handled - usageEvents} of the edge's requests have no usage event on Kafka)` : ""}`,
    );

    if (profile) {
      await stopService(bareProxy); // node writes the profile on exit
      for (const [name, label] of [
        ["edge", "Edge"],
        ["bare", "Bare proxy"],
      ] as const) {
        const dir = join(profileDir, name);
        const files = readdirSync(dir).map((file) => join(dir, file));
        const file = files.sort((x, y) => statSync(y).size - statSync(x).size)[0] ?? dir;
        out();
        out(`${label} CPU profile under the bench's load (node --cpu-prof; sampling slows it): ${file}`);
        try {
          out(formatSummary(summariseProfile(readProfile(file), 20, loadStartedUs)));
        } catch (error) {
          out(`  no profile: ${(error as Error).message}`);
        }
      }
    }

    return reportProblems(problems, out);
  } finally {
    // A failure reaches runBench, which prints it and exits 1, after the clean-up.
    await stack.cleanUp();
  }
}

runBench("bench:edge", main);
