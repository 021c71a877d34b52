import { ENDPOINT_WILDCARD } from "@apimon/config";
import { escapeLike, Prisma } from "@apimon/db";

/**
 * The Prisma filter of the endpoints an endpoint matcher matches (`endpointMatches`): the same
 * text, or for a pattern, LIKE with its literal parts escaped and each `*` a `%`. Prisma's
 * `startsWith` hands its value to LIKE with a `%` after it, and `endsWith` (the pattern's last
 * part) takes that `%` back: both together match what the pattern does.
 */
export function endpointFilter(matcher: string): Prisma.StringNullableFilter<"Alert"> {
  const parts = matcher.split(ENDPOINT_WILDCARD);
  if (parts.length === 1) return { equals: matcher };
  const last = parts[parts.length - 1] as string;
  return { startsWith: parts.map(escapeLike).join("%"), ...(last !== "" && { endsWith: escapeLike(last) }) };
}

/**
 * SQL: the LIKE pattern of the endpoint matcher `matcher` (a column) holds, for matchers stored in
 * the database: LIKE's own wildcards and escape character taken literally, each `*` a `%`.
 */
export function likePattern(matcher: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`replace(replace(replace(replace(${matcher}, '\\', '\\\\'), '%', '\\%'), '_', '\\_'), '*', '%')`;
}

/**
 * SQL that is true when the notification channel named `c` is for the row of `alerts` named
 * `alerts` by type, endpoint and the owner of its key as the key is now: the rule of `takesScope`.
 * An alert about no key, or about a key deleted since, finds no key row, so it is only for
 * channels without users.
 */
export const channelTakesAlertScope = Prisma.sql`(coalesce(cardinality(c.alert_types), 0) = 0 OR alerts.type = ANY(c.alert_types))
  AND (coalesce(cardinality(c.endpoints), 0) = 0 OR EXISTS (
    SELECT 1 FROM unnest(c.endpoints) AS m(matcher) WHERE alerts.endpoint LIKE ${likePattern(Prisma.raw("m.matcher"))}))
  AND (coalesce(cardinality(c.user_ids), 0) = 0 OR EXISTS (
    SELECT 1 FROM api_keys k WHERE k.id = alerts.api_key_id AND k.user_id = ANY(c.user_ids)))`;
