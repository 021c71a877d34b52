import type { AlertSettings } from "@apimon/config";
import { type ApiClientOptions, createTypedClient, paginate, unwrap } from "./api-call";
import type { components, paths } from "./generated/alerts-api";

type Schemas = components["schemas"];
type Body<P extends keyof paths, M extends "post" | "put" | "patch"> = NonNullable<
  paths[P][M] extends { requestBody?: { content: { "application/json": infer B } } } ? B : never
>;

/** What the alerts API answers for an alert. */
export type AlertView = Schemas["Alert"];
/** An alert with its timeline and notification deliveries. */
export type AlertDetailView = Schemas["AlertDetail"];
/** One attempt to deliver a notification, as the notifier recorded it. */
export type DeliveryView = Schemas["Delivery"];
/** A channel test's answer: the final delivery record with every attempt, first to final. */
export type TestDeliveryView = Schemas["TestDelivery"];
/** `GET /api/v1/alerts/counts`: the active alerts counted by severity, status and type. */
export type AlertCountsView = Schemas["ActiveAlertCounts"];
export type ChannelView = Schemas["Channel"];
export type SettingsView = AlertSettings & { updatedAt: string | null };
/** `GET /api/v1/alerts/report`. */
export type AlertReportView = Schemas["Report"];

export type CreateChannelInput = Body<"/api/v1/alerts/channels", "post">;
/** A change to a channel: any of its fields (`secret: null` removes the secret). */
export type ChannelInput = Body<"/api/v1/alerts/channels/{id}", "patch">;
/** A silence: matchers (null: any) and the time range over which it holds back notifications. */
export type SilenceView = Schemas["Silence"];
/** `POST /api/v1/alerts/silences`: matchers left out match anything; `endsAt` is required. */
export type CreateSilenceInput = Body<"/api/v1/alerts/silences", "post">;
/** `PATCH /api/v1/alerts/silences/{id}`: a new `endsAt` or `comment`. */
export type SilenceInput = Body<"/api/v1/alerts/silences/{id}", "patch">;
/** One change an admin made through the keys or alerts API, as the audit log records it. */
export type AuditEventView = Schemas["AuditEvent"];
/** `PUT /api/v1/alerts/settings`: the whole document, as `getSettings` answers it. */
export type SettingsInput = Body<"/api/v1/alerts/settings", "put">;

type ActiveQuery = NonNullable<paths["/api/v1/alerts"]["get"]["parameters"]["query"]>;
type HistoryQuery = NonNullable<paths["/api/v1/alerts/history"]["get"]["parameters"]["query"]>;
type AuditQuery = NonNullable<paths["/api/v1/audit"]["get"]["parameters"]["query"]>;

/**
 * Which alerts to list. Without `from`, `to` or `status: "resolved"`, the active ones (firing or
 * acknowledged); with any of them, the history of alerts opened in [from, to).
 */
export interface AlertFilters {
  // Plain strings: a value the API does not know is the API's to refuse (400, naming the field).
  type?: string;
  severity?: string;
  status?: string;
  apiKeyId?: number;
  /** An endpoint as alerts name it; a `*` stands for any run of characters. */
  endpoint?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
}

/** Which changes of the audit log to list, newest first. */
export interface AuditFilters {
  // Plain strings, as for alerts: a value the API does not know is the API's to refuse.
  targetType?: string;
  /** With `targetType`: that user's, key's, channel's, silence's or operator's changes. */
  targetId?: number;
  action?: string;
  source?: string;
  /** The changes made with that operator's token. */
  operatorId?: number;
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
}

