import { checkChannelTarget, checkSilenceRange, createChannelSchema, createSilenceSchema } from "./schemas";

describe("channel validation", () => {
  it("accepts and normalises an email address list", () => {
    expect(checkChannelTarget({ type: "email", target: " ops@example.com , oncall@example.com " })).toEqual({
      target: "ops@example.com,oncall@example.com",
    });
  });

  it("names the addresses that are not addresses", () => {
    expect(checkChannelTarget({ type: "email", target: "ops@example.com, nope" })).toEqual({
      errors: [{ field: "target", message: "not an email address: nope" }],
    });
  });

  it("wants an http(s) URL for slack and webhook channels", () => {
    expect(checkChannelTarget({ type: "slack", target: "https://hooks.slack.com/services/T/B/X" })).toEqual({
      target: "https://hooks.slack.com/services/T/B/X",
    });
    expect(checkChannelTarget({ type: "webhook", target: "ftp://example.com" })).toEqual({
      errors: [{ field: "target", message: "must be an http(s) URL for a webhook channel" }],
    });
  });

  it("takes a signing secret for webhooks only", () => {
    expect(
      checkChannelTarget({ type: "slack", target: "https://x.example", secret: "s".repeat(16) }),
    ).toEqual({
      errors: [{ field: "secret", message: "only webhook channels take a signing secret" }],
    });
  });

  it("refuses unknown fields and unknown types", () => {
    const result = createChannelSchema.safeParse({ type: "pager", target: "x", colour: "red" });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join(".") || i.code).sort()).toEqual([
      "type",
      "unrecognized_keys",
    ]);
  });
});

describe("silence validation", () => {
  const now = new Date("2026-12-06T12:00:00.000Z");
  const at = (offsetSeconds: number) => new Date(now.getTime() + offsetSeconds * 1000);

  it("wants an end in the future, after the start, at most 30 days from the later of start and now", () => {
    expect(checkSilenceRange({ endsAt: at(60) }, now)).toEqual([]);
    expect(checkSilenceRange({ endsAt: now }, now)).toEqual([
      { field: "endsAt", message: "must be in the future" },
    ]);
    expect(checkSilenceRange({ startsAt: at(120), endsAt: at(60) }, now)).toEqual([
      { field: "endsAt", message: "must be after startsAt" },
    ]);
    // Started in the past: counted from now.
    expect(checkSilenceRange({ startsAt: at(-86_400), endsAt: at(30 * 86_400) }, now)).toEqual([]);
    expect(checkSilenceRange({ startsAt: at(86_400), endsAt: at(31 * 86_400) }, now)).toEqual([]);
    expect(checkSilenceRange({ endsAt: at(30 * 86_400 + 1) }, now)).toEqual([
      { field: "endsAt", message: "a silence may last at most 30 days" },
    ]);
  });

  it("refuses unknown fields and types, ids out of range, and a comment that is blank or spans lines", () => {
    const base = { endsAt: at(60).toISOString(), comment: "deploy" };
    expect(createSilenceSchema.safeParse(base).success).toBe(true);
    const fields = (body: object) =>
      createSilenceSchema
        .safeParse({ ...base, ...body })
        .error?.issues.map((i) => i.path.join(".") || i.code);
    expect(fields({ type: "latency" })).toEqual(["type"]);
    expect(fields({ apiKeyId: 0 })).toEqual(["apiKeyId"]);
    expect(fields({ apiKeyId: 2 ** 31 })).toEqual(["apiKeyId"]);
    expect(fields({ comment: "  " })).toEqual(["comment"]);
    expect(fields({ comment: "a\nb" })).toEqual(["comment"]);
    expect(fields({ endsAt: "tomorrow" })).toEqual(["endsAt"]);
    expect(fields({ matchers: {} })).toEqual(["unrecognized_keys"]);
  });
});
