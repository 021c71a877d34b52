import type { AlertReportView } from "@apimon/client";
import type { AlertDetail, AlertRow, AlertsApi, DeliveryRow } from "../alerts-api";
import { idArg, oneOf, PAGE_OPTIONS, pageArgs, parse, UsageError, wholeNumber } from "../args";
import { type Column, pageResult, type Result, record, recordResult, sections, table } from "../output";

export const ALERTS_USAGE = `apimon alerts <command>
  list [--type T] [--severity warning|critical] [--status firing|acknowledged|resolved] [--api-key <id>]
       [--limit N] [--cursor C | --all]      (without --status: the open ones, firing or acknowledged)
  show <alert id>
  ack <alert id> [--note <text>]
  counts
  report [--from <ISO time>] [--to <ISO time>]`;

/** Names of API keys by id, for the tables; ids it leaves out are shown as ids. */
export type KeyNames = (ids: readonly number[]) => Promise<ReadonlyMap<number, string>>;

/** A key as the tables show it: `billing #9`, or the id alone when its name is not known. */
export const keyLabel = (names: ReadonlyMap<number, string>, id: number | null) => {
  if (id === null) return null;
  const name = names.get(id);
  return name === undefined ? id : `${name} #${id}`;
};

const alertColumns = (names: ReadonlyMap<number, string>): Column<AlertRow>[] => [
  { header: "ID", value: (a) => a.id },
  { header: "TYPE", value: (a) => a.type },
  { header: "SEVERITY", value: (a) => a.severity },
  { header: "STATUS", value: (a) => (a.silencedBy ? `${a.status}, silenced #${a.silencedBy}` : a.status) },
  { header: "KEY", value: (a) => keyLabel(names, a.apiKeyId) },
  { header: "ENDPOINT", value: (a) => a.endpoint },
  { header: "SEEN", value: (a) => a.occurrences },
  { header: "LAST SEEN", value: (a) => a.lastSeenAt },
  { header: "MESSAGE", value: (a) => a.message },
];

export const DELIVERY_COLUMNS: Column<DeliveryRow>[] = [
  { header: "CHANNEL", value: (d) => d.channelId },
  { header: "ATTEMPT", value: (d) => d.attempt },
  { header: "STATUS", value: (d) => d.status },
  { header: "CODE", value: (d) => d.responseCode },
  { header: "MS", value: (d) => d.latencyMs },
  { header: "AT", value: (d) => d.createdAt },
  { header: "ERROR", value: (d) => d.error },
];

const TIMELINE_COLUMNS: Column<AlertDetail["timeline"][number]>[] = [
  { header: "AT", value: (e) => e.at },
  { header: "EVENT", value: (e) => e.kind },
  { header: "SEVERITY", value: (e) => e.severity },
  { header: "BY", value: (e) => e.by },
  { header: "NOTE", value: (e) => e.note },
];

const reportKeyColumns = (
  names: ReadonlyMap<number, string>,
): Column<AlertReportView["byApiKey"][number]>[] => [
  { header: "KEY", value: (k) => keyLabel(names, k.apiKeyId) },
  { header: "ALERTS", value: (k) => k.count },
];

const REPORT_ENDPOINT_COLUMNS: Column<AlertReportView["byEndpoint"][number]>[] = [
  { header: "ENDPOINT", value: (e) => e.endpoint },
  { header: "ALERTS", value: (e) => e.count },
  { header: "RESPONSE TIME", value: (e) => e.responseTime },
  { header: "ERROR RATE", value: (e) => e.errorRate },
  { header: "RESOLVED UNACKNOWLEDGED", value: (e) => e.resolvedUnacknowledged },
];

/** The types of a day's alerts that happened, busiest first: "response_time 2, error_rate 1". */
function dayTypes(byType: Record<string, number | undefined>): string {
  return Object.entries(byType)
    .filter((entry): entry is [string, number] => (entry[1] ?? 0) > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([type, count]) => `${type} ${count}`)
    .join(", ");
}

const REPORT_DAY_COLUMNS: Column<AlertReportView["byDay"][number]>[] = [
  { header: "DAY", value: (d) => d.day },
  { header: "ALERTS", value: (d) => d.count },
  { header: "WARNING", value: (d) => d.bySeverity.warning ?? 0 },
  { header: "CRITICAL", value: (d) => d.bySeverity.critical ?? 0 },
  { header: "TYPES", value: (d) => dayTypes(d.byType) },
];

const OPTIONS = {
  ...PAGE_OPTIONS,
  type: { type: "string" },
  severity: { type: "string" },
  status: { type: "string" },
  "api-key": { type: "string" },
  note: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
} as const;

function detailResult(alert: AlertDetail): Result {
  const { timeline, deliveries, ...fields } = alert;
  return {
    data: alert,
    text: () =>
      sections(record(fields), [
        ["timeline", table(timeline ?? [], TIMELINE_COLUMNS)],
        ["deliveries", table(deliveries ?? [], DELIVERY_COLUMNS)],
      ]),
  };
}

/**
 * The totals as fields, then the keys, the endpoints and the days as tables (a key of "-": alerts
 * about no key).
 */
function reportResult(report: AlertReportView, names: ReadonlyMap<number, string>): Result {
  const { byApiKey, byEndpoint, byDay, ...totals } = report;
  return {
    data: report,
    text: () =>
      sections(record(totals), [
        ["by key", table(byApiKey, reportKeyColumns(names))],
        ["by endpoint", table(byEndpoint, REPORT_ENDPOINT_COLUMNS)],
        ["by day", table(byDay, REPORT_DAY_COLUMNS)],
      ]),
  };
}

/** No names: every key shown by its id. */
export const noNames: KeyNames = async () => new Map();

export async function runAlerts(
  api: AlertsApi,
  argv: string[],
  keyNames: KeyNames = noNames,
): Promise<Result> {
  const { positionals, values } = parse(argv, OPTIONS);
  const namesOf = (ids: readonly (number | null)[]) =>
    keyNames([...new Set(ids.filter((id): id is number => id !== null))]);
  const [command] = positionals;
  const id = () => idArg(positionals, 1, "the alert id");
  switch (command) {
    case "list": {
      const { limit, cursor, all } = pageArgs(values);
      const filter = {
        // Types are the service's to judge: it names the valid ones when one is wrong.
        type: values.type,
        severity: oneOf(values.severity, "--severity", ["warning", "critical"] as const),
        status: oneOf(values.status, "--status", ["firing", "acknowledged", "resolved"] as const),
        apiKeyId: wholeNumber(values["api-key"], "--api-key", 1),
        limit,
      };
      let page: { items: AlertRow[]; nextCursor: string | null };
      if (all) {
        const items: AlertRow[] = [];
        for await (const alert of api.iterateAlerts(filter)) items.push(alert);
        page = { items, nextCursor: null };
      } else page = await api.listAlerts({ ...filter, cursor });
      return pageResult(page, alertColumns(await namesOf(page.items.map((a) => a.apiKeyId))));
    }
    case "show":
      return detailResult(await api.getAlert(id()));
    case "ack": {
      const alertId = id();
      await api.acknowledgeAlert(alertId, values.note);
      // The acknowledgement's answer differs between API versions; the alert itself does not.
      return detailResult(await api.getAlert(alertId));
    }
    case "counts":
      return recordResult((await api.alertCounts()) as object);
    case "report": {
      const report = await api.alertReport({ from: values.from, to: values.to });
      return reportResult(report, await namesOf(report.byApiKey.map((k) => k.apiKeyId)));
    }
    default:
      throw new UsageError(command ? `unknown alerts command '${command}'` : "an alerts command is required");
  }
}
