// Child processes of the benches: TypeScript entry points in their own node, waited for on
// /readyz, stopped gracefully, and their CPU time read from /proc.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const repoDir = join(__dirname, "..", "..");

export interface Service {
  name: string;
  child: ChildProcess;
  /** The last lines it wrote, shown when it fails. */
  tail(): string;
  exited: Promise<number | null>;
}

/**
 * Runs a TypeScript entry point in one node process (tsx as a loader, so a kill reaches it).
 * `wrapper` is a command that runs node in the same process, such as valgrind: its process id is
 * then node's.
 */
export function spawnService(
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  nodeFlags: string[] = [],
  wrapper: string[] = [],
): Service {
  // Flags such as --cpu-prof go on node's command line: NODE_OPTIONS refuses them.
  const args = [...nodeFlags, "--import", "tsx", join(repoDir, entry)];
  const [command, ...wrapperArgs] = [...wrapper, process.execPath];
  const child = spawn(command as string, [...wrapperArgs, ...args], {
    cwd: repoDir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...String(chunk).split("\n").filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { name, child, tail: () => lines.join("\n"), exited };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null: killed by a signal). */
export async function stopService(service: Service, graceMs = 15_000): Promise<number | null> {
  const { child } = service;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  const code = await service.exited;
  clearTimeout(timer);
  return code;
}

export async function waitReady(service: Service, url: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) {
      throw new Error(
        `${service.name} exited (${service.child.exitCode}) before it was ready:\n${service.tail()}`,
      );
    }
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${service.name} was not ready after ${timeoutMs} ms:\n${service.tail()}`);
}

export const CLOCK_TICKS_PER_S = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * A process' name and CPU time so far (user + system, all threads), or undefined if unreadable;
 * with `thread`, that thread's name and time only.
 */
export function processCpu(pid: number, thread?: number): { comm: string; seconds: number } | undefined {
  try {
    const stat = readFileSync(
      thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`,
      "utf8",
    );
    // "pid (comm) state ppid …": comm may hold spaces, so split after its closing parenthesis.
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return { comm: stat.slice(stat.indexOf("(") + 1, close), seconds: ticks / CLOCK_TICKS_PER_S };
  } catch {
    return undefined;
  }
}
