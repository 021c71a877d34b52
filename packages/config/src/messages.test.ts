import { z } from "zod";
import { validationMessage } from "./messages";

const messages = (schema: z.ZodType, value: unknown) =>
  schema
    .safeParse(value, { error: validationMessage })
    .error?.issues.map((i) => [i.path.join("."), i.message]);

describe("validation messages", () => {
  it("word zod's own checks like the schemas' messages", () => {
    const schema = z
      .object({
        limit: z.number().int().positive().max(2_147_483_647),
        ratio: z.number().min(0).max(1),
        below: z.number().lt(10),
        name: z.string().min(1).max(200),
        severity: z.enum(["warning", "critical"]),
        kind: z.literal("webhook"),
        email: z.email(),
        at: z.iso.datetime(),
        url: z.url(),
        tags: z.array(z.string()).min(2).max(3),
        flag: z.boolean(),
        step: z.number().multipleOf(5),
        either: z.union([z.string(), z.number()]),
      })
      .strict();
    expect(
      messages(schema, {
        limit: 1.5,
        ratio: 2,
        below: 10,
        name: "",
        severity: "info",
        kind: "slack",
        email: "bob",
        at: "yesterday",
        url: "not a url",
        tags: ["a"],
        flag: "yes",
        step: 7,
        either: null,
        extra: 1,
      }),
    ).toEqual([
      ["limit", "must be a whole number"],
      ["ratio", "must be at most 1"],
      ["below", "must be less than 10"],
      ["name", "must not be empty"],
      ["severity", "must be one of warning, critical"],
      ["kind", "must be webhook"],
      ["email", "must be a valid email address"],
      ["at", "must be an ISO-8601 date-time"],
      ["url", "must be a URL"],
      ["tags", "must have at least 2 items"],
      ["flag", "must be true or false"],
      ["step", "must be a multiple of 5"],
      ["either", "matches none of the accepted forms"],
      ["", "unknown field: extra"],
    ]);
    expect(messages(schema.partial(), { limit: 0, ratio: -1, name: "x".repeat(201), tags: [] })).toEqual([
      ["limit", "must be greater than 0"],
      ["ratio", "must be at least 0"],
      ["name", "must be at most 200 characters"],
      ["tags", "must have at least 2 items"],
    ]);
    expect(messages(z.object({ a: z.number(), b: z.string().length(3) }), { b: "abcd" })).toEqual([
      ["a", "is required"],
      ["b", "must be exactly 3 characters"],
    ]);
  });

  it("leaves a message the schema sets alone", () => {
    expect(messages(z.number().positive("must be positive, like a count"), -1)).toEqual([
      ["", "must be positive, like a count"],
    ]);
  });
});
