// Endpoint matchers: what silences and threshold overrides name an endpoint or a set of them by.

/** The character of an endpoint matcher that stands for any run of characters, none included. */
export const ENDPOINT_WILDCARD = "*";

/**
 * Whether an endpoint matcher (a silence's, a threshold override's) matches an endpoint: the same
 * text, or, where the matcher has `*`s, the text with each `*` standing for any run of
 * characters. `GET /api/billing/*` matches every GET route under /api/billing, `* /api/billing/*`
 * every method's, `/api/billing/*` every path under it. Case counts, as it does in routes. No
 * endpoint (an alert about a key's usage spike or failed authentication) matches no matcher.
 */
export function endpointMatches(matcher: string, endpoint: string | null): boolean {
  if (endpoint === null) return false;
  const parts = matcher.split(ENDPOINT_WILDCARD);
  if (parts.length === 1) return matcher === endpoint;
  const head = parts[0] as string;
  const tail = parts[parts.length - 1] as string;
  if (endpoint.length < head.length + tail.length || !endpoint.startsWith(head) || !endpoint.endsWith(tail)) {
    return false;
  }
  // Each part between two wildcards at its first place after the previous one: the leftmost
  // match leaves the most room for the parts after it.
  let from = head.length;
  const until = endpoint.length - tail.length;
  for (const part of parts.slice(1, -1)) {
    const at = endpoint.indexOf(part, from);
    if (at === -1 || at + part.length > until) return false;
    from = at + part.length;
  }
  return true;
}
