import type { AlertSettings } from "@apimon/config";
import { type ApiClientOptions, createApiCaller, query } from "./api-call";
import type { Page } from "./keys-client";

/** What the alerts API answers for an alert. */
export interface AlertView {
  id: number;
  fingerprint: string;
  type: string;
  severity: "warning" | "critical";
  status: "firing" | "acknowledged" | "resolved";
  apiKeyId: number | null;
  endpoint: string | null;
  clientIp: string | null;
  message: string;
  observedValue: number;
  threshold: number;
  occurrences: number;
  firstSeenAt: string;
  lastSeenAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  acknowledgementNote: string | null;
  resolvedAt: string | null;
  lastNotifiedAt: string | null;
  escalatedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** One attempt to deliver a notification, as the notifier recorded it. */
export interface DeliveryView {
  id: number;
  deliveryId: string;
  alertId: number | null;
  channelId: number;
  attempt: number;
  status: string;
  responseCode: number | null;
  error: string | null;
  latencyMs: number | null;
  createdAt: string;
}

export interface AlertDetailView extends AlertView {
  timeline: {
    id: number;
    kind: string;
    at: string;
    severity: string | null;
    observedValue: number | null;
    by: string | null;
    note: string | null;
    channelIds: number[];
  }[];
  deliveries: DeliveryView[];
}

/** `GET /api/v1/alerts/counts`: the active alerts counted by severity, status and type. */
export interface AlertCountsView {
  total: number;
  bySeverity: Record<string, number>;
  byStatus: Record<string, number>;
  byType: Record<string, number>;
}

export interface ChannelView {
  id: number;
  name: string;
  type: "email" | "slack" | "webhook";
  target: string;
  hasSecret: boolean;
  minSeverity: "warning" | "critical";
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ChannelInput {
  name?: string;
  type?: "email" | "slack" | "webhook";
  target?: string;
  secret?: string | null;
  minSeverity?: "warning" | "critical";
  enabled?: boolean;
}

export type SettingsView = AlertSettings & { updatedAt: string | null };

interface Durations {
  count: number;
  meanSeconds: number | null;
  medianSeconds: number | null;
}

/** `GET /api/v1/alerts/report`. */
export interface AlertReportView {
  from: string;
  to: string;
  total: number;
  byType: Record<string, number>;
  bySeverity: Record<string, number>;
  byStatus: Record<string, number>;
  byApiKey: { apiKeyId: number | null; count: number }[];
  byDay: { day: string; count: number; byType: Record<string, number>; bySeverity: Record<string, number> }[];
  timeToAcknowledge: Durations;
  timeToResolve: Durations;
}

export interface AlertFilters {
  type?: string;
  severity?: string;
  status?: string;
  apiKeyId?: number;
  cursor?: string;
  limit?: number;
}

/** A typed client of the alerts service's admin API. */
export function createAlertsClient(options: ApiClientOptions) {
  const call = createApiCaller({ ...options, service: "alerts" });
  return {
    listActive: (filters: AlertFilters = {}) =>
      call<Page<AlertView>>("GET", `/api/v1/alerts${query({ ...filters })}`),
    history: (filters: AlertFilters & { from?: string; to?: string } = {}) =>
      call<Page<AlertView>>("GET", `/api/v1/alerts/history${query({ ...filters })}`),
    counts: () => call<AlertCountsView>("GET", "/api/v1/alerts/counts"),
    get: (id: number) => call<AlertDetailView>("GET", `/api/v1/alerts/${id}`),
    acknowledge: (id: number, body: { by?: string; note?: string }) =>
      call<AlertDetailView>("POST", `/api/v1/alerts/${id}/acknowledge`, body),
    report: (range: { from?: string; to?: string } = {}) =>
      call<AlertReportView>("GET", `/api/v1/alerts/report${query(range)}`),
    getSettings: () => call<SettingsView>("GET", "/api/v1/alerts/settings"),
    putSettings: (settings: unknown) => call<SettingsView>("PUT", "/api/v1/alerts/settings", settings),
    listChannels: (params: { cursor?: string; limit?: number } = {}) =>
      call<Page<ChannelView>>("GET", `/api/v1/alerts/channels${query(params)}`),
    getChannel: (id: number) => call<ChannelView>("GET", `/api/v1/alerts/channels/${id}`),
    createChannel: (input: ChannelInput) => call<ChannelView>("POST", "/api/v1/alerts/channels", input),
    updateChannel: (id: number, patch: ChannelInput) =>
      call<ChannelView>("PATCH", `/api/v1/alerts/channels/${id}`, patch),
    deleteChannel: (id: number) => call<void>("DELETE", `/api/v1/alerts/channels/${id}`),
    testChannel: (id: number) => call<DeliveryView>("POST", `/api/v1/alerts/channels/${id}/test`),
  };
}

export type AlertsClient = ReturnType<typeof createAlertsClient>;
