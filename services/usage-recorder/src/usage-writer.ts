import type { PrismaClient } from "@apimon/db";
import { counter, histogram, type Registry } from "@apimon/observability";
import { INSERT_USAGE_SQL, toArrayLiterals, type UsageRow } from "./domain/usage-row";

export interface WriteResult {
  /** Rows new to api_usage. */
  inserted: number;
  /** Rows skipped because their event was already stored (a redelivery), or twice in the batch. */
  duplicates: number;
}

export interface UsageWriter {
  /** Writes the rows with one statement, idempotent on (event_id, created_at). Throws as the database does. */
  write(rows: readonly UsageRow[]): Promise<WriteResult>;
}

export interface UsageWriterOptions {
  prisma: PrismaClient;
  registry?: Registry;
}

/**
 * Writes usage rows to api_usage with one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO
 * NOTHING` per batch, through the process's Prisma client: a raw query with nine text
 * parameters (the columns as array literals), so neither Prisma nor the driver handles values
 * one by one.
 */
export function createUsageWriter({ prisma, registry }: UsageWriterOptions): UsageWriter {
  const batchRows = histogram(
    registry,
    "usage_recorder_batch_rows",
    "Rows per bulk insert into api_usage",
    [1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10_000],
  );
  const writeSeconds = histogram(
    registry,
    "usage_recorder_write_seconds",
    "Latency of one bulk insert into api_usage, by outcome (ok, error)",
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    ["outcome"],
  );
  const rowsTotal = counter(
    registry,
    "usage_recorder_rows_total",
    "Usage rows handled, by result (inserted, duplicate)",
    ["result"],
  );
  // Both series exist from the start, so a rate() over them works before the first duplicate.
  rowsTotal.inc({ result: "inserted" }, 0);
  rowsTotal.inc({ result: "duplicate" }, 0);

  return {
    async write(rows) {
      if (rows.length === 0) return { inserted: 0, duplicates: 0 };
      batchRows.observe(rows.length);
      const stop = writeSeconds.startTimer();
      let inserted: number;
      try {
        inserted = await prisma.$executeRawUnsafe(INSERT_USAGE_SQL, ...toArrayLiterals(rows));
      } catch (error) {
        stop({ outcome: "error" });
        throw error;
      }
      stop({ outcome: "ok" });
      const duplicates = rows.length - inserted;
      rowsTotal.inc({ result: "inserted" }, inserted);
      if (duplicates > 0) rowsTotal.inc({ result: "duplicate" }, duplicates);
      return { inserted, duplicates };
    },
  };
}
