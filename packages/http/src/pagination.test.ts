import { z } from "zod";
import { decodeCursor, encodeCursor, MAX_INT, paginationQuery, toPage } from "./pagination";

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
