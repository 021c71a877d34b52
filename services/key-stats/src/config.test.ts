import { configRefusal, sharedServiceDefaults } from "@apimon/testkit";
import { loadConfig } from "./config";

describe("key-stats configuration", () => {
  it("defaults to the spec's port, its own consumer group and counted events kept 8 days", () => {
    expect(loadConfig({})).toEqual({
      port: 8084,
      host: "0.0.0.0",
      groupId: "key-stats",
      maxBatchSize: 500,
      countedEvents: { retentionDays: 8, intervalMs: 3_600_000 },
      sessionTimeoutMs: 30_000,
      ...sharedServiceDefaults,
    });
  });

  it("reads every setting from the environment", () => {
    const config = loadConfig({
      KEY_STATS_PORT: "9000",
      KEY_STATS_GROUP_ID: "ks-2",
      KEY_STATS_MAX_BATCH_SIZE: "100",
      KEY_STATS_COUNTED_EVENTS_RETENTION_DAYS: "30",
      KEY_STATS_COUNTED_EVENTS_INTERVAL_MS: "60000",
      KEY_STATS_SESSION_TIMEOUT_MS: "6000",
      KAFKA_BROKERS: "a:1, b:2",
      KAFKA_TOPIC_PREFIX: "t.",
      DATABASE_URL: "postgresql://u:p@db:5432/x",
    });
    expect(config).toMatchObject({
      port: 9000,
      groupId: "ks-2",
      maxBatchSize: 100,
      countedEvents: { retentionDays: 30, intervalMs: 60_000 },
      sessionTimeoutMs: 6000,
      kafka: { brokers: ["a:1", "b:2"], topicPrefix: "t." },
      database: { url: "postgresql://u:p@db:5432/x" },
    });
  });

  it("names every bad variable at once", () => {
    const refusal = configRefusal(() =>
      loadConfig({
        KEY_STATS_PORT: "eighty",
        KEY_STATS_COUNTED_EVENTS_RETENTION_DAYS: "0",
        KEY_STATS_MAX_BATCH_SIZE: "0",
      }),
    );
    expect(refusal.issues.map((i) => i.variable)).toEqual([
      "KEY_STATS_PORT",
      "KEY_STATS_MAX_BATCH_SIZE",
      "KEY_STATS_COUNTED_EVENTS_RETENTION_DAYS",
    ]);
  });
});
