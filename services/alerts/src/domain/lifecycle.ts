import type { AlertSignal } from "@apimon/events";
import { isHigher, type Severity } from "./severity";

// The alert lifecycle, as a pure function of the fingerprint's open alert (if any), its
// resolved alerts' newest signal time and one signal. The caller holds the open alert's row
// lock while it decides and applies, so decisions about one fingerprint are serialised.
//
// Kafka redeliveries never get here: the consumer stores the partition's next offset in the
// transaction that applies a signal and skips what it already applied (signals.ts). The rules
// on time below are the second line, for copies the detector itself may publish twice (a
// retried send): a signal no newer than what the fingerprint already saw changes nothing
// unless it raises the severity. They compare signal times with signal times only: the
// detector stamps firing signals with event time and resolutions with its clock, so a
// resolution time says nothing about which firing signals came before it.

/** What the lifecycle needs to know of a fingerprint's open (firing or acknowledged) alert. */
export interface OpenAlertState {
  severity: Severity;
  status: "firing" | "acknowledged";
  occurrences: number;
  lastSeenAt: Date;
}

/** The fields a firing signal sets on the open alert. */
export interface AlertUpdate {
  severity: Severity;
  occurrences: number;
  lastSeenAt: Date;
  observedValue: number;
  /** Changed only when the signal's severity is the alert's: they describe that severity. */
  threshold?: number;
  message?: string;
}

export type IgnoreReason =
  /** Not newer than what the alert already saw, and not more severe: a copy. */
  | "duplicate"
  /** Older than what the fingerprint already saw (a resolution older than the last firing
   * signal, or a firing signal no newer than a resolved alert's last one). */
  | "stale"
  /** A resolution with no open alert to resolve. */
  | "nothing_open"
  /** This Kafka message was applied before (by offset; decided by the caller). */
  | "redelivered";

export type SignalDecision =
  | { kind: "ignore"; reason: IgnoreReason }
  /** A new alert, firing, with the signal's severity, value and times. */
  | { kind: "open" }
  /** Dedup (count, last-seen time, latest value), and escalation when `escalated`. */
  | { kind: "update"; update: AlertUpdate; escalated: boolean }
  /** `occurrences`: the count the resolution reports, when above the alert's. */
  | { kind: "resolve"; resolvedAt: Date; occurrences?: number };

/**
 * Decides what a signal does to its fingerprint:
 * - firing, nothing open: opens an alert, unless the signal is no newer than the newest signal
 *   the fingerprint's resolved alerts saw (`resolvedLastSeenAt`): a copy of a signal that
 *   an earlier alert already had must not reopen it;
 * - firing, an alert open: counts it (as one, or up to the running total the signal carries) and
 *   records its time and value (dedup); a higher severity
 *   raises the alert in place (escalation). Severity only goes up: a lower-severity signal
 *   updates the count, last-seen time and value but keeps the alert's severity, threshold and
 *   message. An acknowledged alert stays acknowledged;
 * - resolved: resolves the open alert (firing or acknowledged), unless the alert has seen a
 *   firing signal newer than the resolution.
 */
export function decideSignal(
  open: OpenAlertState | null,
  resolvedLastSeenAt: Date | null,
  signal: Pick<
    AlertSignal,
    "severity" | "state" | "observedValue" | "threshold" | "message" | "observedAt" | "occurrences"
  >,
): SignalDecision {
  const observedAt = new Date(signal.observedAt);
  if (signal.state === "resolved") {
    if (open === null) return { kind: "ignore", reason: "nothing_open" };
    if (observedAt < open.lastSeenAt) return { kind: "ignore", reason: "stale" };
    const counted = signal.occurrences ?? 0;
    return {
      kind: "resolve",
      resolvedAt: observedAt,
      ...(counted > open.occurrences && { occurrences: counted }),
    };
  }
  if (open === null) {
    if (resolvedLastSeenAt !== null && observedAt <= resolvedLastSeenAt)
      return { kind: "ignore", reason: "stale" };
    return { kind: "open" };
  }
  const newer = observedAt > open.lastSeenAt;
  const escalated = isHigher(signal.severity, open.severity);
  if (!newer && !escalated) return { kind: "ignore", reason: "duplicate" };
  const update: AlertUpdate = {
    severity: escalated ? signal.severity : open.severity,
    // A running total (a replayed detector may report less than the alert has: keep the larger);
    // a signal without one counts as one.
    occurrences:
      signal.occurrences === undefined
        ? open.occurrences + 1
        : Math.max(open.occurrences, signal.occurrences),
    lastSeenAt: newer ? observedAt : open.lastSeenAt,
    observedValue: signal.observedValue,
  };
  if (!isHigher(open.severity, signal.severity)) {
    update.threshold = signal.threshold;
    update.message = signal.message;
  }
  return { kind: "update", update, escalated };
}
