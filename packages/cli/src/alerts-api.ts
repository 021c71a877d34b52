// What the CLI needs of the alerts service: the calls of the typed alerts client.
import type {
  AlertDetailView,
  AlertFilters,
  AlertsClient,
  AlertView,
  AuditEventView,
  ChannelView,
  DeliveryView,
  SilenceView,
} from "@apimon/client";

export type AlertRow = AlertView;
export type AlertDetail = AlertDetailView;
export type DeliveryRow = DeliveryView;
export type ChannelRow = ChannelView;
export type AlertFilter = AlertFilters;
export type SilenceRow = SilenceView;
/** One change an admin made, as the audit log records it. */
export type AuditRow = AuditEventView;
/** What became of each id of one acknowledgement of several alerts, each list ascending. */
export type Acknowledged = Awaited<ReturnType<AlertsClient["acknowledgeMany"]>>;

/** The alerts service as the CLI uses it. */
export type AlertsApi = Pick<
  AlertsClient,
  | "listAlerts"
  | "iterateAlerts"
  | "getAlert"
  | "acknowledgeAlert"
  | "acknowledgeMany"
  | "alertCounts"
  | "alertReport"
  | "getSettings"
  | "putSettings"
  | "listChannels"
  | "createChannel"
  | "updateChannel"
  | "deleteChannel"
  | "testChannel"
  | "listSilences"
  | "createSilence"
  | "updateSilence"
  | "endSilence"
  | "listAudit"
>;
