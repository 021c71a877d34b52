// A probe for the benchmarks' node processes, loaded with `--require` through BENCH_NODE_FLAGS:
// what the runtime itself spends per request, which a CPU profile of the JavaScript does not show.
// At exit it writes `<BENCH_PROBE_DIR>/<entry>-<pid>.json`:
//  - the HTTP requests the process served (every server's "request" event);
//  - garbage collection pauses on the main thread, by kind (count and ms);
//  - CPU time of the main thread and of all other threads together (V8's garbage collection
//    helpers and optimising compiler, libuv's pool), from /proc, in clock ticks;
// and with BENCH_PROBE_ALLOC=1 also `<entry>-<pid>.heapprofile`: V8's sampling heap profile of
// every allocation, collected objects included (one sample per `BENCH_PROBE_ALLOC_INTERVAL` bytes,
// default 8192), which a plain --heap-prof leaves out.
// `pnpm bench:probes` reads them. The figures cover the process' whole life: warm-up, the peak
// and the half-rate phases alike.
"use strict";
const { readdirSync, readFileSync, writeFileSync, mkdirSync } = require("node:fs");
const { Server } = require("node:http");
const { Session } = require("node:inspector");
const { tmpdir } = require("node:os");
const { basename, dirname, join } = require("node:path");
const { constants, PerformanceObserver } = require("node:perf_hooks");

const dir = process.env.BENCH_PROBE_DIR || join(tmpdir(), "apimon-probes");
mkdirSync(dir, { recursive: true });

let requests = 0;
const emit = Server.prototype.emit;
// `arguments` passed straight to apply allocates nothing, where a rest parameter would make an
// array per event and show in the allocation profile as the probe's own.
Server.prototype.emit = function countRequests(event) {
  if (event === "request") requests++;
  // biome-ignore lint/complexity/noArguments: see above
  return emit.apply(this, arguments);
};

const GC_KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
};
const gc = {};
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = GC_KINDS[entry.detail?.kind] ?? String(entry.detail?.kind);
    gc[kind] ??= { count: 0, ms: 0 };
    gc[kind].count++;
    gc[kind].ms += entry.duration;
  }
}).observe({ entryTypes: ["gc"] });

let session;
if (process.env.BENCH_PROBE_ALLOC === "1") {
  session = new Session();
  session.connect();
  session.post("HeapProfiler.startSampling", {
    samplingInterval: Number(process.env.BENCH_PROBE_ALLOC_INTERVAL) || 8192,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}

/** utime + stime of each thread of this process, in clock ticks. */
function threadTicks() {
  const ticks = { main: 0, other: 0 };
  for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
    let stat;
    try {
      stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, "utf8");
    } catch {
      continue; // the thread ended in between
    }
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks[tid === String(process.pid) ? "main" : "other"] += Number(fields[11]) + Number(fields[12]);
  }
  return ticks;
}

// Only synchronous work runs in "exit"; an in-process inspector session answers synchronously.
process.on("exit", () => {
  const entry = process.argv[process.argv.length - 1] ?? "node";
  // services/<name>/src/main.ts is named after its service.
  const file = basename(entry).replace(/\.[cm]?[jt]s$/, "");
  const name = `${file === "main" ? basename(dirname(dirname(entry))) : file}-${process.pid}`;
  const report = { entry, pid: process.pid, requests, gc, ticks: threadTicks() };
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(report)}\n`);
  session?.post("HeapProfiler.stopSampling", (error, result) => {
    if (!error) writeFileSync(join(dir, `${name}.heapprofile`), JSON.stringify(result.profile));
  });
});
