import type { ApiKey } from "@apimon/db";
import {
  graceText,
  keyCreated,
  keyDeleted,
  keyRotated,
  keyUpdated,
  userCreated,
  userDeleted,
  userUpdated,
} from "./audit-entries";

const HASH = "f".repeat(64);

function apiKey(fields: Partial<ApiKey> = {}): ApiKey {
  return {
    id: 41,
    userId: 3,
    name: "billing",
    description: null,
    keyHash: HASH,
    keyPrefix: "ak_Xy12abcd",
    isActive: true,
    usageCount: 0n,
    lastUsed: null,
    expiresAt: null,
    rateLimitMinute: null,
    rateLimitHour: null,
    rateLimitDay: null,
    rotatedFromId: null,
    createdAt: new Date("2030-06-01T12:00:00.000Z"),
    updatedAt: new Date("2030-06-01T12:00:00.000Z"),
    ...fields,
  };
}

const ada = { id: 3, email: "ada@example.com", name: "Ada Lovelace" };

describe("audit rows of users", () => {
  it("describes a creation with the user's email and name", () => {
    expect(userCreated(ada)).toEqual({
      action: "user.created",
      targetType: "user",
      targetId: 3,
      summary: 'created user 3 "Ada Lovelace" (ada@example.com)',
      changes: {
        email: { from: null, to: "ada@example.com" },
        name: { from: null, to: "Ada Lovelace" },
      },
    });
  });

  it("lists only the fields an update changed, and is null for one that changed nothing", () => {
    expect(userUpdated(ada, { ...ada, name: "Ada King" })).toEqual({
      action: "user.updated",
      targetType: "user",
      targetId: 3,
      summary: 'updated user 3 "Ada King" (ada@example.com): name',
      changes: { name: { from: "Ada Lovelace", to: "Ada King" } },
    });
    expect(userUpdated(ada, { ...ada })).toBeNull();
  });

  it("counts the keys deleted with a user", () => {
    expect(userDeleted(ada, 2)).toEqual({
      action: "user.deleted",
      targetType: "user",
      targetId: 3,
      summary: 'deleted user 3 "Ada Lovelace" (ada@example.com) with their 2 keys',
      changes: {
        email: { from: "ada@example.com", to: null },
        name: { from: "Ada Lovelace", to: null },
      },
    });
    expect(userDeleted(ada, 1).summary).toMatch(/with their 1 key$/);
    expect(userDeleted(ada, 0).summary).toMatch(/with no keys$/);
  });
});

describe("audit rows of keys", () => {
  it("describes a creation by name, prefix and owner, listing what it set", () => {
    const key = apiKey({
      description: "invoices",
      rateLimitHour: 50,
      expiresAt: new Date("2031-01-01T00:00:00.000Z"),
    });
    expect(keyCreated(key)).toEqual({
      action: "key.created",
      targetType: "key",
      targetId: 41,
      summary: 'created key "billing" (ak_Xy12abcd…) for user 3',
      changes: {
        name: { from: null, to: "billing" },
        description: { from: null, to: "invoices" },
        userId: { from: null, to: 3 },
        rateLimitHour: { from: null, to: 50 },
        expiresAt: { from: null, to: "2031-01-01T00:00:00.000Z" },
      },
    });
    expect(keyCreated(apiKey({ id: 57 }), 41).summary).toBe(
      'created key "billing" (ak_Xy12abcd…) for user 3 by rotating key 41',
    );
  });

  it("keeps any name on one line", () => {
    expect(keyCreated(apiKey({ name: 'say "hi"\\ ok' })).summary).toBe(
      'created key "say \\"hi\\"\\\\ ok" (ak_Xy12abcd…) for user 3',
    );
  });

  it("calls an update that turns a key off or on a deactivation or a reactivation", () => {
    const on = apiKey();
    const off = apiKey({ isActive: false });
    expect(keyUpdated(on, off)).toEqual({
      action: "key.deactivated",
      targetType: "key",
      targetId: 41,
      summary: 'deactivated key "billing" (ak_Xy12abcd…)',
      changes: { isActive: { from: true, to: false } },
    });
    expect(keyUpdated(off, apiKey({ rateLimitMinute: 5 }))).toEqual({
      action: "key.reactivated",
      targetType: "key",
      targetId: 41,
      summary: 'reactivated key "billing" (ak_Xy12abcd…), also changing rateLimitMinute',
      changes: { isActive: { from: false, to: true }, rateLimitMinute: { from: null, to: 5 } },
    });
  });

  it("lists every field an update changed, and is null for one that changed nothing", () => {
    const before = apiKey({ description: "old", rateLimitDay: 500 });
    const after = apiKey({
      name: "invoices",
      description: null,
      rateLimitDay: null,
      expiresAt: new Date("2031-01-01T00:00:00.000Z"),
      updatedAt: new Date("2030-06-02T00:00:00.000Z"),
    });
    expect(keyUpdated(before, after)).toEqual({
      action: "key.updated",
      targetType: "key",
      targetId: 41,
      summary: 'updated key "invoices" (ak_Xy12abcd…): name, description, expiresAt, rateLimitDay',
      changes: {
        name: { from: "billing", to: "invoices" },
        description: { from: "old", to: null },
        expiresAt: { from: null, to: "2031-01-01T00:00:00.000Z" },
        rateLimitDay: { from: 500, to: null },
      },
    });
    expect(keyUpdated(before, { ...before, updatedAt: new Date() })).toBeNull();
  });

  it("names the successor and the grace period of a rotation", () => {
    const old = apiKey();
    const retiring = apiKey({ expiresAt: new Date("2030-06-01T13:00:00.000Z") });
    expect(keyRotated(old, retiring, { id: 57, keyPrefix: "ak_Ab34efgh" }, 3600)).toEqual({
      action: "key.rotated",
      targetType: "key",
      targetId: 41,
      summary: 'rotated key "billing" (ak_Xy12abcd…) to key 57 (ak_Ab34efgh…) with a grace period of 1 hour',
      changes: { expiresAt: { from: null, to: "2030-06-01T13:00:00.000Z" } },
    });
  });

  it("describes a deletion alone or with the key's user", () => {
    expect(keyDeleted(apiKey())).toEqual({
      action: "key.deleted",
      targetType: "key",
      targetId: 41,
      summary: 'deleted key "billing" (ak_Xy12abcd…) of user 3',
      changes: {
        name: { from: "billing", to: null },
        keyPrefix: { from: "ak_Xy12abcd", to: null },
        userId: { from: 3, to: null },
      },
    });
    expect(keyDeleted(apiKey(), { withUser: true }).summary).toBe(
      'deleted key "billing" (ak_Xy12abcd…) with user 3',
    );
  });

  it("never carries the key's hash", () => {
    const key = apiKey();
    const entries = [
      keyCreated(key),
      keyCreated(key, 40),
      keyUpdated(key, apiKey({ isActive: false, name: "x" })),
      keyRotated(key, apiKey({ expiresAt: new Date() }), { id: 57, keyPrefix: "ak_Ab34efgh" }, 60),
      keyDeleted(key),
    ];
    for (const entry of entries) expect(JSON.stringify(entry)).not.toContain(HASH);
  });
});

describe("grace periods in words", () => {
  it.each([
    [0, "0 seconds"],
    [1, "1 second"],
    [90, "90 seconds"],
    [120, "2 minutes"],
    [3600, "1 hour"],
    [5400, "90 minutes"],
    [86_400, "1 day"],
    [2_592_000, "30 days"],
  ])("says a grace period of %i seconds as %s", (seconds, text) => {
    expect(graceText(seconds)).toBe(text);
  });
});
