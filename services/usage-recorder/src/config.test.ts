import { refusedVariables, sharedServiceDefaults } from "@apimon/testkit";
import { loadConfig } from "./config";

describe("usage recorder configuration", () => {
  it("has the documented defaults", () => {
    expect(loadConfig({})).toEqual({
      port: 8083,
      host: "0.0.0.0",
      groupId: "usage-recorder",
      batchSize: 2000,
      concurrency: 3,
      sessionTimeoutMs: 30_000,
      lagIntervalMs: 10_000,
      partitions: { daysAhead: 3, retentionDays: 30, intervalMs: 3_600_000 },
      ...sharedServiceDefaults,
      database: { ...sharedServiceDefaults.database, poolSize: 5 },
    });
  });

  it("reads every variable", () => {
    const config = loadConfig({
      USAGE_RECORDER_PORT: "9083",
      USAGE_RECORDER_HOST: "127.0.0.1",
      USAGE_RECORDER_GROUP_ID: "recorder-b",
      USAGE_RECORDER_BATCH_SIZE: "500",
      USAGE_RECORDER_CONCURRENCY: "1",
      USAGE_RECORDER_DB_POOL_SIZE: "3",
      USAGE_RECORDER_SESSION_TIMEOUT_MS: "6000",
      USAGE_RECORDER_LAG_INTERVAL_MS: "1000",
      USAGE_PARTITION_DAYS_AHEAD: "0",
      USAGE_RETENTION_DAYS: "7",
      USAGE_PARTITION_INTERVAL_MS: "60000",
      KAFKA_TOPIC_PREFIX: "t1.",
      DATABASE_SCHEMA: "recorder_test",
    });
    expect(config).toMatchObject({
      port: 9083,
      host: "127.0.0.1",
      groupId: "recorder-b",
      batchSize: 500,
      concurrency: 1,
      sessionTimeoutMs: 6000,
      lagIntervalMs: 1000,
      partitions: { daysAhead: 0, retentionDays: 7, intervalMs: 60_000 },
      database: { schema: "recorder_test", poolSize: 3 },
      kafka: { topicPrefix: "t1." },
    });
  });

  it("refuses bad values, naming every variable", () => {
    const refused = refusedVariables(() =>
      loadConfig({
        USAGE_RECORDER_BATCH_SIZE: "0",
        USAGE_RETENTION_DAYS: "-1",
        USAGE_RECORDER_SESSION_TIMEOUT_MS: "1000",
        USAGE_RECORDER_PORT: "http",
      }),
    );
    expect(refused).toEqual([
      "USAGE_RECORDER_BATCH_SIZE",
      "USAGE_RECORDER_PORT",
      "USAGE_RECORDER_SESSION_TIMEOUT_MS",
      "USAGE_RETENTION_DAYS",
    ]);
  });
});
