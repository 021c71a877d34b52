import { auditChanges, auditValue } from "./audit";

describe("the audit log's changes", () => {
  const before = { name: "billing", limit: 100, expiresAt: null as Date | null, tags: ["a"] };

  it("name only the fields whose values differ, each from and to", () => {
    const after = { ...before, limit: 200, expiresAt: new Date("2027-01-01T00:00:00Z") };
    expect(auditChanges(before, after, ["name", "limit", "expiresAt", "tags"])).toEqual({
      limit: { from: 100, to: 200 },
      expiresAt: { from: null, to: "2027-01-01T00:00:00.000Z" },
    });
    expect(auditChanges(before, { ...before, tags: ["a"] }, ["tags"])).toEqual({});
  });

  it("of a creation come from null, and of a deletion go to null", () => {
    expect(auditChanges(null, before, ["name", "expiresAt"])).toEqual({
      name: { from: null, to: "billing" },
    });
    expect(auditChanges(before, null, ["name", "limit"])).toEqual({
      name: { from: "billing", to: null },
      limit: { from: 100, to: null },
    });
  });

  it("keep values as JSON does, dates as ISO text", () => {
    expect(auditValue({ at: new Date(0), n: 1n, list: [undefined, true] })).toEqual({
      at: "1970-01-01T00:00:00.000Z",
      n: "1",
      list: [null, true],
    });
  });
});
