import { z } from "zod";
import { decodeCursor, encodeCursor, idListString, MAX_INT, paginationQuery, toPage } from "./pagination";

describe("pagination cursors", () => {
  it("round-trips the id a page ends with, as an opaque url-safe string", () => {
    for (const id of [1, 42, MAX_INT]) {
      const cursor = encodeCursor(id);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(cursor).not.toContain(String(id));
      expect(decodeCursor(cursor)).toBe(id);
    }
  });

  it.each([
    ["empty", ""],
    ["a bare id", "42"],
    ["another version", Buffer.from("v2:42").toString("base64url")],
    ["a zero id", Buffer.from("v1:0").toString("base64url")],
    ["an id beyond integer columns", Buffer.from("v1:2147483648").toString("base64url")],
    ["a huge string", "A".repeat(10_000)],
  ])("rejects %s", (_case, cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });
});

describe("pages", () => {
  const rows = (...ids: number[]) => ids.map((id) => ({ id }));

  it("drops the look-ahead row and points the cursor after the last item, in either order", () => {
    expect(toPage(rows(3, 5, 9), 2)).toEqual({ items: rows(3, 5), nextCursor: encodeCursor(5) });
    expect(toPage(rows(9, 5, 3), 2)).toEqual({ items: rows(9, 5), nextCursor: encodeCursor(5) });
  });

  it("has no cursor on the last page", () => {
    expect(toPage(rows(3, 5), 2)).toEqual({ items: rows(3, 5), nextCursor: null });
  });

  it("parses the query parameters of a list, with a default limit", () => {
    const schema = z.object(paginationQuery).strict();
    expect(schema.parse({})).toEqual({ limit: 50 });
    expect(schema.parse({ cursor: encodeCursor(7), limit: "3" })).toEqual({ cursor: 7, limit: 3 });
    expect(schema.safeParse({ limit: "0" }).success).toBe(false);
    expect(schema.safeParse({ limit: "101" }).success).toBe(false);
    expect(schema.safeParse({ cursor: "nope" }).success).toBe(false);
  });
});

describe("id lists", () => {
  const ids = idListString(3);

  it("reads comma-separated ids, each once", () => {
    expect(ids.parse("7")).toEqual([7]);
    expect(ids.parse("3,7,3,12")).toEqual([3, 7, 12]);
    expect(ids.parse(String(MAX_INT))).toEqual([MAX_INT]);
  });

  it.each([
    ["empty", ""],
    ["a word", "3,x"],
    ["spaces", "3, 7"],
    ["a trailing comma", "3,"],
    ["a zero", "0,3"],
    ["an id beyond integer columns", "2147483648"],
    ["a negative id", "-3"],
    ["more ids than allowed", "1,2,3,4"],
    ["a huge string", "1,".repeat(10_000)],
  ])("refuses %s, saying what it takes", (_case, text) => {
    const result = ids.safeParse(text);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe(
      `must be a comma-separated list of 1 to 3 ids, each from 1 to ${MAX_INT}`,
    );
  });
});
