import { type ChildProcessByStdio, spawn } from "node:child_process";
import { join } from "node:path";
import type { Readable } from "node:stream";

/** The repository root (this file is packages/testkit/src/process.ts). */
export const repoRoot = join(__dirname, "..", "..", "..");

export interface TsxProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Everything the process wrote so far, stdout and stderr interleaved as they arrived. */
  output(): string;
  /** What the process wrote to stdout so far. */
  stdout(): string;
  /** What the process wrote to stderr so far. */
  stderr(): string;
  /** The exit code, or the signal that ended the process. */
  exited: Promise<number | NodeJS.Signals | null>;
  /** Sends `signal` (SIGTERM by default) unless the process has ended, and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
}

/** Processes spawned by this test file and not yet exited; stopAllSpawned() ends them. */
const live = new Set<TsxProcess>();

/**
 * Stops every process this test file spawned that is still running: SIGTERM, then SIGKILL after
 * `graceMs`. The integration project calls it after each file, so a failed assertion never leaves
 * a service running (or Jest waiting on its pipes).
 */
export async function stopAllSpawned(graceMs = 10_000): Promise<void> {
  await Promise.all(
    [...live].map(async (p) => {
      const timer = setTimeout(() => p.child.kill("SIGKILL"), graceMs);
      await p.stop("SIGTERM");
      clearTimeout(timer);
    }),
  );
}

/** Node's arguments that run a TypeScript file through tsx (see spawnTsx). */
export const TSX_NODE_ARGS = ["--require", "tsx/cjs"];

/**
 * Runs a TypeScript entry point (relative to the repository root) with node and tsx's loader,
 * capturing its output. `env` is the child's whole environment, `args` its arguments. tsx
 * resolves @apimon/* through the root tsconfig's paths, so no build is needed. Node runs the
 * service itself (not the tsx CLI, which runs it in a grandchild): a SIGKILL reaches the service
 * instead of orphaning it. The code is CommonJS, so only tsx's require hook is loaded: its ESM
 * hooks, which Node runs on a thread of their own, cost a fifth more CPU at every start, and
 * the tests start services by the hundred on a machine whose CPU is what they wait on.
 */
export function spawnTsx(entry: string, env: NodeJS.ProcessEnv, args: string[] = []): TsxProcess {
  const child = spawn(process.execPath, [...TSX_NODE_ARGS, join(repoRoot, entry), ...args], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    output += d;
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    output += d;
    stderr += d;
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal)),
  );
  const handle: TsxProcess = {
    child,
    output: () => output,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  live.add(handle);
  void exited.then(() => live.delete(handle));
  return handle;
}
