import { Prisma } from "@apimon/db";
import { groupKey } from "./domain/grouping";
import type { AlertType } from "./domain/severity";
import type { Tx } from "./notifications";

/**
 * The first key of the advisory lock taken on one group (type and endpoint; the second key is
 * the group's hash), so that of two alerts of one group told of at once the second sees the
 * first told and waits for the group.
 */
const GROUP_LOCK_CLASS = 7_301;

/** Where the time a group was last told of each kind of news is kept, per alert. */
const TOLD_AT = {
  /** An alert's first notification (and its reminders since). */
  opening: "last_notified_at",
  /** A rise in severity. */
  rise: "rise_notified_at",
  resolution: "resolution_notified_at",
  /** The escalation policy. */
  escalation: "escalated_at",
} as const;

export type GroupNews = keyof typeof TOLD_AT;

export interface AlertGroup {
  type: AlertType;
  endpoint: string | null;
}

/**
 * Locks the group for the rest of the transaction and answers when an alert of it was last told
 * of `news` after `since` (null: not since then). The lock makes a second teller of the group
 * wait for the first to commit, and then see its time.
 */
export async function groupLastTold(
  tx: Tx,
  { type, endpoint }: AlertGroup,
  news: GroupNews,
  since: Date,
): Promise<Date | null> {
  await tx.$executeRaw`
    SELECT pg_advisory_xact_lock(${GROUP_LOCK_CLASS}::integer, hashtext(${groupKey({ type, endpoint })}))`;
  const column = Prisma.raw(TOLD_AT[news]);
  const [row] = await tx.$queryRaw<{ at: Date | null }[]>`
    SELECT max(${column}) AS at FROM alerts
    WHERE type = ${type}::alert_type AND endpoint IS NOT DISTINCT FROM ${endpoint} AND ${column} > ${since}`;
  return row?.at ?? null;
}
