// Which failures of a batch write are the rows' fault. Only those may end in the DLQ: for
// anything else (the database down, restarting, out of connections, a missing table, an
// unknown error) the batch is retried and its partition pauses, because dead-lettering
// well-formed events over an outage would commit offsets past rows that were never written.

/** SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation). */
const ROW_DATA_SQLSTATE = /^2[23][0-9A-Z]{3}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/**
 * True when the database refused the data itself (a value out of range, a NUL byte in a
 * text, a constraint), so that the same rows would fail again. Looks through the layers a
 * Prisma error wraps: `meta.driverAdapterError.cause.originalCode`, pg's `code`, `cause`.
 */
export function isRowDataError(error: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.size < 20) {
    const layer = queue.shift();
    if (!isRecord(layer) || seen.has(layer)) continue;
    seen.add(layer);
    for (const key of ["originalCode", "code"] as const) {
      const value = layer[key];
      if (typeof value === "string" && ROW_DATA_SQLSTATE.test(value)) return true;
    }
    queue.push(layer.cause);
    if (isRecord(layer.meta)) queue.push(layer.meta.driverAdapterError);
  }
  return false;
}
