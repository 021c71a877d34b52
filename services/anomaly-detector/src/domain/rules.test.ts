import { DEFAULT_ALERT_SETTINGS } from "@apimon/config";
import {
  judgeErrorRate,
  judgeRateLimit,
  judgeResponseTime,
  judgeUnauthorized,
  judgeUsageSpike,
} from "./rules";

const t = DEFAULT_ALERT_SETTINGS.alertThresholds;

describe("alert rules at the spec's default thresholds", () => {
  it("response_time: slower than 1.0 s warns, slower than 2.0 s is critical", () => {
    expect(judgeResponseTime(999, t.response_time, "s")).toBeNull();
    expect(judgeResponseTime(1000, t.response_time, "s")).toBeNull();
    expect(judgeResponseTime(1001, t.response_time, "s")).toMatchObject({
      severity: "warning",
      observedValue: 1.001,
      threshold: 1,
    });
    expect(judgeResponseTime(2000, t.response_time, "s")?.severity).toBe("warning");
    expect(judgeResponseTime(2001, t.response_time, "s")).toMatchObject({
      severity: "critical",
      threshold: 2,
    });
    expect(judgeResponseTime(2521.932, t.response_time, "s")?.observedValue).toBe(2.521932);
    expect(judgeResponseTime(1500, t.response_time, "key 7, GET /users/:id")?.message).toBe(
      "key 7, GET /users/:id: a request took 1.5 s, slower than the warning threshold of 1 s",
    );
  });

  it("error_rate: above 5 % warns, above 10 % is critical, and fewer than 20 requests say nothing", () => {
    expect(judgeErrorRate(19, 19, t.error_rate, "s")).toBeNull();
    expect(judgeErrorRate(20, 1, t.error_rate, "s")).toBeNull();
    expect(judgeErrorRate(21, 1, t.error_rate, "s")).toBeNull();
    expect(judgeErrorRate(20, 2, t.error_rate, "s")).toMatchObject({
      severity: "warning",
      observedValue: 0.1,
      threshold: 0.05,
    });
    expect(judgeErrorRate(20, 3, t.error_rate, "s")).toMatchObject({ severity: "critical", threshold: 0.1 });
  });

  it("usage_spike: above 2x the baseline warns, above 3x is critical, and a small baseline says nothing", () => {
    expect(judgeUsageSpike(40, 20, t.usage_spike, "s")).toBeNull();
    expect(judgeUsageSpike(41, 20, t.usage_spike, "s")).toMatchObject({ severity: "warning", threshold: 2 });
    expect(judgeUsageSpike(60, 20, t.usage_spike, "s")?.severity).toBe("warning");
    expect(judgeUsageSpike(61, 20, t.usage_spike, "s")).toMatchObject({ severity: "critical", threshold: 3 });
    expect(judgeUsageSpike(1000, 9.9, t.usage_spike, "s")).toBeNull();
    expect(judgeUsageSpike(1000, null, t.usage_spike, "s")).toBeNull();
    expect(judgeUsageSpike(31, 10, t.usage_spike, "s")?.severity).toBe("critical");
  });

  it("unauthorized_access: more than 5 failures is critical", () => {
    expect(judgeUnauthorized(5, t.unauthorized_access, "s")).toBeNull();
    expect(judgeUnauthorized(6, t.unauthorized_access, "client 10.0.0.1")).toEqual({
      severity: "critical",
      observedValue: 6,
      threshold: 5,
      message: "client 10.0.0.1: 6 failed authentication attempts in the last 3600 s, more than 5",
    });
  });

  it("rate_limit_approaching: 80 % or more of a window warns", () => {
    expect(judgeRateLimit(100, 21, 30, t.rate_limit_approaching, "s")).toBeNull();
    expect(judgeRateLimit(100, 20, 30, t.rate_limit_approaching, "s")).toMatchObject({
      severity: "warning",
      observedValue: 0.8,
      threshold: 0.8,
    });
    expect(judgeRateLimit(100, 0, 30, t.rate_limit_approaching, "s")?.observedValue).toBe(1);
    expect(judgeRateLimit(0, 0, 30, t.rate_limit_approaching, "s")).toBeNull();
  });
});
