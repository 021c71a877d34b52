// The benches' report: medians, aligned tables and a run's validity.
import type { LoadResult } from "./http-load";

export function median(values: number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((x, y) => x - y);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : "n/a");
export const pad = (cells: string[], widths: number[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
export const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [
    pad(header, widths),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map((r) => pad(r, widths)),
  ]
    .map((line) => `  ${line}`)
    .join("\n");
}

export function problemsOf(label: string, r: LoadResult): string[] {
  const problems: string[] = [];
  if (r.non2xx > 0) problems.push(`${label}: ${r.non2xx} non-2xx answers ${JSON.stringify(r.statusCodes)}`);
  if (r.errors > 0) problems.push(`${label}: ${r.errors} connection errors`);
  if (r.timeouts > 0) problems.push(`${label}: ${r.timeouts} timeouts`);
  if (r.responses === 0) problems.push(`${label}: no responses`);
  return problems;
}

/** Prints a run's problems under INVALID RUN; the bench's exit code (1 when there were any). */
export function reportProblems(problems: string[], out: (line?: string) => void): number {
  if (problems.length === 0) return 0;
  out();
  out("INVALID RUN: every answer must be a 2xx without errors:");
  for (const p of problems) out(`  ${p}`);
  return 1;
}

/** Runs a bench's main: exits with the code it returns (0 for none), or reports why it failed and exits 1. */
export function runBench(name: string, main: () => Promise<unknown>): void {
  // Figures move with the runtime as much as with the code (the edge's instructions a request
  // differ by a third between two Node lines): every run says which one it measured.
  process.stdout.write(`${name}: node ${process.version}, which every process it starts runs too\n`);
  main().then(
    (code) => process.exit(typeof code === "number" ? code : 0),
    (error: unknown) => {
      process.stdout.write(
        `${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
