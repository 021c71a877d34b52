// `pnpm bench:edge-instructions`: the bare proxy and the edge of `pnpm bench:edge`, each run under
// valgrind's callgrind, which counts the instructions a process executes in user space (every
// thread: JavaScript, V8, node, libuv, libc). A count does not move with the machine's speed or
// with what else runs on it, so a change of a few percent shows where CPU time per request, which
// moves by tens of percent between runs here, cannot show it. What it leaves out: the kernel's
// work for the process' system calls, and what an instruction costs (cache misses, branches).
//
// Both run with node's --predictable: V8 then compiles and collects garbage on the main thread
// when due, not on helper threads whenever they get a core, so the same requests cost the same.
// Each measured window is framed by `callgrind_control --zero` and `--dump`. Under callgrind the
// proxies run about 50 times slower, so the load is a fixed number of requests over a few
// connections, and the edge's usage events wait longer for company (USAGE_LINGER_MS) so that a
// Kafka produce request still carries hundreds of them.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { envTypes, kafkaEnv, parseEnv, redisEnv } from "@apimon/config";
import { createLogger } from "@apimon/observability";
import {
  addCount,
  isCompilerWork,
  nameFunctions,
  originOf,
  readDumpCosts,
  readPerfMap,
  shortName,
} from "./callgrind-functions";
import { createEdgeStack, type ProxyName } from "./edge-stack";
import { type LoadTarget, runPaced } from "./http-load";
import { median, problemsOf, reportProblems, runBench, table } from "./report";

const repoDir = join(__dirname, "..", "..");
const out = (line = "") => process.stdout.write(`${line}\n`);
const logger = createLogger({ service: "bench-edge-instructions", level: "silent" });
const PROXIES: readonly ProxyName[] = ["bare", "edge"];
/** Warm-up ends when each proxy's last two windows differ by at most this fraction. */
const SETTLED = 0.03;

function loadConfig(env = process.env) {
  const raw = parseEnv(
    {
      ...kafkaEnv,
      ...redisEnv,
      BENCH_REQUESTS: envTypes.positiveInt(2000),
      BENCH_WARMUP_REQUESTS: envTypes.nonNegativeInt(10_000),
      BENCH_CONNECTIONS: envTypes.positiveInt(4),
      BENCH_ROUNDS: envTypes.positiveInt(5),
      BENCH_MAX_WARMUP_WINDOWS: envTypes.positiveInt(15),
    },
    env,
  );
  return {
    brokers: raw.KAFKA_BROKERS,
    redisUrl: raw.REDIS_URL,
    requests: raw.BENCH_REQUESTS,
    warmupRequests: raw.BENCH_WARMUP_REQUESTS,
    connections: raw.BENCH_CONNECTIONS,
    rounds: raw.BENCH_ROUNDS,
    maxWarmupWindows: raw.BENCH_MAX_WARMUP_WINDOWS,
    nodeFlags: (env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean),
  };
}

