import { memoizeBounded } from "../bounded-memo";

/**
 * Turns a request path into a bounded route label (`/users/42/orders?x=1` → `/users/:id/orders`)
 * for usage events, so that per-endpoint statistics have a bounded number of series.
 */

export interface EndpointPattern {
  /** Matched against the whole path (after query stripping and slash collapsing). */
  regex: RegExp;
  replacement: string;
}

export interface EndpointNormaliserOptions {
  /** Applied first, in order, e.g. `{ regex: /^\/files\/.+$/, replacement: "/files/:path" }`. */
  patterns?: EndpointPattern[];
  /** Longest result, in characters (the usage event schema allows 512). */
  maxLength?: number;
  /** Segments beyond this many are replaced by one `:rest`. */
  maxSegments?: number;
  /** Longest single segment kept as is; longer ones become `:long`. */
  maxSegmentLength?: number;
  /** Paths (without query) whose result is remembered: clients repeat paths all the time. */
  cacheEntries?: number;
}

const NUMERIC = /^[0-9]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX_ID = /^[0-9a-f]{16,}$/i;
/** base64 / base64url-ish tokens of 16+ characters that carry at least one digit (not plain words). */
const TOKEN_ID = /^(?=.*[0-9])[A-Za-z0-9_\-+=]{16,}$/;
/** Characters left as is; anything else in a segment (after decoding) is percent-encoded again. */
const SAFE = /^[A-Za-z0-9._~!$&'()*+,;=:@-]*$/;

/** A placeholder such as `:id` (from a pattern, or already in the path) is kept. */
const PLACEHOLDER = /^:[A-Za-z_]{1,32}$/;

/** Inputs longer than this are cut before any work, so hostile paths cost bounded time. */
const MAX_INPUT = 8192;

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // malformed escapes: keep the raw text
  }
}

function normaliseSegment(raw: string, maxSegmentLength: number): string {
  const segment = decodeSegment(raw);
  if (segment === "." || segment === "..") return ":dot";
  if (NUMERIC.test(segment) || UUID.test(segment) || HEX_ID.test(segment) || TOKEN_ID.test(segment))
    return ":id";
  if (segment.length > maxSegmentLength) return ":long";
  // A decoded "/" or control character must not change the route's shape: re-encode.
  return SAFE.test(segment) ? segment : encodeURIComponent(segment);
}

export function createEndpointNormaliser({
  patterns = [],
  maxLength = 512,
  maxSegments = 16,
  maxSegmentLength = 64,
  cacheEntries = 10_000,
}: EndpointNormaliserOptions = {}): (path: string) => string {
  const normalisePath = memoizeBounded(
    (withoutQuery: string): string => {
      let path = withoutQuery.replace(/\/{2,}/g, "/");
      if (!path.startsWith("/")) path = `/${path}`;

      for (const { regex, replacement } of patterns) path = path.replace(regex, replacement);

      const raw = path.split("/").filter((s) => s.length > 0);
      const segments = raw
        .slice(0, maxSegments)
        .map((s) => (PLACEHOLDER.test(s) ? s : normaliseSegment(s, maxSegmentLength)));
      if (raw.length > maxSegments) segments.push(":rest");

      let result = `/${segments.join("/")}`;
      if (result.length > maxLength) {
        // Drop whole segments from the end until it fits, marking the cut.
        while (segments.length > 0 && `/${segments.join("/")}/:rest`.length > maxLength) segments.pop();
        result = `/${[...segments, ":rest"].join("/")}`.slice(0, maxLength);
      }
      return result;
    },
    { maxEntries: cacheEntries },
  );
  return (input: string): string => {
    const path = input.slice(0, MAX_INPUT);
    const cut = path.search(/[?#]/);
    return normalisePath(cut >= 0 ? path.slice(0, cut) : path);
  };
}
