// `pnpm bench:probes [dir]`: what the runtime probe (probes/runtime-probe.cjs) recorded in each
// process of a bench run, per request served: main-thread and other threads' CPU, garbage
// collection pauses, and with BENCH_PROBE_ALLOC=1 the bytes allocated and where. With the bare
// proxy and the edge both probed, it also lists the allocation sites where the edge allocates most
// beyond the bare proxy (sites are matched by function, file and line).
//
//   BENCH_PROBE_ALLOC=1 BENCH_NODE_FLAGS="--require ./scripts/bench/probes/runtime-probe.cjs" \
//     BENCH_ROUNDS=1 pnpm bench:edge && pnpm bench:probes
import { readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLOCK_TICKS_PER_S } from "./processes";
import { table } from "./report";

interface ProbeReport {
  entry: string;
  pid: number;
  requests: number;
  gc: Record<string, { count: number; ms: number }>;
  ticks: { main: number; other: number };
}

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const SITES = Number(process.env.BENCH_PROBE_SITES) || 25;

/** Sampled bytes by allocating function (`name file:line`). */
function allocationSites(head: ProfileNode): Map<string, number> {
  const sites = new Map<string, number>();
  const stack = [head];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    const { functionName, url, lineNumber } = node.callFrame;
    const site = `${functionName || "(anonymous)"} ${url.split("/").pop() || "(native)"}:${lineNumber + 1}`;
    sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
    stack.push(...node.children);
  }
  return sites;
}

const total = (sites: Map<string, number>) => [...sites.values()].reduce((a, b) => a + b, 0);
const perRequest = (value: number, requests: number, digits = 1) =>
  requests > 0 ? (value / requests).toFixed(digits) : "n/a";

function main(): void {
  const dir = process.argv[2] ?? process.env.BENCH_PROBE_DIR ?? join(tmpdir(), "apimon-probes");
  // Oldest first: the probe adds files run after run, and the comparison below takes the newest.
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort((a, b) => statSync(join(dir, a)).mtimeMs - statSync(join(dir, b)).mtimeMs)
    .map((f) => f.slice(0, -".json".length));
  if (names.length === 0) throw new Error(`no probe reports in ${dir}`);
  const usPerTick = 1e6 / CLOCK_TICKS_PER_S;
  const processes = names.map((name) => {
    const report = JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8")) as ProbeReport;
    let sites: Map<string, number> | undefined;
    try {
      const profile = JSON.parse(readFileSync(join(dir, `${name}.heapprofile`), "utf8"));
      sites = allocationSites(profile.head);
    } catch {
      // run without BENCH_PROBE_ALLOC=1
    }
    return { name, report, sites };
  });

  console.log(`Runtime probes in ${dir}: per request served, over each process' whole run`);
  console.log(
    table(
      [
        "process",
        "requests",
        "main µs",
        "other threads µs",
        "minor GC /1000",
        "minor µs",
        "major GC",
        "major µs",
        "KB allocated",
      ],
      processes.map(({ name, report: r, sites }) => [
        name,
        String(r.requests),
        perRequest(r.ticks.main * usPerTick, r.requests),
        perRequest(r.ticks.other * usPerTick, r.requests),
        perRequest((r.gc.minor?.count ?? 0) * 1000, r.requests, 2),
        perRequest((r.gc.minor?.ms ?? 0) * 1000, r.requests, 2),
        String(r.gc.major?.count ?? 0),
        perRequest(((r.gc.major?.ms ?? 0) + (r.gc.incremental?.ms ?? 0)) * 1000, r.requests, 2),
        sites ? perRequest(total(sites) / 1024, r.requests) : "—",
      ]),
    ),
  );
  console.log(
    "  main: the thread that runs JavaScript (GC pauses included); other threads: V8's GC helpers and\n" +
      "  optimising compiler, libuv's pool. GC pauses are the main thread's; major includes incremental steps.",
  );

  for (const { name, report, sites } of processes) {
    if (!sites) continue;
    console.log(`\n${name}: allocation sites, bytes per request (top ${SITES})`);
    const rows = [...sites].sort((a, b) => b[1] - a[1]).slice(0, SITES);
    console.log(
      table(
        ["site", "B/req"],
        rows.map(([site, bytes]) => [site, perRequest(bytes, report.requests, 0)]),
      ),
    );
  }

  const bare = processes.findLast((p) => p.name.startsWith("bare-proxy-"));
  const edge = processes.findLast((p) => p.name.startsWith("edge-"));
  if (bare?.sites && edge?.sites) {
    const b = bare.sites;
    const e = edge.sites;
    const extra = [...new Set([...b.keys(), ...e.keys()])]
      .map((site) => ({
        site,
        edge: (e.get(site) ?? 0) / edge.report.requests,
        bare: (b.get(site) ?? 0) / bare.report.requests,
      }))
      .sort((x, y) => y.edge - y.bare - (x.edge - x.bare))
      .slice(0, SITES);
    console.log(`\nWhere the edge allocates beyond the bare proxy, bytes per request (top ${SITES})`);
    console.log(
      table(
        ["site", "edge", "bare", "extra"],
        extra.map((x) => [x.site, x.edge.toFixed(0), x.bare.toFixed(0), `+${(x.edge - x.bare).toFixed(0)}`]),
      ),
    );
    console.log(
      "  A function V8 inlined counts where it was inlined, and the two processes may inline differently:\n" +
        "  read a site with a large extra beside the sites that call it.",
    );
  }
}

main();
