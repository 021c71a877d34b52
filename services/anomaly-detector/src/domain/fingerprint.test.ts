import { fingerprint, MAX_FINGERPRINT_LENGTH } from "./fingerprint";

describe("fingerprints", () => {
  it("read as type plus scope, in a fixed order", () => {
    expect(fingerprint("response_time", { apiKeyId: 7, endpoint: "GET /users/:id" })).toBe(
      "response_time:key=7:endpoint=GET /users/:id",
    );
    expect(fingerprint("usage_spike", { apiKeyId: 7 })).toBe("usage_spike:key=7");
    expect(fingerprint("unauthorized_access", { clientIp: "203.0.113.9" })).toBe(
      "unauthorized_access:ip=203.0.113.9",
    );
    expect(fingerprint("rate_limit_approaching", { apiKeyId: 7, window: "minute" })).toBe(
      "rate_limit_approaching:key=7:window=minute",
    );
  });

  it("stay within the contract's length and distinct for long routes", () => {
    const a = fingerprint("error_rate", { apiKeyId: 1, endpoint: `GET /${"a".repeat(500)}` });
    const b = fingerprint("error_rate", { apiKeyId: 1, endpoint: `GET /${"a".repeat(499)}b` });
    expect(a.length).toBe(MAX_FINGERPRINT_LENGTH);
    expect(a.startsWith("error_rate:key=1:endpoint=GET /aaa")).toBe(true);
    expect(a).not.toBe(b);
    expect(fingerprint("error_rate", { apiKeyId: 1, endpoint: `GET /${"a".repeat(500)}` })).toBe(a);
  });
});
