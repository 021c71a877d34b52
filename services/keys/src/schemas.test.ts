import { encodeCursor, HttpError, parseOr400 } from "@apimon/http";
import type { z } from "zod";
import {
  createKeySchema,
  createUserSchema,
  idParamSchema,
  listKeysQuerySchema,
  listUsersQuerySchema,
  rotateKeySchema,
  updateKeySchema,
} from "./schemas";

/** The `errors` the 400 lists for this input, or "ok". */
function problems(schema: z.ZodType, value: unknown) {
  try {
    parseOr400(schema, value);
    return "ok";
  } catch (err) {
    if (err instanceof HttpError) return err.errors;
    throw err;
  }
}

describe("user input", () => {
  it("accepts an email and a name, lower-casing the email and trimming the name", () => {
    expect(createUserSchema.parse({ email: "Ada@Example.COM", name: "  Ada Lovelace " })).toEqual({
      email: "ada@example.com",
      name: "Ada Lovelace",
    });
  });

  it("lists every bad field, unknown ones by name", () => {
    expect(problems(createUserSchema, { email: "nope", name: "", admin: true })).toEqual([
      { field: "email", message: "must be a valid email address" },
      { field: "name", message: "must not be empty" },
      { field: "admin", message: "is not a known field" },
    ]);
  });

  it("bounds strings and refuses control characters (Postgres text cannot hold NUL)", () => {
    expect(problems(createUserSchema, { email: `ada@${"b".repeat(320)}.com`, name: "x" })).toEqual([
      { field: "email", message: "must be at most 254 characters" },
    ]);
    expect(problems(createUserSchema, { email: "a@example.com", name: "x".repeat(201) })).toEqual([
      { field: "name", message: "must be at most 200 characters" },
    ]);
    expect(problems(createUserSchema, { email: "a@example.com", name: "nul\u0000byte" })).toEqual([
      { field: "name", message: "must not contain control characters" },
    ]);
  });
});

describe("key input", () => {
  it("accepts a full key request", () => {
    expect(
      createKeySchema.parse({
        userId: 1,
        name: "ci",
        description: "line one\nline two\ttabbed",
        rateLimits: { minute: 10, day: 500 },
        expiresAt: "2030-01-01T00:00:00+02:00",
      }),
    ).toEqual({
      userId: 1,
      name: "ci",
      description: "line one\nline two\ttabbed",
      rateLimits: { minute: 10, day: 500 },
      expiresAt: "2030-01-01T00:00:00+02:00",
    });
  });

  it.each([
    ["a string userId", { userId: "1", name: "k" }, "userId"],
    ["a fractional userId", { userId: 1.5, name: "k" }, "userId"],
    ["a userId beyond integer columns", { userId: 2_147_483_648, name: "k" }, "userId"],
    ["a userId of 1e99", { userId: 1e99, name: "k" }, "userId"],
    ["a zero limit", { userId: 1, name: "k", rateLimits: { minute: 0 } }, "rateLimits.minute"],
    ["an unknown window", { userId: 1, name: "k", rateLimits: { second: 5 } }, "rateLimits.second"],
    [
      "a limit beyond integer columns",
      { userId: 1, name: "k", rateLimits: { day: 2 ** 31 } },
      "rateLimits.day",
    ],
    ["a date without time", { userId: 1, name: "k", expiresAt: "2030-01-01" }, "expiresAt"],
    [
      "a description of 2001 characters",
      { userId: 1, name: "k", description: "d".repeat(2001) },
      "description",
    ],
    ["a description with a NUL", { userId: 1, name: "k", description: "a\u0000" }, "description"],
  ])("rejects %s", (_case, body, field) => {
    const result = problems(createKeySchema, body);
    expect(result).not.toBe("ok");
    expect(new Set((result as { field: string }[]).map((e) => e.field))).toEqual(new Set([field]));
  });

  it("says what a limit must be", () => {
    expect(
      problems(createKeySchema, {
        userId: 1,
        name: "k",
        rateLimits: { minute: -3, hour: 1.5, day: 2 ** 31 },
      }),
    ).toEqual([
      { field: "rateLimits.minute", message: "must be greater than 0" },
      { field: "rateLimits.hour", message: "must be a whole number" },
      { field: "rateLimits.day", message: "must be at most 2147483647" },
    ]);
    expect(problems(createKeySchema, { name: "k", rateLimits: { minute: "10" } })).toEqual([
      { field: "userId", message: "is required" },
      { field: "rateLimits.minute", message: "must be a number" },
    ]);
  });

  it("takes partial updates, with null resetting a window to its default", () => {
    expect(updateKeySchema.parse({ rateLimits: { minute: null, hour: 50 } })).toEqual({
      rateLimits: { minute: null, hour: 50 },
    });
    expect(updateKeySchema.parse({ isActive: false, description: null })).toEqual({
      isActive: false,
      description: null,
    });
  });

  it("refuses an empty update", () => {
    expect(problems(updateKeySchema, {})).toEqual([
      {
        field: "(body)",
        message: "must change at least one of name, description, isActive, expiresAt, rateLimits",
      },
    ]);
  });

  it("bounds the rotation grace period to 30 days", () => {
    expect(rotateKeySchema.parse({})).toEqual({});
    expect(rotateKeySchema.parse({ gracePeriodSeconds: 0 })).toEqual({ gracePeriodSeconds: 0 });
    expect(rotateKeySchema.parse({ gracePeriodSeconds: 2_592_000 })).toEqual({
      gracePeriodSeconds: 2_592_000,
    });
    expect(problems(rotateKeySchema, { gracePeriodSeconds: 2_592_001 })).not.toBe("ok");
    expect(problems(rotateKeySchema, { gracePeriodSeconds: -1 })).not.toBe("ok");
  });
});

describe("ids and queries", () => {
  it("reads a positive integer id from the path", () => {
    expect(idParamSchema.parse({ id: "42" })).toEqual({ id: 42 });
  });

  it.each(["abc", "-1", "0", "1e99", "99999999999", "1.5", "", " 1", "9".repeat(500)])(
    "rejects the id %p",
    (id) => {
      expect(problems(idParamSchema, { id })).toEqual([
        { field: "id", message: "must be an integer from 1 to 2147483647" },
      ]);
    },
  );

  it("defaults the page size to 50 and bounds it to 1..100", () => {
    expect(listUsersQuerySchema.parse({})).toEqual({ limit: 50 });
    expect(listUsersQuerySchema.parse({ limit: "100" })).toEqual({ limit: 100 });
    expect(problems(listUsersQuerySchema, { limit: "0" })).not.toBe("ok");
    expect(problems(listUsersQuerySchema, { limit: "101" })).not.toBe("ok");
  });

  it("decodes the cursor and refuses one it did not issue", () => {
    expect(listUsersQuerySchema.parse({ cursor: encodeCursor(7) })).toEqual({ cursor: 7, limit: 50 });
    expect(problems(listUsersQuerySchema, { cursor: "garbage" })).toEqual([
      { field: "cursor", message: "Invalid cursor" },
    ]);
  });

  it("filters keys by user and activity, refusing unknown parameters", () => {
    expect(listKeysQuerySchema.parse({ userId: "3", active: "false" })).toEqual({
      userId: 3,
      active: "false",
      limit: 50,
    });
    expect(problems(listKeysQuerySchema, { active: "yes", userid: "3" })).toEqual([
      { field: "active", message: "must be true or false" },
      { field: "userid", message: "is not a known field" },
    ]);
  });
});
