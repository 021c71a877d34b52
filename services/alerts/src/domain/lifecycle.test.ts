import type { AlertSignal } from "@apimon/events";
import { makeAlertSignal } from "@apimon/testkit";
import { decideSignal, type OpenAlertState } from "./lifecycle";

const T0 = "2026-11-27T12:00:00.000Z";
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000);

function signal(overrides: Partial<AlertSignal> & { seconds?: number } = {}): AlertSignal {
  const { seconds = 0, ...rest } = overrides;
  return makeAlertSignal({ observedAt: at(seconds).toISOString(), ...rest });
}

function open(overrides: Partial<OpenAlertState> = {}): OpenAlertState {
  return { severity: "warning", status: "firing", occurrences: 1, lastSeenAt: at(0), ...overrides };
}

describe("alert lifecycle: firing signals", () => {
  it("opens an alert when nothing is open for the fingerprint", () => {
    expect(decideSignal(null, null, signal())).toEqual({ kind: "open" });
  });

  it("counts a repeated signal into the open alert with its time and latest value (dedup)", () => {
    expect(decideSignal(open(), null, signal({ seconds: 30, observedValue: 1.6 }))).toEqual({
      kind: "update",
      escalated: false,
      update: {
        severity: "warning",
        occurrences: 2,
        lastSeenAt: at(30),
        observedValue: 1.6,
        threshold: 1,
        message: "Response time 1.4 s above 1 s",
      },
    });
  });

  it("takes the running total of matches a signal carries, never lowering the alert's count", () => {
    const update = (occurrences: number, seconds = 60) =>
      decideSignal(open({ occurrences: 40 }), null, signal({ seconds, occurrences }));
    expect(update(57)).toMatchObject({ kind: "update", update: { occurrences: 57, lastSeenAt: at(60) } });
    // A detector that rebuilt its state counts from less than the alert has: the alert keeps 40,
    // and still takes the signal's time and value.
    expect(update(12)).toMatchObject({ kind: "update", update: { occurrences: 40, lastSeenAt: at(60) } });
    // A copy (no newer) changes nothing, whatever it counts.
    expect(update(90, 0)).toEqual({ kind: "ignore", reason: "duplicate" });
  });

  it("raises the open alert's severity in place on a more severe signal (escalation)", () => {
    const critical = signal({
      seconds: 30,
      severity: "critical",
      observedValue: 2.5,
      threshold: 2,
      message: "2.5 s",
    });
    expect(decideSignal(open({ occurrences: 3 }), null, critical)).toEqual({
      kind: "update",
      escalated: true,
      update: {
        severity: "critical",
        occurrences: 4,
        lastSeenAt: at(30),
        observedValue: 2.5,
        threshold: 2,
        message: "2.5 s",
      },
    });
  });

  it("keeps the severity, threshold and message on a less severe signal, but counts it and takes its value", () => {
    const warning = signal({ seconds: 30, observedValue: 1.2, message: "1.2 s" });
    expect(decideSignal(open({ severity: "critical" }), null, warning)).toEqual({
      kind: "update",
      escalated: false,
      update: { severity: "critical", occurrences: 2, lastSeenAt: at(30), observedValue: 1.2 },
    });
  });

  it("keeps counting into an acknowledged alert without changing its status", () => {
    const decision = decideSignal(open({ status: "acknowledged" }), null, signal({ seconds: 5 }));
    expect(decision).toMatchObject({ kind: "update", escalated: false, update: { occurrences: 2 } });
    expect(decision).not.toHaveProperty("update.status");
  });

  it("ignores a redelivered signal (no newer than the alert's last-seen time)", () => {
    expect(decideSignal(open({ lastSeenAt: at(30) }), null, signal({ seconds: 30 }))).toEqual({
      kind: "ignore",
      reason: "duplicate",
    });
    expect(decideSignal(open({ lastSeenAt: at(30) }), null, signal({ seconds: 10 }))).toEqual({
      kind: "ignore",
      reason: "duplicate",
    });
  });

  it("still escalates on a late critical signal, without moving the last-seen time back", () => {
    const late = signal({ seconds: 10, severity: "critical", threshold: 2 });
    expect(decideSignal(open({ lastSeenAt: at(30) }), null, late)).toMatchObject({
      kind: "update",
      escalated: true,
      update: { severity: "critical", lastSeenAt: at(30), occurrences: 2 },
    });
    // ...and its redelivery changes nothing more.
    expect(decideSignal(open({ severity: "critical", lastSeenAt: at(30) }), null, late)).toEqual({
      kind: "ignore",
      reason: "duplicate",
    });
  });

  it("opens a new alert for a firing signal newer than what the resolved alerts saw", () => {
    expect(decideSignal(null, at(60), signal({ seconds: 61 }))).toEqual({ kind: "open" });
  });

  it("opens one even when the signal is older than the resolution (event time lags the detector's clock)", () => {
    // Resolved at 12:05 by the detector's clock after the last firing signal at 12:00 (event
    // time); a late event of 12:03 fires again: a new condition, not a copy.
    expect(decideSignal(null, at(0), signal({ seconds: 180 }))).toEqual({ kind: "open" });
  });

  it("does not reopen on a copy of a signal a resolved alert already saw", () => {
    expect(decideSignal(null, at(60), signal({ seconds: 30 }))).toEqual({ kind: "ignore", reason: "stale" });
    expect(decideSignal(null, at(60), signal({ seconds: 60 }))).toEqual({ kind: "ignore", reason: "stale" });
  });
});

describe("alert lifecycle: resolved signals", () => {
  const resolved = (seconds: number) => signal({ seconds, state: "resolved", observedValue: 0.3 });

  it("records the count a resolution carries when it is above the alert's", () => {
    const resolving = (occurrences: number) =>
      decideSignal(open({ occurrences: 5 }), null, signal({ seconds: 90, state: "resolved", occurrences }));
    expect(resolving(8)).toEqual({ kind: "resolve", resolvedAt: at(90), occurrences: 8 });
    expect(resolving(3)).toEqual({ kind: "resolve", resolvedAt: at(90) });
  });

  it("resolves a firing or acknowledged alert at the signal's time", () => {
    expect(decideSignal(open(), null, resolved(90))).toEqual({ kind: "resolve", resolvedAt: at(90) });
    expect(decideSignal(open({ status: "acknowledged" }), null, resolved(90))).toEqual({
      kind: "resolve",
      resolvedAt: at(90),
    });
  });

  it("ignores a resolution older than the alert's newest firing signal", () => {
    expect(decideSignal(open({ lastSeenAt: at(100) }), null, resolved(90))).toEqual({
      kind: "ignore",
      reason: "stale",
    });
  });

  it("ignores a resolution with nothing open (including its redelivery)", () => {
    expect(decideSignal(null, at(90), resolved(90))).toEqual({ kind: "ignore", reason: "nothing_open" });
  });
});
