const DAY_MS = 86_400_000;

/** The UTC day (YYYY-MM-DD) of an instant. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Every UTC day that [from, to) touches, with its count (0 for days without alerts), oldest first. */
export function fillDays(
  from: Date,
  to: Date,
  counts: ReadonlyMap<string, number>,
): { day: string; count: number }[] {
  const days: { day: string; count: number }[] = [];
  const start = Date.parse(`${utcDay(from)}T00:00:00.000Z`);
  for (let t = start; t < to.getTime(); t += DAY_MS) {
    const day = utcDay(new Date(t));
    days.push({ day, count: counts.get(day) ?? 0 });
  }
  return days;
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
