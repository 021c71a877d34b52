import { endpointMatches } from "@apimon/config";
import { Prisma, type Silence } from "@apimon/db";
import { likePattern } from "./endpoints";

/** What a silence matches on; null matches any value. */
export interface SilenceMatchers {
  type: string | null;
  apiKeyId: number | null;
  /** The alert's endpoint, or a pattern of it (`endpointMatches`). */
  endpoint: string | null;
  clientIp: string | null;
}

/** The alert fields silences match. */
export interface SilenceableAlert {
  type: string;
  apiKeyId: number | null;
  endpoint: string | null;
  clientIp: string | null;
}

export type SilenceState = "pending" | "active" | "expired";

export function silenceState(silence: { startsAt: Date; endsAt: Date }, now: Date): SilenceState {
  if (silence.endsAt <= now) return "expired";
  return silence.startsAt <= now ? "active" : "pending";
}

/** Every matcher that is set matches the alert's field (a silence with none matches every alert). */
export function matches(silence: SilenceMatchers, alert: SilenceableAlert): boolean {
  return (
    (silence.type === null || silence.type === alert.type) &&
    (silence.apiKeyId === null || silence.apiKeyId === alert.apiKeyId) &&
    (silence.endpoint === null || endpointMatches(silence.endpoint, alert.endpoint)) &&
    (silence.clientIp === null || silence.clientIp === alert.clientIp)
  );
}

/** The oldest of `active` that matches the alert, or undefined. */
export function silenceFor<S extends SilenceMatchers & { id: number }>(
  alert: SilenceableAlert,
  active: readonly S[],
): S | undefined {
  let found: S | undefined;
  for (const silence of active) {
    if (matches(silence, alert) && (found === undefined || silence.id < found.id)) found = silence;
  }
  return found;
}

/** The silences active at `now`, oldest first. */
export function activeSilences(db: Pick<Prisma.TransactionClient, "silence">, now: Date): Promise<Silence[]> {
  return db.silence.findMany({
    where: { startsAt: { lte: now }, endsAt: { gt: now } },
    orderBy: { id: "asc" },
  });
}

/**
 * SQL that is true when the silence named `s` matches the row of `alerts` named `alerts`: the rule
 * of `matches`.
 */
const silenceMatchesAlert = Prisma.sql`(s.type IS NULL OR s.type = alerts.type)
      AND (s.api_key_id IS NULL OR s.api_key_id = alerts.api_key_id)
      AND (s.endpoint IS NULL OR alerts.endpoint LIKE ${likePattern(Prisma.raw("s.endpoint"))})
      AND (s.client_ip IS NULL OR s.client_ip = alerts.client_ip)`;

/**
 * SQL that is true for a row of `alerts` (named `alerts` in the query) that an active silence
 * matches at `now`, for queries that must leave silenced alerts out.
 */
export function silencedAt(now: Date): Prisma.Sql {
  return Prisma.sql`EXISTS (
    SELECT 1 FROM silences s
    WHERE s.starts_at <= ${now} AND s.ends_at > ${now} AND ${silenceMatchesAlert})`;
}

/**
 * How many open alerts (firing or acknowledged) each of the silences matches now, whether or not
 * it has started and whether or not an older silence holds them back too; by silence id, absent
 * when none.
 */
export async function openAlertsMatched(
  db: Pick<Prisma.TransactionClient, "$queryRaw">,
  silenceIds: readonly number[],
): Promise<Map<number, number>> {
  if (silenceIds.length === 0) return new Map();
  const rows = await db.$queryRaw<{ id: number; count: number }[]>`
    SELECT s.id, count(*)::int AS count
    FROM silences s JOIN alerts ON alerts.status IN ('firing', 'acknowledged') AND ${silenceMatchesAlert}
    WHERE s.id = ANY(${[...silenceIds]}::int[])
    GROUP BY s.id`;
  return new Map(rows.map((row) => [row.id, row.count]));
}
