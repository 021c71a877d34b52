import { checkChannelTarget, createChannelSchema } from "./schemas";

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