function requireValgrind(): void {
  try {
    execFileSync("valgrind", ["--version"], { stdio: "ignore" });
    execFileSync("callgrind_control", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error("valgrind is not installed (Debian: apt-get install valgrind)");
  }
}

/** Sends a callgrind_control command (`--zero`, `--dump`) to one process. */
function callgrindControl(pid: number, command: string): void {
  execFileSync("callgrind_control", [command, String(pid)], { stdio: "ignore", timeout: 120_000 });
}

/** The newest of a process' callgrind dumps (`<prefix>.<pid>.<n>`). */
function newestDump(dir: string, prefix: string, pid: number): string {
  const name = `${prefix}.${pid}.`;
  const dumps = readdirSync(dir)
    .filter((file) => file.startsWith(name))
    .sort((x, y) => Number(y.slice(name.length)) - Number(x.slice(name.length)));
  if (dumps[0] === undefined) throw new Error(`no callgrind dump of ${prefix} (pid ${pid}) in ${dir}`);
  return join(dir, dumps[0]);
}

/** A window's instructions per request: all of them, and all but V8's compilers' work. */
interface WindowCount {
  all: number;
  steady: number;
}

const thousands = (v: number) => (Number.isFinite(v) ? `${(v / 1000).toFixed(1)} k` : "n/a");

/** V8's perf map of a process (node --perf-basic-prof). */
const perfMapOf = (pid: number) => `/tmp/perf-${pid}.map`;

/** Instructions by function of each proxy, summed over the measured rounds, and their requests. */
interface FunctionTotals {
  instructions: Record<ProxyName, Map<string, number>>;
  requests: Record<ProxyName, number>;
}

/**
 * The rows of the bare proxy and the edge, per request, with the edge's extra, for the `limit`
 * keys where the edge does most more; the rest in one row.
 */
function extraRows(totals: FunctionTotals, keyOf: (name: string) => string, limit: number): string[][] {
  const perRequest = (name: ProxyName) => {
    const byKey = new Map<string, number>();
    for (const [fn, instructions] of totals.instructions[name]) {
      addCount(byKey, keyOf(fn), instructions / totals.requests[name]);
    }
    return byKey;
  };
  const bare = perRequest("bare");
  const edge = perRequest("edge");
  const keys = [...new Set([...bare.keys(), ...edge.keys()])];
  const extra = (key: string) => (edge.get(key) ?? 0) - (bare.get(key) ?? 0);
  keys.sort((x, y) => Math.abs(extra(y)) - Math.abs(extra(x)));
  const shown = keys.slice(0, limit);
  const rest = keys.slice(limit);
  const sum = (m: Map<string, number>, ks: string[]) => ks.reduce((total, k) => total + (m.get(k) ?? 0), 0);
  const row = (label: string, b: number, e: number) => [label, thousands(b), thousands(e), thousands(e - b)];
  return [
    ...shown.map((key) => row(key, bare.get(key) ?? 0, edge.get(key) ?? 0)),
    row(`the other ${rest.length}`, sum(bare, rest), sum(edge, rest)),
    row("all", sum(bare, keys), sum(edge, keys)),
  ];
}

async function main(): Promise<number> {
  const config = loadConfig();
  requireValgrind();
  const stack = createEdgeStack("bench-edge-instr", config, logger, out);
  const dumpDir = join(repoDir, ".runtime", "bench-edge-instructions", stack.runId);
  mkdirSync(dumpDir, { recursive: true });
  const lastDump = {} as Record<ProxyName, string>;
  /** The started processes' pids; empty until they start. */
  const pids = {} as Record<ProxyName, number>;

  try {
    out("bench: starting the bare proxy and the edge under callgrind (a minute or two)");
    const { bareProxy, edge, targets, edgeRequestsCounted } = await stack.start({
      wrapper: (name) => [
        "valgrind",
        "--tool=callgrind",
        // V8 writes and rewrites machine code at run time.
        "--smc-check=all-non-file",
        `--callgrind-out-file=${join(dumpDir, name)}.%p`,
        `--log-file=${join(dumpDir, name)}.valgrind.%p.log`,
      ],
      // --perf-basic-prof: V8 writes where each function's machine code lies, to name it below.
      nodeFlags: () => ["--predictable", "--perf-basic-prof", ...config.nodeFlags],
      edgeEnv: { USAGE_LINGER_MS: "2000" },
      readyTimeoutMs: 600_000,
    });
    pids.bare = bareProxy.child.pid as number;
    pids.edge = edge.child.pid as number;
    const proxyTarget: Record<ProxyName, LoadTarget & { name: string }> = {
      bare: targets.b,
      edge: targets.c,
    };
    const { requests, warmupRequests, connections, rounds } = config;
    // A fixed number of requests over `connections` keep-alive sockets: all are due at once, so
    // each waits for a free socket, which makes a closed loop of `connections` clients.
    const load = (name: ProxyName, total: number) =>
      runPaced(proxyTarget[name], { rate: total, durationS: 1, connections });

    out(
      `bench: GET ${targets.b.url.slice(targets.b.url.indexOf("/", 8))}; ${connections} connections; ` +
        `${warmupRequests} requests of warm-up, then windows of ${requests} requests per proxy`,
    );
    const problems: string[] = [];
    for (const name of PROXIES) {
      const result = await load(name, warmupRequests);
      problems.push(...problemsOf(`${proxyTarget[name].name} warm-up`, result));
    }

    const functions: FunctionTotals = {
      instructions: { bare: new Map(), edge: new Map() },
      requests: { bare: 0, edge: 0 },
    };
    /**
     * Instructions per request over one window of `requests`; only its dump is kept. A measured
     * window's functions are named at once, while V8's map still says which code lay where.
     */
    const measureWindow = async (
      name: ProxyName,
      label: string,
      measuredRound = false,
    ): Promise<WindowCount> => {
      const countedBefore = name === "edge" ? await edgeRequestsCounted() : 0;
      callgrindControl(pids[name], "--zero");
      const result = await load(name, requests);
      callgrindControl(pids[name], "--dump");
      problems.push(...problemsOf(`${proxyTarget[name].name} ${label}`, result));
      // The edge's own count: a request the load generator gave up on still cost the edge.
      const served = name === "edge" ? (await edgeRequestsCounted()) - countedBefore : result.responses;
      const file = newestDump(dumpDir, name, pids[name]);
      if (lastDump[name] !== undefined) rmSync(lastDump[name], { force: true });
      lastDump[name] = file;
      const costs = readDumpCosts(file);
      let total = 0;
      let compiling = 0;
      for (const [fn, instructions] of costs.self) {
        total += instructions;
        if (isCompilerWork(fn)) compiling += instructions;
      }
      const count = { all: total / served, steady: (total - compiling) / served };
      if (measuredRound) {
        const named = nameFunctions(costs, readPerfMap(perfMapOf(pids[name])), repoDir);
        for (const [fn, instructions] of named) addCount(functions.instructions[name], fn, instructions);
        functions.requests[name] += served;
      }
      out(
        `bench: ${label}: ${proxyTarget[name].name}: ${served} requests, ${thousands(count.all)} ` +
          `instructions each, ${thousands(count.steady)} without V8's compilers`,
      );
      return count;
    };
    // b and c take turns (b c, c b, …) in every window, so that neither idles longer than the other.
    const turns = (i: number) => (i % 2 === 0 ? PROXIES : [...PROXIES].reverse());

    // V8 goes on optimising (and now and then deoptimising) for tens of thousands of requests, at
    // a cost that dwarfs a request's: windows are warm-up until each proxy's last two agree. The
    // compilers' own work comes in bursts and is left out of that comparison; what it leaves
    // behind (better code) is not.
    const history: Record<ProxyName, number[]> = { bare: [], edge: [] };
    const settled = (values: number[]) => {
      const [previous, last] = values.slice(-2);
      return previous !== undefined && last !== undefined && Math.abs(last - previous) <= SETTLED * previous;
    };
    let warmupWindows = 0;
    while (warmupWindows < config.maxWarmupWindows && !PROXIES.every((name) => settled(history[name]))) {
      for (const name of turns(warmupWindows))
        history[name].push((await measureWindow(name, `warm-up window ${warmupWindows + 1}`)).steady);
      warmupWindows++;
    }
    if (!PROXIES.every((name) => settled(history[name]))) {
      out(
        `bench: not settled after ${warmupWindows} warm-up windows: the rounds may still hold V8's compilations`,
      );
    }

    const measured: Record<ProxyName, number[]> = { bare: [], edge: [] };
    const steady: Record<ProxyName, number[]> = { bare: [], edge: [] };
    for (let round = 1; round <= rounds; round++) {
      for (const name of turns(warmupWindows + round - 1)) {
        const count = await measureWindow(name, `round ${round}`, true);
        measured[name].push(count.all);
        steady[name].push(count.steady);
      }
    }

    const spread = (values: number[]) =>
      `${(((Math.max(...values) - Math.min(...values)) / median(values)) * 100).toFixed(1)}%`;
    const ratioLine = (label: string, counts: Record<ProxyName, number[]>) =>
      `${label}: bare ${thousands(median(counts.bare))}, edge ${thousands(median(counts.edge))}, ` +
      `ratio ${(median(counts.edge) / median(counts.bare)).toFixed(3)} (rounds: ` +
      `${counts.edge.map((e, i) => (e / (counts.bare[i] as number)).toFixed(3)).join(", ")})`;
    out();
    out(
      `Instructions per request under callgrind (${requests} requests per window, ${connections} ` +
        `connections, median of ${rounds} rounds after ${warmupWindows} warm-up windows)`,
    );
    out(
      table(
        ["proxy", "counted", "per request", "rounds", "spread"],
        PROXIES.flatMap((name) =>
          (
            [
              ["all", measured],
              ["without compilers", steady],
            ] as const
          ).map(([what, counts]) => [
            proxyTarget[name].name,
            what,
            thousands(median(counts[name])),
            counts[name].map(thousands).join(", "),
            spread(counts[name]),
          ]),
        ),
      ),
    );
    out(ratioLine("instructions per request", measured));
    out(ratioLine("without V8's compilers", steady));
    out(
      "  user-space instructions of the whole process (callgrind's Ir) over the measured windows only,\n" +
        "  node with --predictable; the kernel's work for system calls is not counted. V8's compilers\n" +
        "  (TurboFan, Maglev, Sparkplug, the parser and bytecode generator) still work in bursts after\n" +
        "  tens of thousands of requests: the second line leaves their work out. The last round's\n" +
        "  dumps, for callgrind_annotate (V8's builtins and C++ have symbols there, JIT-compiled\n" +
        `  JavaScript has none): ${Object.values(lastDump).join(" ")}`,
    );
    out();
    out("Where the instructions go, by origin (k per request over all measured rounds, self cost)");
    out(table(["origin", "bare", "edge", "edge − bare"], extraRows(functions, originOf, 16)));
    out();
    out("The functions where the edge executes most more than the bare proxy (k per request, self cost)");
    out(
      table(
        ["function", "bare", "edge", "edge − bare"],
        extraRows(functions, (name) => shortName(name), 30),
      ),
    );
    out(
      "  a function's own instructions, not those of what it calls; JavaScript named from V8's perf\n" +
        "  map (node --perf-basic-prof), its tiers added up",
    );

    return reportProblems(problems, out);
  } finally {
    // A failure reaches runBench, which prints it and exits 1, after the clean-up.
    await stack.cleanUp();
    // V8's perf maps stay beside the dumps they name.
    for (const [name, pid] of Object.entries(pids)) {
      if (!existsSync(perfMapOf(pid))) continue;
      copyFileSync(perfMapOf(pid), join(dumpDir, `${name}.perf-${pid}.map`));
      rmSync(perfMapOf(pid), { force: true });
    }
    // callgrind also dumps at exit: only the last round's dumps and valgrind's logs stay.
    const kept = new Set(Object.values(lastDump));
    for (const file of readdirSync(dumpDir).map((f) => join(dumpDir, f)))
      if (!kept.has(file) && !file.endsWith(".log") && !file.endsWith(".map")) rmSync(file, { force: true });
  }
}

runBench("bench:edge-instructions", main);
