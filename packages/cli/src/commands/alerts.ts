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

const ALERT_COLUMNS: Column<AlertRow>[] = [
  { header: "ID", value: (a) => a.id },
  { header: "TYPE", value: (a) => a.type },
  { header: "SEVERITY", value: (a) => a.severity },
  { header: "STATUS", value: (a) => a.status },
  { header: "KEY", value: (a) => a.apiKeyId },
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

const REPORT_KEY_COLUMNS: Column<AlertReportView["byApiKey"][number]>[] = [
  { header: "KEY", value: (k) => k.apiKeyId },
  { header: "ALERTS", value: (k) => k.count },
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

/** The totals as fields, then the keys and the days as tables (a key of "-": alerts about no key). */
function reportResult(report: AlertReportView): Result {
  const { byApiKey, byDay, ...totals } = report;
  return {
    data: report,
    text: () =>
      sections(record(totals), [
        ["by key", table(byApiKey, REPORT_KEY_COLUMNS)],
        ["by day", table(byDay, REPORT_DAY_COLUMNS)],
      ]),
  };
}

export async function runAlerts(api: AlertsApi, argv: string[]): Promise<Result> {
  const { positionals, values } = parse(argv, OPTIONS);
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
      if (!all) return pageResult(await api.listAlerts({ ...filter, cursor }), ALERT_COLUMNS);
      const items: AlertRow[] = [];
      for await (const alert of api.iterateAlerts(filter)) items.push(alert);
      return pageResult({ items, nextCursor: null }, ALERT_COLUMNS);
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
    case "report":
      return reportResult(await api.alertReport({ from: values.from, to: values.to }));
    default:
      throw new UsageError(command ? `unknown alerts command '${command}'` : "an alerts command is required");
  }
}
