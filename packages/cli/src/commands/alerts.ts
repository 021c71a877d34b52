import type { AlertReportView } from "@apimon/client";
import type { Acknowledged, AlertDetail, AlertRow, AlertsApi, DeliveryRow } from "../alerts-api";
import {
  type CommandOptions,
  idArg,
  oneOf,
  PAGE_FLAGS,
  PAGE_OPTIONS,
  pageArgs,
  parse,
  soleIdArg,
  UsageError,
  wholeNumber,
} from "../args";
import { type Column, pageResult, type Result, record, recordResult, sections, table } from "../output";

export const ALERTS_USAGE = `apimon alerts <command>
  list [--type T] [--severity warning|critical] [--status firing|acknowledged|resolved] [--api-key <id>]
       [--endpoint "GET /api/users/:id" | "* /api/billing/*"]
       [--limit N] [--cursor C | --all]      (without --status: the open ones, firing or acknowledged;
                                             a * in --endpoint stands for any run of characters)
  show <alert id>
  ack <alert id> [--note <text>]             acknowledges it and shows the alert (a resolved one is
                                             refused: exit 1)
  ack <alert id> <alert id>… [--note <text>]
       says which were acknowledged now, already acknowledged, resolved meanwhile (nothing to
       acknowledge, not an error) or not found (exit 1 after the output)
  ack --firing [--type T] [--severity warning|critical] [--api-key <id>] [--endpoint E] [--note <text>]
       every firing alert the filters select, answered as above
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

/** `firing`, `firing, silenced #8`, `firing, held until 2026-12-06T12:05:00.000Z` (waiting for its group). */
function alertStatus(a: AlertRow): string {
  if (a.silencedBy) return `${a.status}, silenced #${a.silencedBy}`;
  return a.heldUntil ? `${a.status}, held until ${a.heldUntil}` : a.status;
}

const alertColumns = (names: ReadonlyMap<number, string>): Column<AlertRow>[] => [
  { header: "ID", value: (a) => a.id },
  { header: "TYPE", value: (a) => a.type },
  { header: "SEVERITY", value: (a) => a.severity },
  { header: "STATUS", value: alertStatus },
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
  // A message about several alerts is kept under its first: `#5 +2` names it and counts the others.
  {
    header: "MESSAGE",
    value: (d) => (d.otherAlertIds.length === 0 ? null : `#${d.alertId} +${d.otherAlertIds.length}`),
  },
];

export const TIMELINE_COLUMNS: Column<AlertDetail["timeline"][number]>[] = [
  { header: "AT", value: (e) => e.at },
  { header: "EVENT", value: (e) => e.kind },
  { header: "SEVERITY", value: (e) => e.severity },
  { header: "BY", value: (e) => e.by },
  { header: "NOTE", value: (e) => e.note },
  // Why an event told nobody: a silence, or its group (until its next `grouped` event).
  {
    header: "HELD",
    value: (e) =>
      e.silenceId !== null
        ? `by silence #${e.silenceId}`
        : e.heldUntil !== null
          ? `for its group until ${e.heldUntil}`
          : null,
  },
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
  endpoint: { type: "string" },
  note: { type: "string" },
  firing: { type: "boolean" },
  from: { type: "string" },
  to: { type: "string" },
} as const;

type Values = ReturnType<typeof parse<typeof OPTIONS>>["values"];

/** The flags that select alerts, as `list` and `ack --firing` take them. */
const FILTER_FLAGS = ["type", "severity", "api-key", "endpoint"] as const;

/**
 * What each command reads; any other option given to it is refused rather than ignored. `ack`
 * takes no --status: `--firing` is the status it acknowledges.
 */
const COMMANDS: CommandOptions<typeof OPTIONS> = {
  list: ["type", "severity", "status", "api-key", "endpoint", ...PAGE_FLAGS],
  show: [],
  ack: ["firing", ...FILTER_FLAGS, "note"],
  counts: [],
  report: ["from", "to"],
};

/** Those flags as the filter of a list of alerts. */
function alertFilter(values: Values) {
  return {
    // Types are the service's to judge: it names the valid ones when one is wrong.
    type: values.type,
    severity: oneOf(values.severity, "--severity", ["warning", "critical"] as const),
    apiKeyId: wholeNumber(values["api-key"], "--api-key", 1),
    endpoint: values.endpoint,
  };
}

