// Helpers of the tests that run `pnpm start`'s runner (scripts/stack.ts) itself.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "@apimon/testkit";
import { servicePorts } from "../../../scripts/lib/services";

/** A free port for every service the stack runs, as the variables it reads them from. */
export async function freeStackPorts(): Promise<Record<string, string>> {
  const ports: Record<string, string> = {};
  for (const { port } of servicePorts()) ports[port.variable] = String(await freePort());
  return ports;
}

/**
 * A usage journal of the test's own, as USAGE_SPOOL_DIR: the default, .runtime/edge-spool, is
 * the checkout's, where `pnpm start` would find what the test's edge left and replay it.
 */
export function ownUsageJournal(label: string): { USAGE_SPOOL_DIR: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `apimon-${label}-journal-`));
  return { USAGE_SPOOL_DIR: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Waits until the edge's key table (its admin port's /readyz) holds a key. Not by calling:
 * failed calls count against the address's failed-authentication limit.
 */
export async function edgeKnowsAKey(edgeAdminPort: string, timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      const ready = (await (await fetch(`http://127.0.0.1:${edgeAdminPort}/readyz`)).json()) as {
        checks?: { keyRegistry?: { detail?: { keys?: number } } };
      };
      return (ready.checks?.keyRegistry?.detail?.keys ?? 0) >= 1;
    },
    { timeoutMs, intervalMs: 100, what: "the edge to know the demo key" },
  );
}
