import { forwardedClientIp } from "./client-address";

describe("the client behind trusted proxies", () => {
  it("is the X-Forwarded-For entry the outermost trusted proxy wrote, never one further left", () => {
    expect(forwardedClientIp("203.0.113.7", 1)).toBe("203.0.113.7");
    expect(forwardedClientIp("6.6.6.6, 203.0.113.7", 1)).toBe("203.0.113.7");
    expect(forwardedClientIp("6.6.6.6, 203.0.113.7, 10.0.0.2", 2)).toBe("203.0.113.7");
    expect(forwardedClientIp(["6.6.6.6", "2001:db8::1"], 1)).toBe("2001:db8::1");
  });

  it("is undefined when the field says less than the proxies would have written, or not an address", () => {
    expect(forwardedClientIp(undefined, 1)).toBeUndefined();
    expect(forwardedClientIp("203.0.113.7", 2)).toBeUndefined();
    expect(forwardedClientIp("203.0.113.7, not-an-ip", 1)).toBeUndefined();
    expect(forwardedClientIp("203.0.113.7", 0)).toBeUndefined();
  });
});
