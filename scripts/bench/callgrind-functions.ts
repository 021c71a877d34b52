// Where a callgrind dump's instructions went, by function and by origin, JIT-compiled JavaScript
// included. callgrind knows the functions of the node binary and its libraries from their
// symbols; V8's machine code has none, so callgrind names each piece of it by its address. node's
// `--perf-basic-prof` writes every piece of code V8 makes, with its address, size and name (the
// function, its file, line and column), to /tmp/perf-<pid>.map; the addresses are resolved here.
//
// Costs are self costs: the instructions executed in a function's own code, not in what it
// called. A dump taken while the process runs gives the frames on its stack (main, the event
// loop) everything below them as inclusive cost, so inclusive figures mislead; self costs do not.
import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";

/** Adds `n` to the count of `key`. */
export function addCount(counts: Map<string, number>, key: string, n: number): void {
  counts.set(key, (counts.get(key) ?? 0) + n);
}

export interface DumpCosts {
  pid: number;
  /** Instructions by function, self cost; JIT code still as `0x…` addresses. */
  self: Map<string, number>;
}

/**
 * Reads a callgrind dump's self cost per function. The format compresses names (`fn=(12) name`
 * once, `fn=(12)` after), and each `calls=` line is followed by the cost line of that call,
 * which is the callee's inclusive cost and is left out here.
 */
export function readDumpCosts(file: string): DumpCosts {
  const names = new Map<string, string>();
  const self = new Map<string, number>();
  let pid = 0;
  let current: string | undefined;
  let callCost = false;
  const nameOf = (spec: string): string => {
    const match = /^\((\d+)\)(?: (.*))?$/.exec(spec);
    if (!match) return spec;
    const [, id, name] = match as unknown as [string, string, string | undefined];
    if (name !== undefined) names.set(id, name);
    return names.get(id) ?? spec;
  };
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const first = line.charCodeAt(0);
    // A cost line: a position (number, +n, -n or *) and the instructions.
    if ((first >= 48 && first <= 57) || first === 43 || first === 45 || first === 42) {
      if (callCost) {
        callCost = false;
        continue;
      }
      const space = line.indexOf(" ");
      if (current !== undefined && space > 0) {
        addCount(self, current, Number(line.slice(space + 1).split(" ", 1)[0]));
      }
    } else if (line.startsWith("fn=")) {
      // callgrind marks recursion depth with 'N; one function is one function.
      current = nameOf(line.slice(3)).replace(/'\d+$/, "");
    } else if (line.startsWith("cfn=")) {
      nameOf(line.slice(4));
    } else if (line.startsWith("calls=")) {
      callCost = true;
    } else if (line.startsWith("pid:")) {
      pid = Number(line.slice(4).trim());
    }
  }
  return { pid, self };
}

interface CodeRange {
  start: number;
  end: number;
  name: string;
}

/** The perf map V8 writes with --perf-basic-prof: code ranges, sorted by start. */
export function readPerfMap(file: string): CodeRange[] {
  if (!existsSync(file)) return [];
  const ranges: CodeRange[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const [start, size, ...name] = line.split(" ");
    if (!start || !size || name.length === 0) continue;
    const from = Number.parseInt(start, 16);
    ranges.push({ start: from, end: from + Number.parseInt(size, 16), name: name.join(" ") });
  }
  // Code freed by the collector leaves its range to later code. The sort is stable, so of two
  // ranges starting at one address the later-written comes last, and codeAt finds it first.
  return ranges.sort((a, b) => a.start - b.start);
}

/** The name of the code at `address`: the range holding it that starts nearest below it. */
function codeAt(ranges: CodeRange[], address: number): string | undefined {
  let lo = 0;
  let hi = ranges.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((ranges[mid] as CodeRange).start <= address) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  // Ranges overlap where code was replaced: look back past ranges that end before the address.
  for (let i = found; i >= 0 && i > found - 64; i--) {
    const range = ranges[i] as CodeRange;
    if (address < range.end) return range.name;
  }
  return undefined;
}

export const UNNAMED_JIT = "JIT code without a name";

/**
 * V8's compilers at work: TurboFan and Turboshaft, Maglev, Sparkplug, the parser and the bytecode
 * generator, and the zone memory they build in. Warm-up cost that comes in bursts.
 */
