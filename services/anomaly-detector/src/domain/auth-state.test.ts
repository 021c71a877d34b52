import { alertThresholdsSchema } from "@apimon/config";
import type { AlertSignal, AuthFailure } from "@apimon/events";
import { AuthFailureState } from "./auth-state";
import { createDetector } from "./detector";
import { ruleSettings } from "./usage-state";

const T0 = Date.parse("2026-11-27T12:00:00.000Z");

function failure(at: number, clientIp: string, count?: number): AuthFailure {
  return {
    id: "0190b2c4-8f1e-7a3b-9c2d-1e2f3a4b5c6d",
    occurredAt: new Date(at).toISOString(),
    reason: "invalid",
    clientIp,
    endpoint: "/a",
    method: "GET",
    ...(count === undefined ? {} : { count }),
  };
}

describe("unauthorized_access state per client IP", () => {
  it("counts a summarising event as the attempts it stands for", () => {
    const detector = createDetector({ thresholds: () => alertThresholdsSchema.parse({}) });
    const fired = detector
      .applyAuth(0, [{ offset: "1", value: failure(T0, "10.0.0.1", 940) }])
      .map((s: AlertSignal) => `${s.state} ${s.fingerprint}`);
    expect(fired).toEqual(["firing unauthorized_access:ip=10.0.0.1"]);
  });

  it("tracks at most its bound of IPs per partition, dropping the least recently failing", () => {
    const detector = createDetector({ thresholds: () => alertThresholdsSchema.parse({}), maxTrackedIps: 3 });
    const events = Array.from({ length: 1000 }, (_, i) => ({
      offset: String(i),
      value: failure(T0 + i, `10.0.${Math.floor(i / 250)}.${i % 250}`),
    }));
    expect(detector.applyAuth(0, events)).toEqual([]);
    const state = new AuthFailureState(3);
    const settings = ruleSettings(alertThresholdsSchema.parse({}));
    const out: AlertSignal[] = [];
    for (let i = 0; i < 100; i++) state.apply(0, failure(T0 + i, `10.9.0.${i}`), settings, out);
    expect(state.trackedIps(0)).toBe(3);
    // The IP failing again most recently is kept: five more from it raise the alert.
    for (let i = 0; i < 5; i++) state.apply(0, failure(T0 + 200 + i, "10.9.0.99"), settings, out);
    expect(out.map((s) => s.fingerprint)).toEqual(["unauthorized_access:ip=10.9.0.99"]);
    expect(state.trackedIps(0)).toBe(3);
  });
});
