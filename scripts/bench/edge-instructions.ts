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
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { envTypes, kafkaEnv, parseEnv, redisEnv } from "@apimon/config";
import { createLogger } from "@apimon/observability";
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

/** A dump's total instructions (its `summary:` line). */
function dumpTotal(file: string): number {
  const match = /^summary:\s*(\d+)/m.exec(readFileSync(file, "utf8"));
  if (!match?.[1]) throw new Error(`${file} has no summary line`);
  return Number(match[1]);
}

const thousands = (v: number) => (Number.isFinite(v) ? `${(v / 1000).toFixed(1)} k` : "n/a");

async function main(): Promise<number> {
  const config = loadConfig();
  requireValgrind();
  const stack = createEdgeStack("bench-edge-instr", config, logger, out);
  const dumpDir = join(repoDir, ".runtime", "bench-edge-instructions", stack.runId);
  mkdirSync(dumpDir, { recursive: true });
  const lastDump = {} as Record<ProxyName, string>;

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
      nodeFlags: () => ["--predictable", ...config.nodeFlags],
      edgeEnv: { USAGE_LINGER_MS: "2000" },
      readyTimeoutMs: 600_000,
    });
    const pids: Record<ProxyName, number> = {
      bare: bareProxy.child.pid as number,
      edge: edge.child.pid as number,
    };
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

    /** Instructions per request over one window of `requests`; only its dump is kept. */
    const measureWindow = async (name: ProxyName, label: string): Promise<number> => {
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
      const instructions = dumpTotal(file) / served;
      out(
        `bench: ${label}: ${proxyTarget[name].name}: ${served} requests, ${thousands(instructions)} instructions each`,
      );
      return instructions;
    };
    // b and c take turns (b c, c b, …) in every window, so that neither idles longer than the other.
    const turns = (i: number) => (i % 2 === 0 ? PROXIES : [...PROXIES].reverse());

    // V8 goes on optimising (and now and then deoptimising) for tens of thousands of requests, at
    // a cost that dwarfs a request's: windows are warm-up until each proxy's last two agree.
    const history: Record<ProxyName, number[]> = { bare: [], edge: [] };
    const settled = (values: number[]) => {
      const [previous, last] = values.slice(-2);
      return previous !== undefined && last !== undefined && Math.abs(last - previous) <= SETTLED * previous;
    };
    let warmupWindows = 0;
    while (warmupWindows < config.maxWarmupWindows && !PROXIES.every((name) => settled(history[name]))) {
      for (const name of turns(warmupWindows))
        history[name].push(await measureWindow(name, `warm-up window ${warmupWindows + 1}`));
      warmupWindows++;
    }
    if (!PROXIES.every((name) => settled(history[name]))) {
      out(
        `bench: not settled after ${warmupWindows} warm-up windows: the rounds may still hold V8's compilations`,
      );
    }

    const measured: Record<ProxyName, number[]> = { bare: [], edge: [] };
    for (let round = 1; round <= rounds; round++) {
      for (const name of turns(warmupWindows + round - 1))
        measured[name].push(await measureWindow(name, `round ${round}`));
    }

    const spread = (values: number[]) =>
      `${(((Math.max(...values) - Math.min(...values)) / median(values)) * 100).toFixed(1)}%`;
    const bare = median(measured.bare);
    const edgeInstructions = median(measured.edge);
    out();
    out(
      `Instructions per request under callgrind (${requests} requests per window, ${connections} ` +
        `connections, median of ${rounds} rounds after ${warmupWindows} warm-up windows)`,
    );
    out(
      table(
        ["proxy", "per request", "rounds", "spread"],
        PROXIES.map((name) => [
          proxyTarget[name].name,
          thousands(median(measured[name])),
          measured[name].map(thousands).join(", "),
          spread(measured[name]),
        ]),
      ),
    );
    out(
      `instructions per request: bare ${thousands(bare)}, edge ${thousands(edgeInstructions)}, ` +
        `ratio ${(edgeInstructions / bare).toFixed(3)} (rounds: ` +
        `${measured.edge.map((e, i) => (e / (measured.bare[i] as number)).toFixed(3)).join(", ")})`,
    );
    out(
      "  user-space instructions of the whole process (callgrind's Ir) over the measured windows only,\n" +
        "  node with --predictable; the kernel's work for system calls is not counted. The last round's\n" +
        "  dumps, for callgrind_annotate (V8's builtins and C++ have symbols there, JIT-compiled\n" +
        `  JavaScript has none): ${Object.values(lastDump).join(" ")}`,
    );

    return reportProblems(problems, out);
  } finally {
    // A failure reaches runBench, which prints it and exits 1, after the clean-up.
    await stack.cleanUp();
    // callgrind also dumps at exit: only the last round's dumps and valgrind's logs stay.
    const kept = new Set(Object.values(lastDump));
    for (const file of readdirSync(dumpDir).map((f) => join(dumpDir, f)))
      if (!kept.has(file) && !file.endsWith(".log")) rmSync(file, { force: true });
  }
}

runBench("bench:edge-instructions", main);
