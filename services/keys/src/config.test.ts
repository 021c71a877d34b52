import { refusedVariables, sharedServiceDefaults } from "@apimon/testkit";
import { loadConfig } from "./config";

const required = { ADMIN_TOKEN: "a".repeat(16), KEY_HASH_SECRET: "s".repeat(32) };

describe("keys configuration", () => {
  it("has the documented defaults", () => {
    expect(loadConfig(required)).toEqual({
      port: 8082,
      host: "0.0.0.0",
      adminToken: "a".repeat(16),
      trustedProxyHops: 0,
      keyHashSecret: "s".repeat(32),
      graceSeconds: 86_400,
      outboxPollMs: 100,
      defaults: { minute: 100, hour: 1000, day: 10000 },
      ...sharedServiceDefaults,
    });
  });

  it("reads every variable", () => {
    const config = loadConfig({
      ...required,
      KEYS_PORT: "9000",
      KEYS_HOST: "127.0.0.1",
      KEY_ROTATION_GRACE_SECONDS: "0",
      OUTBOX_POLL_MS: "250",
      RATE_LIMIT_MINUTE: "5",
      KAFKA_BROKERS: "a:9092, b:9092",
      KAFKA_TOPIC_PREFIX: "t1.",
      DATABASE_SCHEMA: "keys_test",
    });
    expect(config).toMatchObject({
      port: 9000,
      host: "127.0.0.1",
      graceSeconds: 0,
      outboxPollMs: 250,
      defaults: { minute: 5, hour: 1000, day: 10000 },
      kafka: { brokers: ["a:9092", "b:9092"], topicPrefix: "t1." },
      database: { schema: "keys_test" },
    });
  });

  it("refuses to start without its secrets or with bad values, naming every variable", () => {
    const refused = refusedVariables(() =>
      loadConfig({ ADMIN_TOKEN: "short", KEY_ROTATION_GRACE_SECONDS: "9999999", KEYS_PORT: "http" }),
    );
    expect(refused).toEqual(["ADMIN_TOKEN", "KEYS_PORT", "KEY_HASH_SECRET", "KEY_ROTATION_GRACE_SECONDS"]);
    expect(() => loadConfig({ ...required, KEY_HASH_SECRET: "s".repeat(31) })).toThrow(
      "KEY_HASH_SECRET: must be at least 32 characters",
    );
  });
});
