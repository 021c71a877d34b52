import { Condition, checkQuiet, evaluate, isIdle, type Verdict } from "./condition";

const warn: Verdict = { severity: "warning", observedValue: 1.5, threshold: 1, message: "slow" };
const crit: Verdict = { severity: "critical", observedValue: 2.5, threshold: 2, message: "very slow" };
const settings = { consecutiveEvaluations: 1, quietPeriodMs: 60_000 };
const make = () =>
  new Condition(
    "response_time",
    "response_time:key=1:endpoint=GET /a",
    { apiKeyId: 1, endpoint: "GET /a" },
    "key 1",
  );

describe("condition lifecycle", () => {
  it("fires once, escalates once, and does not repeat while the severity holds", () => {
    const c = make();
    expect(evaluate(c, warn, 1000, settings)).toMatchObject({
      fingerprint: "response_time:key=1:endpoint=GET /a",
      type: "response_time",
      severity: "warning",
      state: "firing",
      scope: { apiKeyId: 1, endpoint: "GET /a" },
      observedValue: 1.5,
      threshold: 1,
      message: "slow",
      observedAt: new Date(1000).toISOString(),
    });
    expect(evaluate(c, warn, 2000, settings)).toBeNull();
    expect(evaluate(c, null, 2500, settings)).toBeNull();
    expect(evaluate(c, crit, 3000, settings)).toMatchObject({ severity: "critical", state: "firing" });
    expect(evaluate(c, crit, 4000, settings)).toBeNull();
    // A warning while critical does not de-escalate at once (no flapping) ...
    expect(evaluate(c, warn, 5000, settings)).toBeNull();
    expect(checkQuiet(c, 3000 + 59_999, settings)).toBeNull();
    // ... only once no critical evaluation came for the quiet period.
    expect(checkQuiet(c, 4000 + 60_000, settings)).toMatchObject({ severity: "warning", state: "firing" });
    expect(checkQuiet(c, 4000 + 60_001, settings)).toBeNull();
  });

  it("resolves after the quiet period without a match, and not before", () => {
    const c = make();
    evaluate(c, crit, 10_000, settings);
    evaluate(c, null, 20_000, settings);
    expect(checkQuiet(c, 69_999, settings)).toBeNull();
    expect(checkQuiet(c, 70_000, settings)).toMatchObject({
      state: "resolved",
      severity: "critical",
      observedAt: new Date(70_000).toISOString(),
      message: "key 1: resolved, no match for 60 s",
    });
    expect(isIdle(c, 70_000, settings)).toBe(true);
    expect(checkQuiet(c, 80_000, settings)).toBeNull();
    // A new match after the resolution fires again.
    expect(evaluate(c, warn, 90_000, settings)).toMatchObject({ state: "firing", severity: "warning" });
  });

  it("damps: fires only after N matching evaluations in a row", () => {
    const damped = { ...settings, consecutiveEvaluations: 3 };
    const c = make();
    expect(evaluate(c, warn, 1, damped)).toBeNull();
    expect(evaluate(c, warn, 2, damped)).toBeNull();
    expect(evaluate(c, null, 3, damped)).toBeNull();
    expect(evaluate(c, warn, 4, damped)).toBeNull();
    expect(evaluate(c, warn, 5, damped)).toBeNull();
    expect(isIdle(c, 6, damped)).toBe(false);
    expect(evaluate(c, crit, 6, damped)).toMatchObject({ state: "firing", severity: "critical" });
  });

  it("a pending (damped) condition is forgotten after the quiet period", () => {
    const c = make();
    evaluate(c, warn, 0, { ...settings, consecutiveEvaluations: 2 });
    expect(isIdle(c, 59_999, settings)).toBe(false);
    expect(isIdle(c, 60_000, settings)).toBe(true);
  });

  it("reports its matches at most once per update interval while firing, and resolves with their count", () => {
    const s = { ...settings, updateIntervalMs: 10_000 };
    const c = make();
    expect(evaluate(c, warn, 1000, s)).toMatchObject({ state: "firing", occurrences: 1 });
    expect(evaluate(c, warn, 2000, s)).toBeNull();
    expect(evaluate(c, warn, 10_999, s)).toBeNull();
    // The interval passed: the match that comes then reports every match so far, at its own severity.
    expect(evaluate(c, warn, 11_000, s)).toMatchObject({
      state: "firing",
      severity: "warning",
      occurrences: 4,
      observedAt: new Date(11_000).toISOString(),
    });
    // An escalation goes out at once and restarts the interval.
    expect(evaluate(c, crit, 12_000, s)).toMatchObject({ severity: "critical", occurrences: 5 });
    // A warning-level match while critical is reported as a warning (the alert keeps its severity).
    expect(evaluate(c, warn, 15_000, s)).toBeNull();
    expect(checkQuiet(c, 21_999, s)).toBeNull();
    // Matches left unreported go out on the tick, stamped with the latest match.
    expect(checkQuiet(c, 22_000, s)).toMatchObject({
      state: "firing",
      severity: "warning",
      occurrences: 6,
      observedAt: new Date(15_000).toISOString(),
    });
    // Nothing new since: no update.
    expect(checkQuiet(c, 40_000, s)).toBeNull();
    // Quiet for the period: the resolution carries the count.
    expect(checkQuiet(c, 75_000, s)).toMatchObject({ state: "resolved", occurrences: 6 });
    // Firing again starts a new count.
    expect(evaluate(c, warn, 80_000, s)).toMatchObject({ state: "firing", occurrences: 1 });
  });

  it("without an update interval reports changes of severity only", () => {
    const c = make();
    evaluate(c, warn, 0, settings);
    for (let at = 1000; at < 600_000; at += 1000) expect(evaluate(c, warn, at, settings)).toBeNull();
    expect(checkQuiet(c, 600_000, settings)).toBeNull();
  });

  it("resolves at resolveAt when set (a rate-limit window), whatever the quiet period", () => {
    const c = make();
    evaluate(c, warn, 0, settings);
    c.resolveAt = 5000;
    expect(checkQuiet(c, 4999, settings)).toBeNull();
    expect(checkQuiet(c, 5000, settings)).toMatchObject({ state: "resolved" });
  });
});
