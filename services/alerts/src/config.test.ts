import { refusedVariables, sharedServiceDefaults } from "@apimon/testkit";
import { loadConfig } from "./config";

const required = { ADMIN_TOKEN: "a".repeat(16) };

describe("alerts configuration", () => {
  it("has the documented defaults", () => {
    expect(loadConfig(required)).toEqual({
      port: 8081,
      host: "0.0.0.0",
      adminToken: "a".repeat(16),
      trustedProxyHops: 0,
      groupId: "alerts",
      consoleUrl: "http://localhost:8087",
      schedulerMs: 5000,
      testTimeoutMs: 10_000,
      outboxPollMs: 100,
      ...sharedServiceDefaults,
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
    const refused = refusedVariables(() =>
      loadConfig({ ALERTS_PORT: "http", ALERTS_SCHEDULER_MS: "0", CONSOLE_PUBLIC_URL: "not a url" }),
    );
    expect(refused).toEqual(["ADMIN_TOKEN", "ALERTS_PORT", "ALERTS_SCHEDULER_MS", "CONSOLE_PUBLIC_URL"]);
  });
});
