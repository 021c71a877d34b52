// What the CLI needs of the alerts service, named as the alerts client names it; any client
// with these methods will do (the one in @apimon/client, or the fetch adapter beside this file).

export type Severity = "warning" | "critical";

/** An alert as the CLI lists it; the API answers more fields, which `show` and --json print as they come. */
export interface AlertRow {
  id: number;
  type: string;
  severity: string;
  status: string;
  apiKeyId: number | null;
  endpoint: string | null;
  message: string;
  occurrences: number;
  lastSeenAt: string;
}

export interface DeliveryRow {
  deliveryId: string;
  channelId: number;
  attempt: number;
  status: string;
  responseCode: number | null;
  error: string | null;
  latencyMs: number | null;
  createdAt: string;
}

export interface AlertDetail extends AlertRow {
  timeline: { kind: string; at: string; severity: string | null; by: string | null; note: string | null }[];
  deliveries: DeliveryRow[];
}

export interface ChannelRow {
  id: number;
  name: string;
  type: string;
  target: string;
  minSeverity: string;
  enabled: boolean;
}

export interface ChannelDoc {
  name?: string;
  type?: "email" | "slack" | "webhook";
  target?: string;
  secret?: string | null;
  minSeverity?: Severity;
  enabled?: boolean;
}

export interface AlertFilter {
  type?: string;
  severity?: string;
  status?: string;
  apiKeyId?: number;
  cursor?: string;
  limit?: number;
}

export interface PageOf<T> {
  items: T[];
  nextCursor: string | null;
}

/** The alerts service as the CLI uses it. */
export interface AlertsApi {
  listAlerts(filter: AlertFilter): Promise<PageOf<AlertRow>>;
  iterateAlerts(filter: AlertFilter): AsyncIterable<AlertRow>;
  getAlert(id: number): Promise<AlertDetail>;
  acknowledgeAlert(id: number, note?: string): Promise<AlertRow>;
  alertCounts(): Promise<unknown>;
  alertReport(params: { from?: string; to?: string }): Promise<unknown>;
  getSettings(): Promise<unknown>;
  putSettings(doc: unknown): Promise<unknown>;
  listChannels(params?: { cursor?: string; limit?: number }): Promise<PageOf<ChannelRow>>;
  createChannel(doc: ChannelDoc): Promise<ChannelRow>;
  updateChannel(id: number, doc: ChannelDoc): Promise<ChannelRow>;
  deleteChannel(id: number): Promise<unknown>;
  testChannel(id: number): Promise<DeliveryRow & { attempts: DeliveryRow[] }>;
}
