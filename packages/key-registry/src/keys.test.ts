import { API_KEY_PREFIX, displayPrefix, generateApiKey, hashApiKey } from "./keys";

describe("API key material", () => {
  it("makes recognisable keys with at least 128 bits of randomness", () => {
    const keys = Array.from({ length: 100 }, generateApiKey);
    expect(new Set(keys).size).toBe(100);
    for (const key of keys) {
      expect(key.startsWith(API_KEY_PREFIX)).toBe(true);
      const random = Buffer.from(key.slice(API_KEY_PREFIX.length), "base64url");
      expect(random.length * 8).toBeGreaterThanOrEqual(128);
      expect(key).toMatch(/^ak_[A-Za-z0-9_-]+$/);
    }
  });

  it("hashes with HMAC-SHA-256 under the server secret", () => {
    // Computed independently: hmac.new(b"server-secret", b"ak_example", sha256).hexdigest()
    const hash = hashApiKey("server-secret", "ak_example");
    expect(hash).toBe("95b0a962da7a405421d5ac70df2f9b411d2252369a7554a43f2936ad55cdefd5");
    expect(hashApiKey("other-secret", "ak_example")).not.toBe(hash);
  });

  it("keeps only a short display prefix", () => {
    expect(displayPrefix("ak_abcdefghijklmnop")).toBe("ak_abcdefgh");
  });
});
