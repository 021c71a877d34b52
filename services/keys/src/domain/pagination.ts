/** Largest value of a Postgres `integer` (ids, limits): anything larger cannot name a row. */
export const MAX_INT = 2_147_483_647;

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

// Versioned so that the cursor's inside can change without breaking clients that hold one
// (an old cursor then fails as invalid rather than meaning something else).
const CURSOR_VERSION = "v1";

/** An opaque cursor for keyset pagination: "the rows after this id". */
export function encodeCursor(afterId: number): string {
  return Buffer.from(`${CURSOR_VERSION}:${afterId}`, "utf8").toString("base64url");
}

/** The id a cursor points after, or undefined for anything this service did not issue. */
export function decodeCursor(cursor: string): number | undefined {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) return undefined;
  const match = /^v1:([1-9]\d{0,9})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  const id = match?.[1] === undefined ? Number.NaN : Number(match[1]);
  return Number.isSafeInteger(id) && id <= MAX_INT ? id : undefined;
}

/**
 * Turns rows fetched with `take: limit + 1` (ordered by id) into a page: the extra row only
 * says that another page exists, so it is dropped and the cursor points after the last kept row.
 */
export function toPage<T extends { id: number }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
}
