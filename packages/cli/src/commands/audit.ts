import type { AuditFilters } from "@apimon/client";
import { type AuditTargetType, auditSources, auditTargetTypes } from "@apimon/config";
import type { AlertsApi, AuditRow } from "../alerts-api";
import { durationMs, oneOf, PAGE_OPTIONS, pageArgs, parse, UsageError, wholeNumber } from "../args";
import { allPages, type Column, pageResult, type Result } from "../output";

export const AUDIT_USAGE = `apimon audit [--target key:42|user:3|channel:2|silence:5|operator:3|alert:17|settings] [--action key.deactivated]
             [--operator <operator id>] [--source console|cli|api] [--since <ISO time>|30m|2h|7d]
             [--limit N] [--cursor C | --all]
                              what admins changed through the keys and alerts APIs (users, keys,
                              alert settings, channels, silences, operators, alerts acknowledged),
                              newest first: when, the action, what it was done to, by whom (an
                              operator, or the admin token), from where (console, CLI or another
                              client of the API, and the address it came from); --target key (no
                              id): any key's; --operator: the changes made with that operator's token`;

/** Every kind of target the log knows, as `--target` takes it: all but the settings have an id. */
const TARGET_HELP = `${auditTargetTypes.map((type) => (type === "settings" ? type : `${type}:<id>`)).join(", ")}, or a kind alone`;

/** Who made a change: the operator as named then (`alice #3`), or the admin token. */
function changedBy(e: AuditRow): string {
  return e.operator === null ? "admin token" : `${e.operator.name} #${e.operator.id}`;
}

const AUDIT_COLUMNS: Column<AuditRow>[] = [
  { header: "WHEN", value: (e) => e.occurredAt },
  { header: "ACTION", value: (e) => e.action },
  { header: "TARGET", value: (e) => (e.targetId === null ? e.targetType : `${e.targetType}:${e.targetId}`) },
  { header: "BY", value: changedBy },
  { header: "SOURCE", value: (e) => e.source },
  { header: "ADDRESS", value: (e) => e.clientAddress },
  { header: "SUMMARY", value: (e) => e.summary },
];

const OPTIONS = {
  ...PAGE_OPTIONS,
  target: { type: "string" },
  action: { type: "string" },
  source: { type: "string" },
  since: { type: "string" },
  operator: { type: "string" },
} as const;

/** `key:42` as the log's target type and id; `key` alone is any key, `settings` has no id. */
function target(value: string | undefined): Pick<AuditFilters, "targetType" | "targetId"> {
  if (value === undefined) return {};
  const match = /^([a-z]+)(?::(\d{1,10}))?$/.exec(value);
  // All but the settings have an id.
  const type = match?.[1] as AuditTargetType | undefined;
  if (!match || type === undefined || !auditTargetTypes.includes(type) || (type === "settings" && match[2]))
    throw new UsageError(`--target must be ${TARGET_HELP} (got '${value}')`);
  return { targetType: type, ...(match[2] !== undefined && { targetId: Number(match[2]) }) };
}

/** `--since`: an ISO time, or a length of time back from now (`2h`). */
function since(value: string | undefined, now: Date): string | undefined {
  if (value === undefined) return undefined;
  if (/^\d+[mhd]$/.test(value)) return new Date(now.getTime() - durationMs(value, "--since")).toISOString();
  const at = Date.parse(value);
  if (Number.isNaN(at))
    throw new UsageError(`--since must be an ISO time or a length of time, e.g. 2h or 7d (got '${value}')`);
  return new Date(at).toISOString();
}

/** `apimon audit`: a page of the audit log (`--all`: every page) as a table. */
export async function runAudit(
  api: Pick<AlertsApi, "listAudit">,
  argv: string[],
  { clock = () => new Date() }: { clock?: () => Date } = {},
): Promise<Result> {
  const { positionals, values } = parse(argv, OPTIONS);
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const { limit, cursor, all } = pageArgs(values);
  const filter: AuditFilters = {
    ...target(values.target),
    // The action's form is the service's to judge: it says what one looks like.
    action: values.action,
    source: oneOf(values.source, "--source", auditSources),
    operatorId: wholeNumber(values.operator, "--operator", 1),
    from: since(values.since, clock()),
    limit,
  };
  const page = all
    ? await allPages((c) => api.listAudit({ ...filter, cursor: c }))
    : await api.listAudit({ ...filter, cursor });
  return pageResult(page, AUDIT_COLUMNS);
}
