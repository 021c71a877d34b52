import type { AlertSettings } from "@apimon/config";
import type { Alert, AlertEvent, NotificationChannel, NotificationDelivery } from "@apimon/db";
import { alertSeverities, alertTypes } from "@apimon/events";

// What the API answers: camelCase, ISO-8601 UTC times, never a channel's secret.

const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());

export function alertView(alert: Alert) {
  return {
    id: alert.id,
    fingerprint: alert.fingerprint,
    type: alert.type,
    severity: alert.severity,
    status: alert.status,
    apiKeyId: alert.apiKeyId,
    endpoint: alert.endpoint,
    clientIp: alert.clientIp,
    message: alert.message,
    observedValue: alert.observedValue,
    threshold: alert.threshold,
    occurrences: alert.occurrences,
    firstSeenAt: alert.firstSeenAt.toISOString(),
    lastSeenAt: alert.lastSeenAt.toISOString(),
    acknowledgedAt: iso(alert.acknowledgedAt),
    acknowledgedBy: alert.acknowledgedBy,
    acknowledgementNote: alert.ackNote,
    resolvedAt: iso(alert.resolvedAt),
    lastNotifiedAt: iso(alert.lastNotifiedAt),
    escalatedAt: iso(alert.escalatedAt),
    createdAt: alert.createdAt.toISOString(),
    updatedAt: alert.updatedAt.toISOString(),
  };
}

export function timelineEventView(event: AlertEvent) {
  return {
    id: Number(event.id),
    kind: event.kind,
    at: event.occurredAt.toISOString(),
    severity: event.severity,
    observedValue: event.observedValue,
    by: event.actor,
    note: event.note,
    channelIds: event.channelIds,
  };
}

export function deliveryView(delivery: NotificationDelivery) {
  return {
    id: Number(delivery.id),
    deliveryId: delivery.deliveryId,
    alertId: delivery.alertId,
    channelId: delivery.channelId,
    attempt: delivery.attempt,
    status: delivery.status,
    responseCode: delivery.responseCode,
    error: delivery.error,
    latencyMs: delivery.latencyMs,
    createdAt: delivery.createdAt.toISOString(),
  };
}

export function alertDetailView(alert: Alert, events: AlertEvent[], deliveries: NotificationDelivery[]) {
  return {
    ...alertView(alert),
    timeline: events.map(timelineEventView),
    deliveries: deliveries.map(deliveryView),
  };
}

export function channelView(channel: NotificationChannel) {
  return {
    id: channel.id,
    name: channel.name,
    type: channel.type,
    target: channel.target,
    hasSecret: channel.secret !== null,
    minSeverity: channel.minSeverity,
    enabled: channel.enabled,
    createdAt: channel.createdAt.toISOString(),
    updatedAt: channel.updatedAt.toISOString(),
  };
}

/** The active alerts counted by severity, status and type; every value present, 0 when absent. */
export function activeCountsView(rows: { severity: string; status: string; type: string; count: number }[]) {
  const zero = (keys: readonly string[]) =>
    Object.fromEntries(keys.map((k) => [k, 0])) as Record<string, number>;
  const view = {
    total: 0,
    bySeverity: zero(alertSeverities),
    byStatus: zero(["firing", "acknowledged"]),
    byType: zero(alertTypes),
  };
  for (const row of rows) {
    view.total += row.count;
    view.bySeverity[row.severity] = (view.bySeverity[row.severity] ?? 0) + row.count;
    view.byStatus[row.status] = (view.byStatus[row.status] ?? 0) + row.count;
    view.byType[row.type] = (view.byType[row.type] ?? 0) + row.count;
  }
  return view;
}

export function settingsView(settings: AlertSettings, updatedAt: Date | null) {
  return { ...settings, updatedAt: iso(updatedAt) };
}
