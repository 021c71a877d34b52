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
  // A notification waiting for the alert's group (type and endpoint) is said, with until when.
  const heldFor = (alert: Alert, words: string) => {
    const heldUntil = alert.heldUntil?.toISOString();
    return heldUntil === undefined
      ? { extra: {}, note: "" }
      : { extra: { heldUntil }, note: ` (${words} ${heldUntil})` };
  };
  return {
    firing: (alert, silenceId) => {
      const { extra, note } = silenced(silenceId);
      const held = heldFor(alert, "held for its group until");
      atSeverity(alert, { ...extra, ...held.extra }, `alert firing${note}${held.note}: ${alert.message}`);
    },
    escalated: (alert, from, silenceId) => {
      const { extra, note } = silenced(silenceId);
      const held = heldFor(alert, "held for its group until");
      atSeverity(
        alert,
        { from, ...extra, ...held.extra },
        `alert escalated from ${from} to ${alert.severity}${note}${held.note}: ${alert.message}`,
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
      const held = heldFor(alert, "told with its group at");
      log.info({ ...fields(alert), ...held.extra }, `alert resolved${held.note}: ${alert.message}`);
    },
  };
}
