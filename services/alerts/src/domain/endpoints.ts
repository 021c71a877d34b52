import { ENDPOINT_WILDCARD } from "@apimon/config";
import type { Prisma } from "@apimon/db";

/** LIKE's wildcards and escape character, taken literally. */
const escapeLike = (text: string) => text.replaceAll(/[\\%_]/g, (c) => `\\${c}`);

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