export function isCompilerWork(name: string): boolean {
  return /v8::internal::(?:compiler|maglev|baseline|interpreter|Zone|Parser|ParserBase|Scanner|AstValueFactory|Scope|DeclarationScope|Compiler|OptimizingCompileDispatcher|Assembler|CodeGenerator)\b|v8::internal::(?:Pipeline|Turbofan)/.test(
    name,
  );
}

/**
 * `JS:*emit node:events:471:44` → `emit node:events:471`: the tier marker (*, ~, ^, +) and the
 * column go, so that the tiers of one function add up, and paths are shown from the repository.
 */
function functionName(perfName: string, repoDir: string): string {
  const match = /^JS:[*~^+]?(.*?) ?(\S*?)(?::(\d+):\d+)?$/.exec(perfName);
  if (!match) return perfName;
  const [, name, file, line] = match as unknown as [string, string, string, string | undefined];
  const path = file.startsWith("file://") ? file.slice(7) : file;
  // A package's files from the package: kafkajs/src/…, not node_modules/.pnpm/kafkajs@…/node_modules/….
  const inPackage = path.lastIndexOf("node_modules/");
  const shown =
    inPackage >= 0
      ? path.slice(inPackage + "node_modules/".length)
      : path.startsWith("/")
        ? relative(repoDir, path)
        : path;
  // tsx compiles TypeScript without keeping its lines: a position there names no source line.
  const at = line && !/\.[cm]?ts$/.test(path) ? `:${line}` : "";
  return `${name || "(anonymous)"} ${shown}${at}`.trim();
}

/** Self costs with JIT addresses replaced by the functions' names from the process' perf map. */
export function nameFunctions(costs: DumpCosts, ranges: CodeRange[], repoDir: string): Map<string, number> {
  const named = new Map<string, number>();
  for (const [fn, instructions] of costs.self) {
    let name = fn;
    if (/^0x[0-9a-f]+$/.test(fn)) {
      const code = codeAt(ranges, Number.parseInt(fn, 16));
      name = code === undefined ? UNNAMED_JIT : functionName(code, repoDir);
    }
    addCount(named, name, instructions);
  }
  return named;
}

/**
 * Which code a function belongs to: a package (`kafkajs`, `undici`), a file of the repository, a
 * module of node's own JavaScript (`node:_http_outgoing`), or for machine code without a file, V8's
 * builtins, V8's C++, node and libuv, or the C library.
 */
export function originOf(name: string): string {
  if (name === UNNAMED_JIT) return name;
  if (name.startsWith("Builtins_") || name.startsWith("Builtin:") || name.startsWith("BytecodeHandler:"))
    return "V8 builtins";
  if (name.startsWith("RegExp:")) return "V8 regular expressions";
  if (isCompilerWork(name)) return "V8 compilers";
  if (name.includes("::")) {
    // A C++ name's namespace is before its parameters, which name other namespaces' types.
    const qualified = name.split("(", 1)[0] as string;
    if (qualified.includes("node::")) return "node and libuv C++";
    if (qualified.includes("v8::") || qualified.includes("heap::")) return "V8 C++";
    return "libc and others";
  }
  if (/^uv_|^uv__/.test(name)) return "node and libuv C++";
  // JavaScript, named `function file:line` above.
  const space = name.lastIndexOf(" ");
  const file = space >= 0 ? name.slice(space + 1).replace(/:\d+$/, "") : "";
  if (file.startsWith("node:")) return file.replace(/^node:internal\//, "node:");
  // The repository's files by path; a package's (shown from the package) by its name.
  if (/^(?:services|packages|scripts)\//.test(file)) return file;
  const pkg = /^((?:@[^/]+\/)?[^/]+)\//.exec(file);
  if (pkg && /\.[cm]?js$/.test(file)) return pkg[1] as string;
  if (name.startsWith("Stub:")) return "V8 C++";
  if (/^(JS|Script|Eval|Function|LazyCompile):/.test(name)) return "other JavaScript";
  return "libc and others";
}

/** A function's name short enough for a table: C++ without its parameter list. */
export function shortName(name: string, width = 100): string {
  let short = name;
  if (name.includes("::")) {
    // The parameters are the parenthesised list the name ends with (maybe before " const").
    let depth = 0;
    for (let i = name.length - 1; i >= 0; i--) {
      if (name[i] === ")") depth++;
      else if (name[i] === "(" && --depth === 0) {
        short = name.slice(0, i);
        break;
      }
    }
  }
  return short.length > width ? `${short.slice(0, width - 1)}…` : short;
}
