import {
  type AlertSettings,
  type AuditSource,
  type AuditTargetType,
  alertSettingsSchema,
  auditActions,
  auditSources,
  auditTargetTypes,
  maskChannelName,
  maskChannelTarget,
  maskUrlsInText,
} from "@apimon/config";
import type {
  Alert,
  AlertEvent,
  AuditEvent,
  NotificationChannel,
  NotificationDelivery,
  Silence,
} from "@apimon/db";
import { alertSeverities, alertTypes } from "@apimon/events";
import { z } from "zod";
import { silenceState } from "./domain/silences";
import { channelTypes, silenceStates } from "./schemas";

// What the API answers: camelCase, ISO-8601 UTC times, never a channel's secret. Each shape is
// a schema: the OpenAPI document and the generated client are made from it, and the view
// functions below are typed by it.

const time = z.iso.datetime();
const int = z.number().int();
const severity = z.enum(alertSeverities);
const ALERT_STATUSES = ["firing", "acknowledged", "resolved"] as const;
/** Counts by key. The service answers every key (0 when none); clients need not count on it. */
const countsOf = <K extends string>(keys: readonly [K, ...K[]]) =>
  z.partialRecord(z.enum(keys), int).describe(`Every one of ${keys.join(", ")}, 0 when none`);

const alertShape = {
  id: int,
  fingerprint: z.string().describe("Type + scope: at most one open alert per fingerprint"),
  type: z.enum(alertTypes),
  severity: severity.describe("Only ever goes up while the alert is open"),
  status: z.enum(ALERT_STATUSES),
  apiKeyId: int.nullable(),
  endpoint: z.string().nullable(),
  clientIp: z.string().nullable(),
  message: z.string(),
  observedValue: z.number().describe("The latest signal's value"),
  threshold: z.number().describe("The threshold of the alert's severity"),
  occurrences: int.describe("Signals counted into this alert (dedup)"),
  firstSeenAt: time,
  lastSeenAt: time,
  acknowledgedAt: time.nullable(),
  acknowledgedBy: z.string().nullable(),
  acknowledgementNote: z.string().nullable(),
  resolvedAt: time.nullable(),
  lastNotifiedAt: time.nullable(),
  escalatedAt: time.nullable().describe("When the escalation policy took the alert"),
  heldUntil: time
    .nullable()
    .describe(
      "Its notification is held back because its type and endpoint were told of the same news less than the group interval ago: it goes then, together with the others held (null: not held). Not notified yet (lastNotifiedAt null): its first notification; open and notified before: its rise in severity; resolved: its resolution",
    ),
  silencedBy: int
    .nullable()
    .describe("The active silence holding back this open alert's notifications (the oldest if several)"),
  createdAt: time,
  updatedAt: time,
};
export const alertSchema = z.object(alertShape).meta({ id: "Alert" });

export const timelineEventSchema = z
  .object({
    id: int,
    kind: z
      .enum([
        "opened",
        "escalated",
        "acknowledged",
        "resolved",
        "reminded",
        "escalation_policy",
        "released",
        "grouped",
      ])
      .describe(
        "`released`: a silence ended while the alert fired, never notified, and it was notified then; " +
          "`grouped`: held back for its group (type and endpoint), it was notified in one message with the others held",
      ),
    at: time,
    severity: severity.nullable().describe("The alert's severity after the event"),
    observedValue: z.number().nullable(),
    by: z.string().nullable(),
    note: z.string().nullable(),
    channelIds: z.array(int).describe("Channels notified by this event"),
    silenceId: int.nullable().describe("The silence that held back this event's notifications"),
    heldUntil: time
      .nullable()
      .describe(
        "Held back for the alert's group (type and endpoint) until then: its news went in the group's message, the alert's next `grouped` event",
      ),
  })
  .meta({ id: "TimelineEvent" });

