import { refusedVariables } from "@apimon/testkit";
import { loadConfig } from "./config";

describe("anomaly detector config", () => {
  it("has the documented defaults", () => {
    expect(loadConfig({})).toMatchObject({
      port: 8085,
      groupId: "anomaly-detector",
      settingsPollMs: 2000,
      tickMs: 1000,
      updateIntervalMs: 60_000,
      kafka: { brokers: ["127.0.0.1:9092"], topicPrefix: "" },
    });
  });

  it("lists every bad variable at once", () => {
    expect(
      refusedVariables(() =>
        loadConfig({ DETECTOR_PORT: "x", DETECTOR_TICK_MS: "0", DETECTOR_UPDATE_INTERVAL_MS: "-1" }),
      ),
    ).toEqual(["DETECTOR_PORT", "DETECTOR_TICK_MS", "DETECTOR_UPDATE_INTERVAL_MS"]);
  });
});
