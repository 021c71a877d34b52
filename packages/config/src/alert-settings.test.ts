import { alertSettingsSchema, alertThresholdsSchema, DEFAULT_ALERT_SETTINGS } from "./alert-settings";

describe("alert settings", () => {
  it("defaults to the spec's thresholds in the spec's shape", () => {
    expect(DEFAULT_ALERT_SETTINGS.alertThresholds).toMatchObject({
      response_time: { warning: 1.0, critical: 2.0 },
      error_rate: { warning: 0.05, critical: 0.1, windowSeconds: 300, minRequests: 20 },
      usage_spike: { warning: 2.0, critical: 3.0 },
      unauthorized_access: { critical: 5, windowSeconds: 3600 },
      rate_limit_approaching: { warning: 0.8 },
    });
    expect(DEFAULT_ALERT_SETTINGS.repeatIntervalSeconds).toBe(3600);
    expect(DEFAULT_ALERT_SETTINGS.escalation).toEqual({ enabled: false, afterSeconds: 900, channelIds: [] });
  });

  it("accepts the spec's own alert_thresholds document and fills in the rest", () => {
    const parsed = alertThresholdsSchema.parse({
      response_time: { warning: 0.5, critical: 1.5 },
      error_rate: { warning: 0.02, critical: 0.2 },
      usage_spike: { warning: 4, critical: 6 },
    });
    expect(parsed.response_time).toEqual({ warning: 0.5, critical: 1.5 });
    expect(parsed.error_rate).toEqual({ warning: 0.02, critical: 0.2, windowSeconds: 300, minRequests: 20 });
    expect(parsed.unauthorized_access.critical).toBe(5);
  });

  it("rejects a critical threshold below its warning, unknown fields and ratios above 1", () => {
    expect(alertThresholdsSchema.safeParse({ response_time: { warning: 2, critical: 1 } }).success).toBe(
      false,
    );
    expect(alertThresholdsSchema.safeParse({ bogus: 1 }).success).toBe(false);
    expect(alertThresholdsSchema.safeParse({ error_rate: { warning: 0.5, critical: 1.5 } }).success).toBe(
      false,
    );
    expect(alertSettingsSchema.safeParse({ repeatIntervalSeconds: 0 }).success).toBe(false);
  });
});