const deliveryShape = {
  id: int,
  deliveryId: z
    .string()
    .describe(
      "The delivery's id, sent as X-Delivery-Id on every attempt, on its final row (pending, succeeded, " +
        "failed); an earlier attempt's row (retrying, or failed before a replay) has an id derived from it",
    ),
  alertId: int.nullable().describe("null for a test message; the first alert of a grouped message"),
  otherAlertIds: z
    .array(int)
    .describe("The other alerts a grouped message named (empty: it was about one alert)"),
  channelId: int,
  attempt: int,
  status: z.enum(["pending", "succeeded", "failed", "retrying"]),
  responseCode: int.nullable(),
  error: z.string().nullable(),
  latencyMs: int.nullable(),
  createdAt: time,
};
export const deliverySchema = z.object(deliveryShape).meta({ id: "Delivery" });

export const testDeliverySchema = z
  .object({ ...deliveryShape, attempts: z.array(deliverySchema).describe("Every attempt, first to final") })
  .meta({ id: "TestDelivery" });

export const alertDetailSchema = z
  .object({
    ...alertShape,
    timeline: z.array(timelineEventSchema).describe("Oldest first (at most 500)"),
    deliveries: z.array(deliverySchema).describe("Oldest first (at most 500)"),
  })
  .meta({ id: "AlertDetail" });

export const channelSchema = z
  .object({
    id: int,
    name: z.string(),
    type: z.enum(channelTypes),
    target: z
      .string()
      .describe(
        "Where it sends. To a viewer's token masked: a Slack URL's host and last characters, a webhook URL without its query string",
      ),
    hasSecret: z.boolean().describe("The secret itself is never answered"),
    minSeverity: severity,
    alertTypes: z.array(z.enum(alertTypes)).describe("The alert types it hears about; empty: every type"),
    endpoints: z
      .array(z.string())
      .describe(
        "Endpoint matchers of the alerts it hears about (`*`: any run of characters); empty: every alert",
      ),
    userIds: z
      .array(int)
      .describe("The users whose keys' alerts it hears about (the key's owner); empty: every alert"),
    enabled: z.boolean(),
    createdAt: time,
    updatedAt: time,
  })
  .meta({ id: "Channel" });

export const silenceSchema = z
  .object({
    id: int,
    type: z.enum(alertTypes).nullable().describe("null: any type"),
    apiKeyId: int.nullable().describe("null: any key, or none"),
    endpoint: z
      .string()
      .nullable()
      .describe("null: any endpoint. `*` stands for any run of characters: `* /api/billing/*`"),
    clientIp: z.string().nullable().describe("null: any client address"),
    comment: z.string(),
    createdBy: z.string().nullable(),
    startsAt: time,
    endsAt: time,
    state: z.enum(silenceStates).describe("At the time of the answer"),
    openAlertsMatched: int
      .nullable()
      .describe(
        "The open alerts (firing or acknowledged) it matches at the time of the answer, held back by it " +
          "or by an older silence; for a pending one, those it would hold back if it started now; null once it is over",
      ),
    createdAt: time,
    updatedAt: time,
  })
  .meta({ id: "Silence" });

const auditValue: z.ZodType<unknown> = z.unknown();

export const auditEventSchema = z
  .object({
    id: int,
    occurredAt: time,
    // Text, not the enum: in a rolling upgrade the keys service may write an action this service
    // does not know yet, and the log must still list it.
    action: z.string().describe(`\`<target>.<verb>\`: one of ${auditActions.join(", ")}`),
    targetType: z.enum(auditTargetTypes),
    targetId: int.nullable().describe("The user, key, channel or silence; null for the settings"),
    summary: z.string().describe("One line for people"),
    changes: z
      .record(z.string(), z.object({ from: auditValue, to: auditValue }))
      .nullable()
      .describe(
        "The fields changed, each from and to (null before a creation, after a deletion); never a secret",
      ),
    source: z.enum(auditSources).describe("As the caller says: the console, the CLI, or any other client"),
    clientAddress: z
      .string()
      .nullable()
      .describe("The operator's address: the browser's for the console, the caller's otherwise"),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable().describe("The change's request, as the service's logs name it"),
    operator: z
      .object({ id: int, name: z.string() })
      .nullable()
      .describe("The operator whose token made the change, named as it was then; null for the admin token"),
  })
  .meta({ id: "AuditEvent" });

