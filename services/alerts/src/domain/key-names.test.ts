import { nameKeyInMessage } from "./key-names";

describe("naming the key in alert messages", () => {
  const key = { name: "billing", prefix: "ak_Xy12abcd" };

  it("replaces every `key <id>` with the key's name, display prefix and id", () => {
    expect(nameKeyInMessage("key 7, GET /users/:id: p95 1.3 s above 1 s", 7, key)).toBe(
      'key "billing" (ak_Xy12abcd…, #7), GET /users/:id: p95 1.3 s above 1 s',
    );
    expect(nameKeyInMessage("5 failures against inactive key 7", 7, key)).toBe(
      '5 failures against inactive key "billing" (ak_Xy12abcd…, #7)',
    );
  });

  it("leaves other numbers alone and appends the label when the key is not mentioned", () => {
    expect(nameKeyInMessage("key 70 is busy", 7, key)).toBe(
      'key 70 is busy (key "billing" (ak_Xy12abcd…, #7))',
    );
  });

  it("shortens a very long name", () => {
    const named = nameKeyInMessage("key 1 slow", 1, { name: "n".repeat(200), prefix: "ak_a" });
    expect(named).toBe(`key "${"n".repeat(79)}…" (ak_a…, #1) slow`);
  });
});
