import { adminEnv, databaseEnv, kafkaEnv, loggingEnv, rateLimitEnv, redactUrl } from "./common";
import { DEFAULT_ALERT_THRESHOLDS, RATE_LIMITS, RESPONSE_TIME_THRESHOLDS } from "./defaults";
import { ConfigError, envTypes, isPlaceholderSecret, parseEnv } from "./env";

describe("config loading", () => {
  it("uses the spec's rate limits and local infrastructure when nothing is set", () => {
    const config = parseEnv({ ...rateLimitEnv, ...kafkaEnv, ...databaseEnv, ...loggingEnv }, {});
    expect(config).toEqual({
      RATE_LIMIT_MINUTE: 100,
      RATE_LIMIT_HOUR: 1000,
      RATE_LIMIT_DAY: 10000,
      KAFKA_BROKERS: ["127.0.0.1:9092"],
      KAFKA_CLIENT_ID: "apimon",
      KAFKA_TOPIC_PREFIX: "",
      KAFKA_REPLICATION_FACTOR: 1,
      KAFKA_SSL: false,
      DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/apimon",
      LOG_LEVEL: "info",
      SHUTDOWN_TIMEOUT_MS: 10000,
    });
  });

  it("keeps the spec's numbers as named defaults", () => {
    expect(RATE_LIMITS).toEqual({ minute: 100, hour: 1000, day: 10000 });
    expect(RESPONSE_TIME_THRESHOLDS).toEqual({ warning: 1.0, critical: 2.0 });
    expect(DEFAULT_ALERT_THRESHOLDS).toEqual({
      response_time: { warning: 1.0, critical: 2.0 },
      error_rate: { warning: 0.05, critical: 0.1 },
      usage_spike: { warning: 2.0, critical: 3.0 },
    });
  });

  it("parses overrides, lists and booleans", () => {
    const config = parseEnv(
      { ...rateLimitEnv, ...kafkaEnv, FLAG: envTypes.boolean(false) },
      { RATE_LIMIT_MINUTE: "5", KAFKA_BROKERS: "a:1, b:2", FLAG: "yes" },
    );
    expect(config.RATE_LIMIT_MINUTE).toBe(5);
    expect(config.KAFKA_BROKERS).toEqual(["a:1", "b:2"]);
    expect(config.FLAG).toBe(true);
  });

  it("treats an empty variable as unset", () => {
    expect(parseEnv(rateLimitEnv, { RATE_LIMIT_DAY: "" }).RATE_LIMIT_DAY).toBe(10000);
  });

  it("fails fast with one message naming every bad variable", () => {
    let error: unknown;
    try {
      parseEnv(
        { ...rateLimitEnv, ...adminEnv, ...databaseEnv },
        { RATE_LIMIT_MINUTE: "-3", RATE_LIMIT_HOUR: "lots", DATABASE_URL: "not a url" },
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = [...(error as ConfigError).issues].sort((a, b) => a.variable.localeCompare(b.variable));
    expect(issues).toEqual([
      { variable: "ADMIN_TOKEN", message: "is required" },
      { variable: "DATABASE_URL", message: "must be a URL" },
      { variable: "RATE_LIMIT_HOUR", message: "must be a number" },
      { variable: "RATE_LIMIT_MINUTE", message: "must be greater than 0" },
    ]);
    expect((error as Error).message).toMatch(/^Invalid configuration:\n {2}/);
  });

  it("rejects a short admin token", () => {
    expect(() => parseEnv(adminEnv, { ADMIN_TOKEN: "short" })).toThrow(/ADMIN_TOKEN: must be at least 16/);
  });

  it("refuses the example placeholder secrets, listing each one", () => {
    const shape = {
      ...adminEnv,
      KEY_HASH_SECRET: envTypes.secret(32),
      RATE_LIMIT_MINUTE: rateLimitEnv.RATE_LIMIT_MINUTE,
    };
    let error: unknown;
    try {
      parseEnv(shape, {
        ADMIN_TOKEN: "change-me-admin-token",
        KEY_HASH_SECRET: "change-me-key-hash-secret-0123456789",
        RATE_LIMIT_MINUTE: "-1",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      {
        variable: "ADMIN_TOKEN",
        message:
          "is the example placeholder; set a secret of your own (APIMON_INSECURE_DEV=true allows it on a local stack)",
      },
      {
        variable: "KEY_HASH_SECRET",
        message:
          "is the example placeholder; set a secret of your own (APIMON_INSECURE_DEV=true allows it on a local stack)",
      },
      { variable: "RATE_LIMIT_MINUTE", message: expect.any(String) },
    ]);
  });

  it("refuses a placeholder in an optional secret too", () => {
    expect(() =>
      parseEnv(
        { SESSION_SECRET: envTypes.secret(32).optional() },
        { SESSION_SECRET: "change-me-session-secret-0123456789" },
      ),
    ).toThrow(/SESSION_SECRET: is the example placeholder/);
    expect(parseEnv({ SESSION_SECRET: envTypes.secret(32).optional() }, {})).toEqual({});
  });

  it("accepts the placeholders on a local stack that says APIMON_INSECURE_DEV=true", () => {
    const config = parseEnv(adminEnv, { ADMIN_TOKEN: "change-me-admin-token", APIMON_INSECURE_DEV: "true" });
    expect(config).toEqual({ ADMIN_TOKEN: "change-me-admin-token", ADMIN_TRUSTED_PROXY_HOPS: 0 });
    expect(() =>
      parseEnv(adminEnv, { ADMIN_TOKEN: "change-me-admin-token", APIMON_INSECURE_DEV: "1" }),
    ).toThrow(/ADMIN_TOKEN: is the example placeholder/);
  });

  it("does not treat an ordinary secret or a non-secret variable as a placeholder", () => {
    expect(isPlaceholderSecret("Change-Me-please-0123456789")).toBe(true);
    expect(isPlaceholderSecret("a-real-token-that-mentions-change-me")).toBe(false);
    expect(
      parseEnv(
        { ...adminEnv, NAME: envTypes.url() },
        { ADMIN_TOKEN: "s3cret-admin-token-0123", NAME: "http://change-me.example" },
      ),
    ).toEqual({
      ADMIN_TOKEN: "s3cret-admin-token-0123",
      ADMIN_TRUSTED_PROXY_HOPS: 0,
      NAME: "http://change-me.example",
    });
  });

  it("redacts passwords from connection URLs", () => {
    expect(redactUrl("postgresql://app:hunter2@db:5432/apimon")).toBe("postgresql://app:***@db:5432/apimon");
    expect(redactUrl("redis://127.0.0.1:6379")).toBe("redis://127.0.0.1:6379");
  });
});
