import { adminEnv, databaseEnv, kafkaEnv, loggingEnv, rateLimitEnv, redactUrl } from "./common";
import { DEFAULT_ALERT_THRESHOLDS, RATE_LIMITS, RESPONSE_TIME_THRESHOLDS } from "./defaults";
import { ConfigError, envTypes, parseEnv } from "./env";

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
    const variables = (error as ConfigError).issues.map((i) => i.variable).sort();
    expect(variables).toEqual(["ADMIN_TOKEN", "DATABASE_URL", "RATE_LIMIT_HOUR", "RATE_LIMIT_MINUTE"]);
    expect((error as Error).message).toMatch(/^Invalid configuration:\n {2}/);
  });

  it("rejects a short admin token", () => {
    expect(() => parseEnv(adminEnv, { ADMIN_TOKEN: "short" })).toThrow(/ADMIN_TOKEN: must be at least 16/);
  });

  it("redacts passwords from connection URLs", () => {
    expect(redactUrl("postgresql://app:hunter2@db:5432/apimon")).toBe("postgresql://app:***@db:5432/apimon");
    expect(redactUrl("redis://127.0.0.1:6379")).toBe("redis://127.0.0.1:6379");
  });
});
