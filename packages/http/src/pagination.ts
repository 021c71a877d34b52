import { MAX_INT } from "@apimon/config";
import { z } from "zod";

export { MAX_INT };

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/** A list answer: `{items, nextCursor}`. */
export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

// Versioned so that the cursor's inside can change without breaking clients that hold one
// (an old cursor then fails as invalid rather than meaning something else).
const CURSOR_VERSION = "v1";

/** An opaque cursor for keyset pagination: "the rows after this id" (in the list's order). */
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
 * Turns rows fetched with `take: limit + 1` (ordered by id, either way) into a page: the extra
 * row only says that another page exists, so it is dropped and the cursor points after the
 * last kept row.
 */
export function toPage<T extends { id: number }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
}

/** An integer in a path or query string, e.g. `/keys/42`; `abc`, `-1`, `1e99` and overflows are 400s. */
export const intString = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, `must be an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, `must be an integer from ${min} to ${max}`)
        .max(max, `must be an integer from ${min} to ${max}`),
    )
    // Documented as what it means: the string is only how a path or query string carries it.
    .meta({ type: "integer", minimum: min, maximum: max });

/** A row id in a path or query string. */
export const idString = intString(1, MAX_INT);

/** `cursor` query parameter: decodes to the id the page starts after; anything else is a 400. */
export const cursorParam = z
  .string()
  .max(128, "Invalid cursor")
  .describe("The `nextCursor` of the previous page (opaque)")
  .transform((value, ctx) => {
    const afterId = decodeCursor(value);
    if (afterId === undefined) {
      ctx.addIssue({ code: "custom", message: "Invalid cursor" });
      return z.NEVER;
    }
    return afterId;
  });

/** The query parameters of every paginated list: spread into a `z.object({...}).strict()`. */
export const paginationQuery = {
  cursor: cursorParam.optional(),
  limit: intString(1, MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE).meta({ default: DEFAULT_PAGE_SIZE }),
};

/**
 * Row ids in one query parameter, comma-separated (`ids=3,7,12`): 1 to `max` of them, each an
 * id as {@link idString} takes it. Repeats are kept once.
 */
export const idListString = (max: number) => {
  const message = `must be a comma-separated list of 1 to ${max} ids, each from 1 to ${MAX_INT}`;
  return z
    .string()
    .max(max * 17, message)
    .regex(/^\d{1,16}(,\d{1,16})*$/, message)
    .transform((text) => [...new Set(text.split(",").map(Number))])
    .pipe(z.array(z.number().int().min(1, message).max(MAX_INT, message)).max(max, message))
    .meta({ type: "string", pattern: "^\\d+(,\\d+)*$", description: `1 to ${max} ids, comma-separated` });
};
