import type { AlertThresholdSettings } from "@apimon/config";
import type { Verdict } from "./condition";

/**
 * The five rules as pure verdicts over one observation. Thresholds are the settings' (the spec's
 * `alert_thresholds` shape and units); "above" means strictly greater, "at least" means >=.
 */

const pct = (ratio: number) => `${(ratio * 100).toFixed(1)} %`;
const secs = (s: number) => `${s.toFixed(3).replace(/\.?0+$/, "")} s`;

/** " set for GET /api/export" when an override's threshold applies; nothing for the global ones. */
const setForText = (setFor: string | undefined) => (setFor === undefined ? "" : ` set for ${setFor}`);

/**
 * response_time: a request slower than the warning (1.0 s) or critical (2.0 s) threshold.
 * `setFor` names the override the thresholds come from, if any.
 */
export function judgeResponseTime(
  responseTimeMs: number,
  t: AlertThresholdSettings["response_time"],
  subject: string,
  setFor?: string,
): Verdict | null {
  // Seconds to the microsecond: the edge's timing carries float noise (2521.932 ms / 1000 is
  // 2.5219319999999996), which would otherwise reach the alert's observedValue.
  const observed = Math.round(responseTimeMs * 1000) / 1_000_000;
  const severity = observed > t.critical ? "critical" : observed > t.warning ? "warning" : null;
  if (severity === null) return null;
  const threshold = t[severity];
  return {
    severity,
    observedValue: observed,
    threshold,
    message: `${subject}: a request took ${secs(observed)}, slower than the ${severity} threshold of ${secs(threshold)}${setForText(setFor)}`,
  };
}

/**
 * error_rate: the share of 5xx responses among at least `minRequests` requests in the window,
 * above the warning (5 %) or critical (10 %) share.
 */
export function judgeErrorRate(
  requests: number,
  errors: number,
  t: AlertThresholdSettings["error_rate"],
  subject: string,
  setFor?: string,
): Verdict | null {
  if (requests < t.minRequests) return null;
  const rate = errors / requests;
  const severity = rate > t.critical ? "critical" : rate > t.warning ? "warning" : null;
  if (severity === null) return null;
  const threshold = t[severity];
  return {
    severity,
    observedValue: rate,
    threshold,
    message: `${subject}: ${errors} of ${requests} requests in the last ${t.windowSeconds} s failed with 5xx (${pct(rate)}), above the ${severity} threshold of ${pct(threshold)}${setForText(setFor)}`,
  };
}

/**
 * usage_spike: the requests in the current window as a multiple of the key's baseline, above
 * the warning (2x) or critical (3x) multiple; no verdict while the baseline is below
 * `minBaselineRequests` per window (or not yet known).
 */
export function judgeUsageSpike(
  current: number,
  baseline: number | null,
  t: AlertThresholdSettings["usage_spike"],
  subject: string,
): Verdict | null {
  if (baseline === null || baseline < t.minBaselineRequests) return null;
  const ratio = current / baseline;
  const severity = ratio > t.critical ? "critical" : ratio > t.warning ? "warning" : null;
  if (severity === null) return null;
  const threshold = t[severity];
  return {
    severity,
    observedValue: ratio,
    threshold,
    message: `${subject}: ${current} requests in the current ${t.windowSeconds} s window, ${ratio.toFixed(2)}x its baseline of ${baseline.toFixed(1)} per window (${severity} above ${threshold}x)`,
  };
}

/** unauthorized_access: more than `critical` (5) failed authentications in the window. */
export function judgeUnauthorized(
  failures: number,
  t: AlertThresholdSettings["unauthorized_access"],
  subject: string,
): Verdict | null {
  if (failures <= t.critical) return null;
  return {
    severity: "critical",
    observedValue: failures,
    threshold: t.critical,
    message: `${subject}: ${failures} failed authentication attempts in the last ${t.windowSeconds} s, more than ${t.critical}`,
  };
}

/** rate_limit_approaching: at least `warning` (80 %) of a rate-limit window used. */
export function judgeRateLimit(
  limit: number,
  remaining: number,
  resetSeconds: number,
  t: AlertThresholdSettings["rate_limit_approaching"],
  subject: string,
): Verdict | null {
  if (limit <= 0) return null;
  const used = Math.max(0, limit - remaining);
  const ratio = used / limit;
  if (ratio < t.warning) return null;
  return {
    severity: "warning",
    observedValue: ratio,
    threshold: t.warning,
    message: `${subject}: ${used} of ${limit} requests used (${pct(ratio)}), at least ${pct(t.warning)}; the window resets in ${resetSeconds} s`,
  };
}
