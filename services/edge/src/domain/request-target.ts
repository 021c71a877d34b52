// Which request targets the edge passes on. Only origin-form (`/path?query`, RFC 9112 § 3.2.1)
// names a resource of the upstream; absolute-form would let a client pick another host, and a
// dot-segment (`..`, also percent-encoded, or behind a backslash that some servers treat as a
// slash) would climb out of the upstream's base path once the upstream normalises it.

const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;
const ENCODED_DOT = /%2e/gi;
const SLASH_LIKE = /%2f|%5c|\\/gi;

/** True when `target` is origin-form without dot-segments, encoded or not. */
export function isForwardableTarget(target: string | undefined): boolean {
  if (target === undefined || target.charCodeAt(0) !== 0x2f /* "/" */) return false;
  const queryAt = target.indexOf("?");
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  // The common path has none of these characters: no further work.
  if (path.indexOf(".") === -1 && path.indexOf("%") === -1 && path.indexOf("\\") === -1) return true;
  return !DOT_SEGMENT.test(path.replace(ENCODED_DOT, ".").replace(SLASH_LIKE, "/"));
}
