import { ConfigError } from "@apimon/config";
import { loadConfig } from "./config";

describe("anomaly detector config", () => {
  it("has the documented defaults", () => {
    expect(loadConfig({})).toMatchObject({
      port: 8085,
      groupId: "anomaly-detector",
      settingsPollMs: 2000,
      tickMs: 1000,
      kafka: { brokers: ["127.0.0.1:9092"], topicPrefix: "" },
    });
  });

  it("lists every bad variable at once", () => {
    expect(() => loadConfig({ DETECTOR_PORT: "x", DETECTOR_TICK_MS: "0" })).toThrow(ConfigError);
    try {
      loadConfig({ DETECTOR_PORT: "x", DETECTOR_TICK_MS: "0" });
    } catch (error) {
      expect((error as ConfigError).issues.map((i) => i.variable).sort()).toEqual([
        "DETECTOR_PORT",
        "DETECTOR_TICK_MS",
      ]);
    }
  });
});
