import type { AlertSignal } from "@apimon/events";

export type Severity = AlertSignal["severity"];
export type AlertType = AlertSignal["type"];
export type AlertStatus = "firing" | "acknowledged" | "resolved";

const RANK: Readonly<Record<Severity, number>> = { warning: 1, critical: 2 };

/** Whether `severity` is `minimum` or above (warning < critical). */
export function isAtLeast(severity: Severity, minimum: Severity): boolean {
  return RANK[severity] >= RANK[minimum];
}

/** Whether `severity` is strictly above `than`. */
export function isHigher(severity: Severity, than: Severity): boolean {
  return RANK[severity] > RANK[than];
}
