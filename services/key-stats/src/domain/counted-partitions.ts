// Daily range partitions of counted_events by the events' occurred_at (UTC days): names, bounds
// and what a maintenance run creates, and which partitions it may drop.

const DAY_MS = 86_400_000;
const PREFIX = "counted_events_p";
const NAME_PATTERN = /^counted_events_p(\d{4})(\d{2})(\d{2})$/;

/** One day's partition: its table name and its range [from, to) of occurred_at. */
export interface DayPartition {
  name: string;
  from: Date;
  to: Date;
}

/** The partition of the UTC day holding `at`. */
export function dayPartition(at: Date): DayPartition {
  const from = new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
  return {
    name: `${PREFIX}${from.toISOString().slice(0, 10).replaceAll("-", "")}`,
    from,
    to: new Date(from.getTime() + DAY_MS),
  };
}

/** The partition a table name stands for, or undefined for a table that is not one of ours. */
export function parseDayPartition(name: string): DayPartition | undefined {
  const match = NAME_PATTERN.exec(name);
  if (!match) return undefined;
  const day = new Date(`${match[1]}-${match[2]}-${match[3]}T00:00:00.000Z`);
  // Rejects dates that do not exist (Date would roll 2026-02-30 over into March).
  if (Number.isNaN(day.getTime())) return undefined;
  const partition = dayPartition(day);
  return partition.name === name ? partition : undefined;
}

export interface CountedPartitionsPlan {
  /** Missing partitions from today to today + daysAhead, oldest first. */
  create: DayPartition[];
  /**
   * Partitions all of whose events occurred before the cutoff, oldest first. They are dropped
   * only if no row in them was counted after the cutoff: an event published days after it
   * occurred (an edge's spool) is kept as long as any other.
   */
  expired: DayPartition[];
  /** Rows counted before this instant are past retention. */
  cutoff: Date;
}

/**
 * What a maintenance run does, given the tables that are counted_events' partitions now.
 * Past days are never created: events of a day without a partition sit in the DEFAULT
 * partition, which a partition for their range could not be created over.
 */
export function planCountedPartitions(
  now: Date,
  existing: readonly string[],
  { retentionDays, daysAhead }: { retentionDays: number; daysAhead: number },
): CountedPartitionsPlan {
  const present = new Set(existing);
  const create: DayPartition[] = [];
  for (let day = 0; day <= daysAhead; day++) {
    const partition = dayPartition(new Date(now.getTime() + day * DAY_MS));
    if (!present.has(partition.name)) create.push(partition);
  }
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
  const expired = existing
    .map(parseDayPartition)
    .filter((p): p is DayPartition => p !== undefined && p.to.getTime() <= cutoff.getTime())
    .sort((a, b) => a.from.getTime() - b.from.getTime());
  return { create, expired, cutoff };
}