export function auditEventView(row: AuditEvent): z.output<typeof auditEventSchema> {
  return {
    id: row.id,
    occurredAt: row.occurredAt.toISOString(),
    action: row.action,
    targetType: row.targetType as AuditTargetType,
    targetId: row.targetId,
    summary: row.summary,
    changes: (row.changes ?? null) as z.output<typeof auditEventSchema>["changes"],
    source: row.source as AuditSource,
    clientAddress: row.clientAddress,
    userAgent: row.userAgent,
    requestId: row.requestId,
    operator:
      row.operatorId === null ? null : { id: row.operatorId, name: row.operatorName ?? `#${row.operatorId}` },
  };
}

export const activeCountsSchema = z
  .object({
    total: int,
    bySeverity: countsOf(alertSeverities),
    byStatus: countsOf(["firing", "acknowledged"] as const),
    byType: countsOf(alertTypes),
    silenced: int.describe("Of them, those an active silence holds back (counted in the others too)"),
  })
  .meta({ id: "ActiveAlertCounts", description: "Every severity, status and type present, 0 when none" });

const idList = (description: string) => z.array(int).describe(description);

export const acknowledgedManySchema = z
  .object({
    acknowledged: idList("Acknowledged by this request"),
    alreadyAcknowledged: idList("Acknowledged before: their acknowledgement stands"),
    resolved: idList("Resolved: nothing to acknowledge"),
    notFound: idList("No alert has this id"),
  })
  .meta({ id: "AcknowledgedMany", description: "Every id asked for, in one of the four lists, ascending" });

export const settingsSchema = alertSettingsSchema
  .extend({ updatedAt: time.nullable().describe("null while the defaults apply") })
  .meta({ id: "Settings" });

const durations = z.object({
  count: int.describe("Alerts with this duration"),
  meanSeconds: z.number().nullable(),
  medianSeconds: z.number().nullable(),
});

export const reportSchema = z
  .object({
    from: time,
    to: time,
    total: int,
    byType: countsOf(alertTypes),
    bySeverity: countsOf(alertSeverities),
    byStatus: countsOf(ALERT_STATUSES),
    byApiKey: z
      .array(z.object({ apiKeyId: int.nullable(), count: int }))
      .describe("The keys with most alerts, the busiest first (null: alerts about no key)"),
    byEndpoint: z
      .array(
        z.object({
          endpoint: z.string(),
          count: int,
          responseTime: int,
          errorRate: int,
          resolvedUnacknowledged: int.describe(
            "Of them, resolved before anyone acknowledged them: often a threshold that is too strict for this endpoint",
          ),
        }),
      )
      .describe("The endpoints with most alerts (of any key), the noisiest first"),
    byDay: z
      .array(
        z.object({
          day: z.iso.date(),
          count: int,
          byType: countsOf(alertTypes),
          bySeverity: countsOf(alertSeverities),
        }),
      )
      .describe("Every UTC day of the range, oldest first"),
    timeToAcknowledge: durations,
    timeToResolve: durations,
  })
  .meta({ id: "Report" });

const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());

/**
 * Whether news held for the alert's group is still to be told: its resolution not told yet, or,
 * open, its first notification (dropped once acknowledged: nobody needs it) or a rise in severity
 * (told even to an acknowledged alert).
 */
function isWaiting(alert: Alert): boolean {
  if (alert.status === "resolved") return alert.resolutionNotifiedAt === null;
  return alert.status === "firing" || alert.lastNotifiedAt !== null;
}

export function alertView(alert: Alert, silencedBy: number | null): z.output<typeof alertSchema> {
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
    heldUntil: isWaiting(alert) ? iso(alert.heldUntil) : null,
    escalatedAt: iso(alert.escalatedAt),
    silencedBy,
    createdAt: alert.createdAt.toISOString(),
    updatedAt: alert.updatedAt.toISOString(),
  };
}

export function timelineEventView(event: AlertEvent): z.output<typeof timelineEventSchema> {
  return {
    id: Number(event.id),
    kind: event.kind,
    at: event.occurredAt.toISOString(),
    severity: event.severity,
    observedValue: event.observedValue,
    by: event.actor,
    note: event.note,
    channelIds: event.channelIds,
    silenceId: event.silenceId,
    heldUntil: iso(event.heldUntil),
  };
}

