import { decodeCursor, encodeCursor, MAX_INT, toPage } from "./pagination";

describe("pagination cursors", () => {
  it("round-trips the id a page ends with, as an opaque url-safe string", () => {
    for (const id of [1, 42, 1_000_000, MAX_INT]) {
      const cursor = encodeCursor(id);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(cursor).not.toContain(String(id));
      expect(decodeCursor(cursor)).toBe(id);
    }
  });

  it.each([
    ["empty", ""],
    ["not base64url", "a+b/c="],
    ["a bare id", "42"],
    ["another version", Buffer.from("v2:42").toString("base64url")],
    ["a negative id", Buffer.from("v1:-1").toString("base64url")],
    ["a zero id", Buffer.from("v1:0").toString("base64url")],
    ["an id beyond integer columns", Buffer.from("v1:2147483648").toString("base64url")],
    ["junk after the id", Buffer.from("v1:42x").toString("base64url")],
    ["a huge string", "A".repeat(10_000)],
  ])("rejects %s", (_case, cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });
});

describe("pages", () => {
  const rows = (...ids: number[]) => ids.map((id) => ({ id }));

  it("drops the look-ahead row and points the cursor after the last item", () => {
    expect(toPage(rows(3, 5, 9), 2)).toEqual({ items: rows(3, 5), nextCursor: encodeCursor(5) });
  });

  it("has no cursor on the last page", () => {
    expect(toPage(rows(3, 5), 2)).toEqual({ items: rows(3, 5), nextCursor: null });
    expect(toPage(rows(), 50)).toEqual({ items: [], nextCursor: null });
  });
});
