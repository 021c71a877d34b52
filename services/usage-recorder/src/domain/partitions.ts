// Daily range partitions of api_usage: names, bounds and what to create or drop. Days are UTC
// days; a partition holds [00:00, next 00:00) of its day.

const DAY_MS = 86_400_000;
const NAME_PATTERN = /^api_usage_p(\d{4})(\d{2})(\d{2})$/;

/** One daily partition: its table name and its range [from, to). */
export interface DailyPartition {
  name: string;
  day: Date;
  from: Date;
  to: Date;
}

/** Midnight UTC of the day holding `at`. */
export function utcDay(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
}

/** The same time `days` days later (earlier when negative). */
export function addDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * DAY_MS);
}

/** `api_usage_pYYYYMMDD` for the UTC day holding `at`. */
export function partitionName(at: Date): string {
  return `api_usage_p${utcDay(at).toISOString().slice(0, 10).replaceAll("-", "")}`;
}

/** The partition of the UTC day holding `at`. */
export function dailyPartition(at: Date): DailyPartition {
  const day = utcDay(at);
  return { name: partitionName(day), day, from: day, to: addDays(day, 1) };
}

/** The day a partition name stands for, or undefined for a table that is not one of ours. */
export function parsePartitionName(name: string): Date | undefined {
  const match = NAME_PATTERN.exec(name);
  if (!match) return undefined;
  const day = new Date(`${match[1]}-${match[2]}-${match[3]}T00:00:00.000Z`);
  // Rejects dates that do not exist (Date would roll 2026-02-30 over into March).
  return !Number.isNaN(day.getTime()) && partitionName(day) === name ? day : undefined;
}

export interface PartitionPolicy {
  /** Partitions made beyond today (today and yesterday are always made). */
  daysAhead: number;
  /** Whole days kept before today; partitions of earlier days are dropped. */
  retentionDays: number;
}

export interface PartitionPlan {
  /** Missing partitions from yesterday to today + daysAhead, oldest first. */
  create: DailyPartition[];
  /** Existing daily partitions of days before the retention cutoff, oldest first. */
  drop: string[];
  /** Rows created before this instant are past retention (the default partition's included). */
  cutoff: Date;
}

/**
 * What a maintenance run does, given the daily partitions that exist: create yesterday's
 * (late events), today's and `daysAhead` more, drop those older than `retentionDays` before
 * today. Tables whose names are not daily partition names are left alone.
 */
export function planPartitions(
  now: Date,
  existing: readonly string[],
  policy: PartitionPolicy,
): PartitionPlan {
  const today = utcDay(now);
  const present = new Set(existing);
  const create: DailyPartition[] = [];
  for (let offset = -1; offset <= policy.daysAhead; offset++) {
    const partition = dailyPartition(addDays(today, offset));
    if (!present.has(partition.name)) create.push(partition);
  }
  // At least one day of retention, so yesterday's partition is never both made and dropped.
  const cutoff = addDays(today, -Math.max(1, policy.retentionDays));
  const drop = existing
    .map((name) => ({ name, day: parsePartitionName(name) }))
    .filter((p): p is { name: string; day: Date } => p.day !== undefined && p.day < cutoff)
    .sort((a, b) => a.day.getTime() - b.day.getTime())
    .map((p) => p.name);
  return { create, drop, cutoff };
}