/** Most ids one acknowledgement request takes (the alerts API's limit). */
const ACKNOWLEDGE_CHUNK = 500;

/** How the text output names each list of an acknowledgement's answer, in the answer's order. */
const ACKNOWLEDGED_LINES: [list: keyof Acknowledged, label: string][] = [
  ["acknowledged", "acknowledged"],
  ["alreadyAcknowledged", "already acknowledged"],
  ["resolved", "resolved meanwhile"],
  ["notFound", "not found"],
];

const nothingAcknowledged = (): Acknowledged => ({
  acknowledged: [],
  alreadyAcknowledged: [],
  resolved: [],
  notFound: [],
});

/** Acknowledges `ids`, each once, in requests of at most 500; their answers merged into one. */
async function acknowledgeAll(api: AlertsApi, ids: readonly number[], note?: string): Promise<Acknowledged> {
  const wanted = [...new Set(ids)].sort((a, b) => a - b);
  const merged = nothingAcknowledged();
  // In id order, one request after another: each merged list stays ascending. When one fails the
  // earlier ones stand; running the command again is harmless (they answer as already acknowledged).
  for (let start = 0; start < wanted.length; start += ACKNOWLEDGE_CHUNK) {
    const answer = await api.acknowledgeMany({
      ids: wanted.slice(start, start + ACKNOWLEDGE_CHUNK),
      ...(note !== undefined && { note }),
    });
    for (const [list] of ACKNOWLEDGED_LINES) merged[list].push(...answer[list]);
  }
  return merged;
}

/**
 * A line per list that has ids. An id no alert has fails the command (exit 1); a resolved alert
 * does not: it needs no acknowledgement.
 */
function acknowledgedResult(answer: Acknowledged): Result {
  const missing = answer.notFound;
  return {
    data: answer,
    text: () =>
      ACKNOWLEDGED_LINES.filter(([list]) => answer[list].length > 0)
        .map(([list, label]) => `${label} ${answer[list].join(", ")}`)
        .join("\n"),
    ...(missing.length > 0 && {
      failed: `${missing.length === 1 ? "no alert has the id" : "no alerts have the ids"} ${missing.join(", ")}`,
    }),
  };
}

/** `ack`: one alert by id, several by id, or every firing one that `--type` and the like select. */
async function acknowledge(api: AlertsApi, args: string[], values: Values): Promise<Result> {
  if (values.firing) {
    if (args.length > 0) throw new UsageError("--firing and alert ids do not go together");
    const filter = { ...alertFilter(values), status: "firing" };
    // Listed to the end before any is acknowledged, so the list the cursor walks does not change
    // under it.
    const firing: number[] = [];
    for await (const alert of api.iterateAlerts(filter)) firing.push(alert.id);
    if (firing.length === 0) return { data: nothingAcknowledged(), text: () => "no firing alerts match" };
    return acknowledgedResult(await acknowledgeAll(api, firing, values.note));
  }
  // Filters beside ids would read as narrowing them down, which they do not.
  const filterFlag = FILTER_FLAGS.find((flag) => values[flag] !== undefined);
  if (filterFlag !== undefined) throw new UsageError(`--${filterFlag} selects alerts only with --firing`);
  if (args.length === 0) throw new UsageError("give one or more alert ids, or --firing");
  if (args.length === 1) {
    const alertId = idArg(args, 0, "the alert id");
    await api.acknowledgeAlert(alertId, values.note);
    // The acknowledgement's answer differs between API versions; the alert itself does not.
    return detailResult(await api.getAlert(alertId));
  }
  const ids = args.map((_, index) => idArg(args, index, "an alert id"));
  return acknowledgedResult(await acknowledgeAll(api, ids, values.note));
}

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
  const { positionals, values } = parse(argv, OPTIONS, COMMANDS);
  const namesOf = (ids: readonly (number | null)[]) =>
    keyNames([...new Set(ids.filter((id): id is number => id !== null))]);
  const [command] = positionals;
  const id = () => soleIdArg(positionals, 1, "the alert id");
  switch (command) {
    case "list": {
      const { limit, cursor, all } = pageArgs(values);
      const filter = {
        ...alertFilter(values),
        status: oneOf(values.status, "--status", ["firing", "acknowledged", "resolved"] as const),
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
    case "ack":
      return acknowledge(api, positionals.slice(1), values);
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
