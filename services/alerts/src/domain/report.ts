const DAY_MS = 86_400_000;

/** The UTC day (YYYY-MM-DD) of an instant. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

export interface DayCount {
  day: string;
  count: number;
  byType: Record<string, number>;
  bySeverity: Record<string, number>;
}

/**
 * Every UTC day that [from, to) touches, oldest first, with its count in total, by type and by
 * severity (every type and severity present; 0 for quiet days), from rows counted per day, type
 * and severity.
 */
export function fillDays(
  from: Date,
  to: Date,
  rows: readonly { day: string; type: string; severity: string; count: number }[],
  types: readonly string[],
  severities: readonly string[],
): DayCount[] {
  const byDay = new Map<string, DayCount>();
  const start = Date.parse(`${utcDay(from)}T00:00:00.000Z`);
  for (let t = start; t < to.getTime(); t += DAY_MS) {
    const day = utcDay(new Date(t));
    byDay.set(day, {
      day,
      count: 0,
      byType: Object.fromEntries(types.map((k) => [k, 0])),
      bySeverity: Object.fromEntries(severities.map((k) => [k, 0])),
    });
  }
  for (const row of rows) {
    const entry = byDay.get(row.day);
    if (!entry) continue;
    entry.count += row.count;
    entry.byType[row.type] = (entry.byType[row.type] ?? 0) + row.count;
    entry.bySeverity[row.severity] = (entry.bySeverity[row.severity] ?? 0) + row.count;
  }
  return [...byDay.values()];
}

/** A count per value of an enumeration, every value present (0 when absent). */
export function countsByKey<K extends string>(
  keys: readonly K[],
  rows: readonly { key: string; count: number }[],
): Record<K, number> {
  const out = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  for (const row of rows) if (row.key in out) out[row.key as K] = row.count;
  return out;
}
