import { ConfigError } from "@apimon/config";
import { loadConfig } from "./config";

const required = { ADMIN_TOKEN: "a".repeat(16) };

describe("alerts configuration", () => {
  it("has the documented defaults", () => {
    expect(loadConfig(required)).toEqual({
      port: 8081,
      host: "0.0.0.0",
      adminToken: "a".repeat(16),
      groupId: "alerts",
      consoleUrl: "http://localhost:8087",
      schedulerMs: 5000,
      testTimeoutMs: 10_000,
      outboxPollMs: 100,
      database: { url: "postgresql://postgres@127.0.0.1:5432/apimon", schema: undefined },
      kafka: { brokers: ["127.0.0.1:9092"], clientId: "apimon", topicPrefix: "" },
      logLevel: "info",
      shutdownTimeoutMs: 10_000,
    });
  });

  it("reads every variable", () => {
    expect(
      loadConfig({
        ...required,
        ALERTS_PORT: "9001",
        ALERTS_HOST: "127.0.0.1",
        ALERTS_GROUP_ID: "alerts-blue",
        CONSOLE_PUBLIC_URL: "https://console.example.com/",
        ALERTS_SCHEDULER_MS: "250",
        ALERTS_TEST_TIMEOUT_MS: "3000",
        OUTBOX_POLL_MS: "50",
        KAFKA_TOPIC_PREFIX: "t1.",
      }),
    ).toMatchObject({
      port: 9001,
      host: "127.0.0.1",
      groupId: "alerts-blue",
      consoleUrl: "https://console.example.com",
      schedulerMs: 250,
      testTimeoutMs: 3000,
      outboxPollMs: 50,
      kafka: { topicPrefix: "t1." },
    });
  });

  it("refuses to start without the admin token or with bad values, naming every variable", () => {
    let error: unknown;
    try {
      loadConfig({ ALERTS_PORT: "http", ALERTS_SCHEDULER_MS: "0", CONSOLE_PUBLIC_URL: "not a url" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.variable).sort()).toEqual([
      "ADMIN_TOKEN",
      "ALERTS_PORT",
      "ALERTS_SCHEDULER_MS",
      "CONSOLE_PUBLIC_URL",
    ]);
  });
});