/**
 * A delivery attempt as the API answers it. `masked` (a viewer's token): its error without the
 * path or query of any URL it quotes, which may be a channel's credential.
 */
export function deliveryView(
  delivery: NotificationDelivery,
  { masked = false }: { masked?: boolean } = {},
): z.output<typeof deliverySchema> {
  return {
    id: Number(delivery.id),
    deliveryId: delivery.deliveryId,
    alertId: delivery.alertId,
    otherAlertIds: delivery.otherAlertIds,
    channelId: delivery.channelId,
    attempt: delivery.attempt,
    status: delivery.status,
    responseCode: delivery.responseCode,
    error: masked && delivery.error !== null ? maskUrlsInText(delivery.error) : delivery.error,
    latencyMs: delivery.latencyMs,
    createdAt: delivery.createdAt.toISOString(),
  };
}

export function alertDetailView(
  alert: Alert,
  silencedBy: number | null,
  events: AlertEvent[],
  deliveries: NotificationDelivery[],
  { masked = false }: { masked?: boolean } = {},
): z.output<typeof alertDetailSchema> {
  return {
    ...alertView(alert, silencedBy),
    timeline: events.map(timelineEventView),
    deliveries: deliveries.map((d) => deliveryView(d, { masked })),
  };
}

/**
 * A channel as the API answers it. `masked` (a viewer's token): the target without its
 * credentials, and every URL in the name too (a channel created without a name is named
 * `<type> <target>`).
 */
export function channelView(
  channel: NotificationChannel,
  { masked = false }: { masked?: boolean } = {},
): z.output<typeof channelSchema> {
  return {
    id: channel.id,
    name: masked ? maskChannelName(channel.type, channel.name) : channel.name,
    type: channel.type,
    target: masked ? maskChannelTarget(channel.type, channel.target) : channel.target,
    hasSecret: channel.secret !== null,
    minSeverity: channel.minSeverity,
    alertTypes: channel.alertTypes,
    endpoints: channel.endpoints,
    userIds: channel.userIds,
    enabled: channel.enabled,
    createdAt: channel.createdAt.toISOString(),
    updatedAt: channel.updatedAt.toISOString(),
  };
}

/** `openAlertsMatched`: the count of open alerts each silence not yet over matches, by id. */
export function silenceView(
  silence: Silence,
  now: Date,
  openAlertsMatched: ReadonlyMap<number, number>,
): z.output<typeof silenceSchema> {
  const state = silenceState(silence, now);
  return {
    id: silence.id,
    type: silence.type,
    apiKeyId: silence.apiKeyId,
    endpoint: silence.endpoint,
    clientIp: silence.clientIp,
    comment: silence.comment,
    createdBy: silence.createdBy,
    startsAt: silence.startsAt.toISOString(),
    endsAt: silence.endsAt.toISOString(),
    state,
    openAlertsMatched: state === "expired" ? null : (openAlertsMatched.get(silence.id) ?? 0),
    createdAt: silence.createdAt.toISOString(),
    updatedAt: silence.updatedAt.toISOString(),
  };
}

/** The active alerts counted by severity, status and type; every value present, 0 when absent. */
export function activeCountsView(
  rows: { severity: string; status: string; type: string; count: number }[],
  silenced: number,
) {
  const zero = (keys: readonly string[]) =>
    Object.fromEntries(keys.map((k) => [k, 0])) as Record<string, number>;
  const view = {
    total: 0,
    bySeverity: zero(alertSeverities),
    byStatus: zero(["firing", "acknowledged"]),
    byType: zero(alertTypes),
    silenced,
  };
  for (const row of rows) {
    view.total += row.count;
    view.bySeverity[row.severity] = (view.bySeverity[row.severity] ?? 0) + row.count;
    view.byStatus[row.status] = (view.byStatus[row.status] ?? 0) + row.count;
    view.byType[row.type] = (view.byType[row.type] ?? 0) + row.count;
  }
  return view;
}

export function settingsView(
  settings: AlertSettings,
  updatedAt: Date | null,
): z.output<typeof settingsSchema> {
  return { ...settings, updatedAt: iso(updatedAt) };
}
