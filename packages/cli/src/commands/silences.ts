import type { CreateSilenceInput } from "@apimon/client";
import type { AlertsApi, SilenceRow } from "../alerts-api";
import {
  type CommandOptions,
  durationMs,
  oneOf,
  PAGE_FLAGS,
  PAGE_OPTIONS,
  pageArgs,
  parse,
  required,
  soleIdArg,
  UsageError,
  wholeNumber,
} from "../args";
import { allPages, type Column, pageResult, type Result, recordResult } from "../output";
import { type KeyNames, keyLabel, noNames } from "./alerts";

export const SILENCES_USAGE = `apimon silences <command>
  list [--state active|pending|expired] [--limit N] [--cursor C | --all]
                              newest first; without --state: the active and pending ones
  add [--type T] [--key <key id>] [--endpoint "GET /api/users/:id"] [--ip <client IP>]
      (--for 30m|2h|3d | --until <ISO time>) --comment <text> [--by <name>]
                              no notification about the open alerts it matches (a matcher left out:
                              any) from now until then, at most 30 days; the alerts are still recorded;
                              a * in --endpoint stands for any run of characters ("* /api/billing/*")
  update <silence id> [--for 2h | --until <ISO time>] [--comment <text>]
                              a new end (--for: from now) to extend or shorten it, or a new comment
  end <silence id>            ends it now`;

/** A matcher as the table shows it: its value, or "any" when it matches anything. */
const any = (value: unknown) => (value === null ? "any" : value);

const silenceColumns = (names: ReadonlyMap<number, string>): Column<SilenceRow>[] => [
  { header: "ID", value: (s) => s.id },
  { header: "STATE", value: (s) => s.state },
  { header: "TYPE", value: (s) => any(s.type) },
  { header: "KEY", value: (s) => any(keyLabel(names, s.apiKeyId)) },
  { header: "ENDPOINT", value: (s) => any(s.endpoint) },
  { header: "CLIENT IP", value: (s) => any(s.clientIp) },
  { header: "OPEN ALERTS", value: (s) => s.openAlertsMatched ?? "-" },
  { header: "STARTS", value: (s) => s.startsAt },
  { header: "ENDS", value: (s) => s.endsAt },
  { header: "BY", value: (s) => s.createdBy },
  { header: "COMMENT", value: (s) => s.comment },
];

const OPTIONS = {
  ...PAGE_OPTIONS,
  state: { type: "string" },
  type: { type: "string" },
  key: { type: "string" },
  endpoint: { type: "string" },
  ip: { type: "string" },
  for: { type: "string" },
  until: { type: "string" },
  comment: { type: "string" },
  by: { type: "string" },
} as const;

/** What each command reads; any other option given to it is refused rather than ignored. */
const COMMANDS: CommandOptions<typeof OPTIONS> = {
  list: ["state", ...PAGE_FLAGS],
  add: ["type", "key", "endpoint", "ip", "for", "until", "comment", "by"],
  update: ["for", "until", "comment"],
  end: [],
};

/** When a new silence ends: `--for` from now, or `--until` as the time it names. */
function endsAt(values: { for?: string; until?: string }, now: Date): string {
  if (values.for !== undefined && values.until !== undefined)
    throw new UsageError("--for and --until do not go together");
  if (values.for !== undefined)
    return new Date(now.getTime() + durationMs(values.for, "--for")).toISOString();
  const until = required(values.until, "--for or --until");
  const at = Date.parse(until);
  if (Number.isNaN(at)) {
    throw new UsageError(`--until must be an ISO time, e.g. 2026-12-06T18:00:00Z (got '${until}')`);
  }
  return new Date(at).toISOString();
}

export interface SilencesDeps {
  keyNames?: KeyNames;
  clock?: () => Date;
}

export async function runSilences(
  api: AlertsApi,
  argv: string[],
  { keyNames = noNames, clock = () => new Date() }: SilencesDeps = {},
): Promise<Result> {
  const { positionals, values } = parse(argv, OPTIONS, COMMANDS);
  const [command] = positionals;
  switch (command) {
    case "list": {
      const { limit, cursor, all } = pageArgs(values);
      const state = oneOf(values.state, "--state", ["active", "pending", "expired"] as const);
      const page = all
        ? await allPages((c) => api.listSilences({ state, cursor: c, limit }))
        : await api.listSilences({ state, cursor, limit });
      const ids = page.items.map((s) => s.apiKeyId).filter((id): id is number => id !== null);
      return pageResult(page, silenceColumns(await keyNames([...new Set(ids)])));
    }
    case "add":
      return recordResult(
        await api.createSilence({
          // The type is the service's to judge: it names the valid ones when one is wrong.
          ...(values.type !== undefined && { type: values.type as CreateSilenceInput["type"] }),
          ...(values.key !== undefined && { apiKeyId: wholeNumber(values.key, "--key", 1) }),
          ...(values.endpoint !== undefined && { endpoint: values.endpoint }),
          ...(values.ip !== undefined && { clientIp: values.ip }),
          endsAt: endsAt(values, clock()),
          comment: required(values.comment, "--comment"),
          ...(values.by !== undefined && { createdBy: values.by }),
        }),
      );
    case "update": {
      const id = soleIdArg(positionals, 1, "the silence id");
      const change = {
        ...((values.for !== undefined || values.until !== undefined) && { endsAt: endsAt(values, clock()) }),
        ...(values.comment !== undefined && { comment: values.comment }),
      };
      if (Object.keys(change).length === 0) throw new UsageError("give --for, --until or --comment");
      return recordResult(await api.updateSilence(id, change));
    }
    case "end":
      return recordResult(await api.endSilence(soleIdArg(positionals, 1, "the silence id")));
    default:
      throw new UsageError(
        command ? `unknown silences command '${command}'` : "a silences command is required",
      );
  }
}