/** A client of the alerts service's admin API, typed by the service's own route schemas. */
export function createAlertsClient(options: ApiClientOptions) {
  const api = createTypedClient<paths>({ ...options, service: "alerts" });
  // "" is what an empty form field sends: no filter (the query serializer leaves it out).
  const active = (filter: AlertFilters) =>
    unwrap(api.GET("/api/v1/alerts", { params: { query: filter as ActiveQuery } }));
  const history = (filter: AlertFilters) =>
    unwrap(api.GET("/api/v1/alerts/history", { params: { query: filter as HistoryQuery } }));
  const listAlerts = (filter: AlertFilters = {}) =>
    filter.from || filter.to || filter.status === "resolved" ? history(filter) : active(filter);
  const listSilences = (
    params: { state?: "active" | "pending" | "expired"; cursor?: string; limit?: number } = {},
  ) => unwrap(api.GET("/api/v1/alerts/silences", { params: { query: params } }));
  const listChannels = (params: { cursor?: string; limit?: number } = {}) =>
    unwrap(api.GET("/api/v1/alerts/channels", { params: { query: params } }));
  const byId = (id: number) => ({ params: { path: { id } } });
  const counts = () => unwrap(api.GET("/api/v1/alerts/counts"));
  const getAlert = (id: number) => unwrap(api.GET("/api/v1/alerts/{id}", byId(id)));
  const acknowledge = (id: number, body: { by?: string; note?: string }) =>
    unwrap(api.POST("/api/v1/alerts/{id}/acknowledge", { ...byId(id), body }));
  const acknowledgeMany = (body: { ids: number[]; by?: string; note?: string }) =>
    unwrap(api.POST("/api/v1/alerts/acknowledge", { body }));
  const report = (range: { from?: string; to?: string } = {}) =>
    unwrap(api.GET("/api/v1/alerts/report", { params: { query: range } }));
  return {
    listAlerts,
    /** Every alert the filter selects, newest first, page by page. */
    iterateAlerts: (filter: Omit<AlertFilters, "cursor"> = {}) =>
      paginate((cursor) => listAlerts({ ...filter, cursor })),
    /** The active alerts (firing or acknowledged). */
    listActive: (filter: AlertFilters = {}) => active(filter),
    /** Alerts opened in [from, to), any status. */
    history: (filter: AlertFilters = {}) => history(filter),
    alertCounts: counts,
    getAlert,
    acknowledgeAlert: (id: number, note?: string, by?: string) =>
      acknowledge(id, { ...(note !== undefined && { note }), ...(by !== undefined && { by }) }),
    alertReport: report,
    // The console's names of the same calls.
    counts,
    get: getAlert,
    acknowledge,
    /** Up to 500 alerts at once; answers what became of each id. */
    acknowledgeMany,
    report,
    getSettings: async (): Promise<SettingsView> =>
      (await unwrap(api.GET("/api/v1/alerts/settings"))) as SettingsView,
    putSettings: async (settings: SettingsInput): Promise<SettingsView> =>
      (await unwrap(api.PUT("/api/v1/alerts/settings", { body: settings }))) as SettingsView,
    listChannels,
    /** Every channel, by id, page by page. */
    iterateChannels: (params: { limit?: number } = {}) =>
      paginate((cursor) => listChannels({ ...params, cursor })),
    getChannel: (id: number) => unwrap(api.GET("/api/v1/alerts/channels/{id}", byId(id))),
    createChannel: (input: CreateChannelInput) =>
      unwrap(api.POST("/api/v1/alerts/channels", { body: input })),
    updateChannel: (id: number, patch: ChannelInput) =>
      unwrap(api.PATCH("/api/v1/alerts/channels/{id}", { ...byId(id), body: patch })),
    deleteChannel: async (id: number): Promise<void> => {
      await unwrap(api.DELETE("/api/v1/alerts/channels/{id}", byId(id)));
    },
    testChannel: (id: number) => unwrap(api.POST("/api/v1/alerts/channels/{id}/test", byId(id))),
    /** Silences not yet over (active and pending) unless `state` says which, newest first. */
    listSilences,
    getSilence: (id: number) => unwrap(api.GET("/api/v1/alerts/silences/{id}", byId(id))),
    createSilence: (input: CreateSilenceInput) =>
      unwrap(api.POST("/api/v1/alerts/silences", { body: input })),
    /** Extends or shortens a silence that is not over, or changes its comment. */
    updateSilence: (id: number, patch: SilenceInput) =>
      unwrap(api.PATCH("/api/v1/alerts/silences/{id}", { ...byId(id), body: patch })),
    /** Ends the silence now (one already over is answered unchanged). */
    endSilence: (id: number) => unwrap(api.DELETE("/api/v1/alerts/silences/{id}", byId(id))),
    /** The changes admins made through the keys and alerts APIs, newest first. */
    listAudit: (filter: AuditFilters = {}) =>
      unwrap(api.GET("/api/v1/audit", { params: { query: filter as AuditQuery } })),
  };
}

export type AlertsClient = ReturnType<typeof createAlertsClient>;
