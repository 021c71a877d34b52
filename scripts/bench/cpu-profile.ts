// Reads a V8 .cpuprofile (what `node --cpu-prof` writes) and sums self time per function: the
// figure that says where a process' own CPU goes, as opposed to total time, which every caller
// up the stack shares.
//
//   tsx scripts/bench/cpu-profile.ts <file.cpuprofile> [top=20] [fromUs=0]
//
// `pnpm bench:edge --profile` profiles the edge and prints the same table at the end.
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTimeRow {
  /** `name (file:line)`, or V8's own entries such as `(garbage collector)`. */
  fn: string;
  selfMs: number;
  /** Share of the profile's busy time (everything but `(idle)`). */
  share: number;
}

export interface ProfileSummary {
  busyMs: number;
  idleMs: number;
  functions: SelfTimeRow[];
  /** Self time by where the code lives: a package under node_modules, node's internals, our code. */
  origins: SelfTimeRow[];
}

/** Where a script lives: `undici`, `node:internal`, `services/edge`, … */
function originOf(url: string): string {
  if (url === "") return "(v8 / native)";
  if (url.startsWith("node:")) return "node: internals";
  const modules = url.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const path = url.replace(/^file:\/\//, "");
  const parts = path.split("/");
  for (const top of ["services", "packages", "scripts"]) {
    const at = parts.lastIndexOf(top);
    if (at >= 0) return parts.slice(at, at + 2).join("/");
  }
  return path;
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf("/node_modules/");
  if (modules >= 0) return url.slice(modules + "/node_modules/".length);
  const path = url.replace(/^file:\/\//, "");
  for (const top of ["/services/", "/packages/", "/scripts/"]) {
    const at = path.lastIndexOf(top);
    if (at >= 0) return path.slice(at + 1);
  }
  return path;
}

/**
 * Self time per function and per origin, largest first. `fromUs`: only samples taken from then
 * on (V8's timestamps are CLOCK_MONOTONIC µs, the clock of `process.hrtime` in any process on
 * the machine), e.g. to leave start-up out.
 */
export function summariseProfile(profile: CpuProfile, top = 20, fromUs = 0): ProfileSummary {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < fromUs) continue;
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === "(idle)") {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const name = frame.functionName || "(anonymous)";
    const fn = frame.url ? `${name} (${shortUrl(frame.url)}:${frame.lineNumber + 1})` : name;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const origin = frame.url ? originOf(frame.url) : name.startsWith("(") ? name : "(v8 / native)";
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + us);
  }
  const rows = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, us]) => ({ fn, selfMs: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  return {
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    functions: rows(byFunction),
    origins: rows(byOrigin),
  };
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
}

/** The summary as text: two tables, functions then origins. */
export function formatSummary(summary: ProfileSummary): string {
  const line = (r: SelfTimeRow) =>
    `  ${r.selfMs.toFixed(0).padStart(8)} ms  ${(r.share * 100).toFixed(1).padStart(5)}%  ${r.fn}`;
  return [
    `busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms`,
    "top functions by self time (share of busy time):",
    ...summary.functions.map(line),
    "self time by origin:",
    ...summary.origins.map(line),
  ].join("\n");
}

if (require.main === module) {
  const [file, top, fromUs] = process.argv.slice(2);
  if (!file) {
    process.stderr.write("usage: tsx scripts/bench/cpu-profile.ts <file.cpuprofile> [top] [fromUs]\n");
    process.exit(2);
  }
  process.stdout.write(
    `${formatSummary(summariseProfile(readProfile(file), Number(top ?? 20), Number(fromUs ?? 0)))}\n`,
  );
}
