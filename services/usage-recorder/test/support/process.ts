import { type ChildProcessByStdio, spawn } from "node:child_process";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { repoRoot } from "@apimon/testkit";

export interface ServiceProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  stderr(): string;
  /** The exit code, or the signal that ended the process. */
  exited: Promise<number | NodeJS.Signals | null>;
}

const live = new Set<ServiceProcess>();

/**
 * Runs a TypeScript entry point with node itself and tsx's loader. Unlike the tsx CLI (which
 * testkit's spawnTsx runs), there is no second process in between: a SIGKILL really kills the
 * service, instead of leaving it running as an orphan.
 */
export function startService(entry: string, env: NodeJS.ProcessEnv): ServiceProcess {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, entry)], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    output += d;
  });
  child.stderr.on("data", (d) => {
    output += d;
    stderr += d;
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal)),
  );
  const handle: ServiceProcess = { child, output: () => output, stderr: () => stderr, exited };
  live.add(handle);
  void exited.then(() => live.delete(handle));
  return handle;
}

/** Kills whatever startService started and is still running (after a failed assertion). */
export async function killAllServices(): Promise<void> {
  const running = [...live];
  for (const p of running) p.child.kill("SIGKILL");
  await Promise.all(running.map((p) => p.exited));
}
