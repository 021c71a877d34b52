import type { Alert } from "@apimon/db";
import type { Logger } from "@apimon/observability";
import { alertObservation } from "./domain/jobs";

/**
 * The spec's alert log: "Warnings are logged with level WARNING, Critical alerts are logged with
 * level CRITICAL". pino has no critical level, so this logger adds one (55: above error, below
 * fatal, so LOG_LEVEL=warn or error still shows it) and every line carries the spec's level
 * name in `severity`: `{"level":"warn","severity":"WARNING",...}` and
 * `{"level":"critical","severity":"CRITICAL",...}`.
 */
export interface AlertLog {
  /** A new alert; `silenceId`: the silence holding back its notifications. */
  firing(alert: Alert, silenceId?: number): void;
  /** The alert's severity went up in place. */
  escalated(alert: Alert, from: Alert["severity"], silenceId?: number): void;
  /** The escalation policy sent the alert to its escalation channels. */
  escalationPolicy(alert: Alert, channelIds: number[]): void;
  acknowledged(alert: Alert): void;
  resolved(alert: Alert): void;
}

export const CRITICAL_LEVEL = 55;

export function createAlertLog(logger: Logger): AlertLog {
  const log = logger.child({ component: "alerts" }, { customLevels: { critical: CRITICAL_LEVEL } });
  const fields = (alert: Alert) => ({
    severity: alert.severity === "critical" ? "CRITICAL" : "WARNING",
    alertId: alert.id,
    fingerprint: alert.fingerprint,
    type: alert.type,
    status: alert.status,
    ...alertObservation(alert),
  });
  const atSeverity = (alert: Alert, extra: Record<string, unknown>, msg: string) => {
    if (alert.severity === "critical") log.critical({ ...fields(alert), ...extra }, msg);
    else log.warn({ ...fields(alert), ...extra }, msg);
  };
  // Still logged at the alert's level: a silence holds back notifications, not the record.
  const silenced = (silenceId: number | undefined) =>
    silenceId === undefined
      ? { extra: {}, note: "" }
      : { extra: { silenceId }, note: ` (silenced by #${silenceId})` };
  return {
    firing: (alert, silenceId) => {
      const { extra, note } = silenced(silenceId);
      const heldUntil = alert.heldUntil?.toISOString();
      const held = heldUntil === undefined ? "" : ` (held for its group until ${heldUntil})`;
      atSeverity(
        alert,
        { ...extra, ...(heldUntil && { heldUntil }) },
        `alert firing${note}${held}: ${alert.message}`,
      );
    },
    escalated: (alert, from, silenceId) => {
      const { extra, note } = silenced(silenceId);
      atSeverity(
        alert,
        { from, ...extra },
        `alert escalated from ${from} to ${alert.severity}${note}: ${alert.message}`,
      );
    },
    escalationPolicy: (alert, channelIds) =>
      atSeverity(alert, { channelIds }, `alert unacknowledged; escalated to ${channelIds.length} channel(s)`),
    acknowledged: (alert) =>
      log.info(
        { ...fields(alert), acknowledgedBy: alert.acknowledgedBy },
        `alert acknowledged: ${alert.message}`,
      ),
    resolved: (alert) => {
      const heldUntil = alert.heldUntil?.toISOString();
      const held = heldUntil === undefined ? "" : ` (told with its group at ${heldUntil})`;
      log.info(
        { ...fields(alert), ...(heldUntil && { heldUntil }) },
        `alert resolved${held}: ${alert.message}`,
      );
    },
  };
}
