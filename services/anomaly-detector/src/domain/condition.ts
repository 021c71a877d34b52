import type { AlertSignal } from "@apimon/events";
import type { AlertType } from "./fingerprint";

export type Severity = AlertSignal["severity"];
export type SignalScope = AlertSignal["scope"];

/** What a rule concluded about one evaluation that matched. */
export interface Verdict {
  severity: Severity;
  observedValue: number;
  threshold: number;
  message: string;
}

export interface ConditionSettings {
  /** Matching evaluations in a row before a condition fires (damping). */
  consecutiveEvaluations: number;
  /** How long a firing condition must go without a match before it resolves. */
  quietPeriodMs: number;
  /**
   * While a condition fires, how often at most it reports that it still matches (its matches so
   * far, the latest value and time), so the open alert's count and last-seen time stay true.
   * Absent: never.
   */
  updateIntervalMs?: number;
}

/**
 * The lifecycle of one fingerprint: it fires after `consecutiveEvaluations` matching evaluations
 * in a row, escalates at once when a critical evaluation follows a warning, de-escalates and
 * resolves only after a quiet period without a (critical) match. So a flapping rule produces
 * one firing signal per change of severity, never one per event; while it keeps matching, at most
 * one update per `updateIntervalMs` carries its count of matches and latest value.
 */
export class Condition {
  /** Matching evaluations in a row (reset by a non-matching one). */
  consecutive = 0;
  /** The severity last signalled as firing; null while not firing. */
  firing: Severity | null = null;
  /** Event time (ms) of the latest matching evaluation. */
  lastMatchAt = 0;
  /** Event time (ms) of the latest critical evaluation. */
  lastCriticalAt = 0;
  /** Matching evaluations since it started firing, the one that fired it included. */
  matches = 0;
  /** `matches` as the last signal reported it. */
  reportedMatches = 0;
  /** Time (ms) of the last firing signal. */
  lastSignalAt = 0;
  last: Verdict | undefined;
  /**
   * When set, the condition resolves at this time instead of after a quiet period (a rate-limit
   * window resolves when it resets).
   */
  resolveAt: number | undefined;

  constructor(
    readonly type: AlertType,
    readonly fingerprint: string,
    readonly scope: SignalScope,
    /** Who the condition is about, for messages: `key 7, GET /users/:id`. */
    readonly subject: string,
  ) {}
}

function signal(
  c: Condition,
  state: AlertSignal["state"],
  severity: Severity,
  verdict: Verdict,
  atMs: number,
  message = verdict.message,
): AlertSignal {
  c.reportedMatches = c.matches;
  if (state === "firing") c.lastSignalAt = atMs;
  return {
    fingerprint: c.fingerprint,
    type: c.type,
    severity,
    state,
    scope: c.scope,
    observedValue: verdict.observedValue,
    threshold: verdict.threshold,
    message,
    observedAt: new Date(atMs).toISOString(),
    occurrences: c.matches,
  };
}

/** Whether a firing condition has matches it has not reported for the update interval. */
function updateDue(c: Condition, nowMs: number, settings: ConditionSettings): boolean {
  return (
    settings.updateIntervalMs !== undefined &&
    c.matches > c.reportedMatches &&
    nowMs - c.lastSignalAt >= settings.updateIntervalMs
  );
}

/**
 * Applies one evaluation (a verdict, or null when the rule did not match) at event time `atMs`.
 * Returns the firing signal to publish when the condition starts firing (after damping),
 * escalates to critical, or is due an update (at the match's own severity, which the alert never
 * lowers); null otherwise.
 */
export function evaluate(
  c: Condition,
  verdict: Verdict | null,
  atMs: number,
  settings: ConditionSettings,
): AlertSignal | null {
  if (verdict === null) {
    c.consecutive = 0;
    return null;
  }
  c.consecutive++;
  c.last = verdict;
  if (atMs > c.lastMatchAt) c.lastMatchAt = atMs;
  if (verdict.severity === "critical" && atMs > c.lastCriticalAt) c.lastCriticalAt = atMs;
  if (c.firing === null) {
    if (c.consecutive < settings.consecutiveEvaluations) return null;
    c.firing = verdict.severity;
    c.matches = 1;
    return signal(c, "firing", verdict.severity, verdict, atMs);
  }
  c.matches++;
  if (c.firing === "warning" && verdict.severity === "critical") {
    c.firing = "critical";
    return signal(c, "firing", "critical", verdict, atMs);
  }
  if (updateDue(c, atMs, settings)) return signal(c, "firing", verdict.severity, verdict, atMs);
  return null;
}

/**
 * The time-driven half of the lifecycle, run by the periodic tick with the clock's `nowMs`:
 * a firing condition without a match for the quiet period resolves (or at `resolveAt` when set);
 * a critical one without a critical match for the quiet period de-escalates to warning; one
 * with matches unreported for the update interval reports them (stamped with the latest match).
 */
export function checkQuiet(c: Condition, nowMs: number, settings: ConditionSettings): AlertSignal | null {
  if (c.firing === null || c.last === undefined) return null;
  const last = c.last;
  if (c.resolveAt !== undefined) {
    if (nowMs < c.resolveAt) return null;
    const resolved = signal(
      c,
      "resolved",
      c.firing,
      last,
      nowMs,
      `${c.subject}: resolved, the rate-limit window reset`,
    );
    reset(c);
    return resolved;
  }
  if (nowMs - c.lastMatchAt >= settings.quietPeriodMs) {
    const quiet = Math.round(settings.quietPeriodMs / 1000);
    const resolved = signal(
      c,
      "resolved",
      c.firing,
      last,
      nowMs,
      `${c.subject}: resolved, no match for ${quiet} s`,
    );
    reset(c);
    return resolved;
  }
  if (c.firing === "critical" && nowMs - c.lastCriticalAt >= settings.quietPeriodMs) {
    c.firing = "warning";
    return signal(c, "firing", "warning", last, c.lastMatchAt);
  }
  if (updateDue(c, nowMs, settings) && c.lastMatchAt > c.lastSignalAt)
    return signal(c, "firing", last.severity, last, c.lastMatchAt);
  return null;
}

/** Not firing and nothing pending that could still make it fire: its owner may forget it. */
export function isIdle(c: Condition, nowMs: number, settings: ConditionSettings): boolean {
  return c.firing === null && (c.consecutive === 0 || nowMs - c.lastMatchAt >= settings.quietPeriodMs);
}

function reset(c: Condition): void {
  c.firing = null;
  c.consecutive = 0;
  c.resolveAt = undefined;
  c.matches = 0;
  c.reportedMatches = 0;
  c.lastSignalAt = 0;
}
