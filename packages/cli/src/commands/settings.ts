import { readFileSync } from "node:fs";
import type { ThresholdOverride } from "@apimon/config";
import type { AlertsApi } from "../alerts-api";
import { type CommandOptions, parse, required, UsageError, wholeNumber } from "../args";
import { type Column, type Result, recordResult, table } from "../output";
import { type KeyNames, keyLabel, noNames } from "./alerts";

export const SETTINGS_USAGE = `apimon settings <command>
  get
  set --file <settings.json | ->   replaces the alert settings (fields left out take their defaults)
  overrides                        the response-time and error-rate thresholds of particular endpoints
                                   and keys, in place of the global ones
  override set [--endpoint "GET /api/users/:id" | "/api/users/:id"] [--key <key id>]
               [--response-time W,C] [--error-rate W,C] [--note <text>]
                                   adds the override for that endpoint (a path alone: every method; a *
                                   in the path: any run of characters, "/api/reports/*") and key, or
                                   replaces it; --response-time in seconds, --error-rate in shares of
                                   5xx (0.2 = 20 %); a rule left out is not overridden
  override remove [--endpoint E] [--key <key id>]
                                   removes the override for exactly that endpoint and key
  For each rule the most specific override that sets it wins: key + method + path, key + path,
  the key's patterns, method + path, path, patterns, key; else the global thresholds.`;

/** The settings document of `--file` (`-` reads stdin), parsed as JSON. */
function readDocument(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (error) {
    throw new UsageError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path} is not JSON: ${(error as Error).message}`);
  }
}

const OPTIONS = {
  file: { type: "string" },
  endpoint: { type: "string" },
  key: { type: "string" },
  "response-time": { type: "string" },
  "error-rate": { type: "string" },
  note: { type: "string" },
} as const;

/**
 * What each command reads; any other option given to it is refused rather than ignored. `override`
 * has two commands of its own, each with its options.
 */
const COMMANDS: CommandOptions<typeof OPTIONS> = {
  get: [],
  set: ["file"],
  overrides: [],
  "override set": ["endpoint", "key", "response-time", "error-rate", "note"],
  "override remove": ["endpoint", "key"],
};

type Scope = Pick<ThresholdOverride, "endpoint" | "apiKeyId">;
type Pair = { warning: number; critical: number };

/** A rule's thresholds as the table shows them, `warning/critical`; nothing when not overridden. */
const pairText = (pair: Pair | undefined) => (pair ? `${pair.warning}/${pair.critical}` : undefined);

const overrideColumns = (
  names: ReadonlyMap<number, string>,
): Column<{ n: number; override: ThresholdOverride }>[] => [
  { header: "#", value: (r) => r.n },
  { header: "ENDPOINT", value: (r) => r.override.endpoint ?? "any" },
  { header: "KEY", value: (r) => keyLabel(names, r.override.apiKeyId ?? null) ?? "any" },
  { header: "RESPONSE TIME W/C (S)", value: (r) => pairText(r.override.response_time) },
  { header: "ERROR RATE W/C", value: (r) => pairText(r.override.error_rate) },
  { header: "NOTE", value: (r) => r.override.note },
];

/** The overrides as a table (`--json`: the list as the API has it), under `head` when given. */
async function overridesResult(
  overrides: ThresholdOverride[],
  keyNames: KeyNames,
  head?: string,
): Promise<Result> {
  const ids = overrides.map((o) => o.apiKeyId).filter((id): id is number => id !== undefined);
  const names = await keyNames([...new Set(ids)]);
  const rows = overrides.map((override, i) => ({ n: i + 1, override }));
  return {
    data: overrides,
    text: () => {
      const list = table(rows, overrideColumns(names));
      return head === undefined ? list : `${head}\n\n${list}`;
    },
  };
}

/** `--endpoint` and `--key`: which override a command is about. */
function scopeOf(values: { endpoint?: string; key?: string }): Scope {
  if (values.endpoint === undefined && values.key === undefined)
    throw new UsageError("give --endpoint, --key or both");
  const apiKeyId = wholeNumber(values.key, "--key", 1);
  return {
    ...(values.endpoint !== undefined && { endpoint: values.endpoint }),
    ...(apiKeyId !== undefined && { apiKeyId }),
  };
}

const sameScope = (o: ThresholdOverride, scope: Scope) =>
  o.endpoint === scope.endpoint && o.apiKeyId === scope.apiKeyId;

/** "GET /api/users/:id, any key", "key 9, any endpoint", "GET /api/users/:id, key 9". */
const scopeText = ({ endpoint, apiKeyId }: Scope) =>
  `${endpoint ?? "any endpoint"}, ${apiKeyId === undefined ? "any key" : `key ${apiKeyId}`}`;

/** `W,C`: a warning and a critical threshold; their ranges are the service's to judge. */
function pairOf(value: string | undefined, flag: string, example: string): Pair | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(",").map((part) => part.trim());
  if (parts.length !== 2 || parts.some((part) => part === "" || !Number.isFinite(Number(part)))) {
    throw new UsageError(
      `${flag} must be a warning and a critical threshold, e.g. ${flag} ${example} (got '${value}')`,
    );
  }
  return { warning: Number(parts[0]), critical: Number(parts[1]) };
}

export interface SettingsDeps {
  keyNames?: KeyNames;
}

export async function runSettings(
  api: AlertsApi,
  argv: string[],
  { keyNames = noNames }: SettingsDeps = {},
): Promise<Result> {
  const { positionals, values } = parse(argv, OPTIONS, COMMANDS);
  const [command, sub] = positionals;
  /** Reads the settings, changes their overrides and writes the whole document back. */
  const changeOverrides = async (change: (overrides: ThresholdOverride[]) => string) => {
    const settings = await api.getSettings();
    const overrides = [...settings.alertThresholds.overrides];
    const head = change(overrides);
    const saved = await api.putSettings({
      ...settings,
      alertThresholds: { ...settings.alertThresholds, overrides },
    });
    return overridesResult(saved.alertThresholds.overrides, keyNames, head);
  };
  switch (command) {
    case "get":
      return recordResult((await api.getSettings()) as object);
    case "set": {
      // The service validates the document and names each bad field; the CLI only reads it.
      const doc = readDocument(required(values.file, "--file")) as Parameters<AlertsApi["putSettings"]>[0];
      return recordResult((await api.putSettings(doc)) as object);
    }
    case "overrides":
      return overridesResult((await api.getSettings()).alertThresholds.overrides, keyNames);
    case "override": {
      if (sub !== "set" && sub !== "remove")
        throw new UsageError(
          sub ? `unknown override command '${sub}'` : "an override command is required: set or remove",
        );
      const scope = scopeOf(values);
      if (sub === "remove") {
        return changeOverrides((overrides) => {
          const at = overrides.findIndex((o) => sameScope(o, scope));
          // Not a usage error: the command was right, the settings have no such override.
          if (at < 0)
            throw new Error(`no override for ${scopeText(scope)} (see 'apimon settings overrides')`);
          overrides.splice(at, 1);
          return `removed override ${at + 1} (${scopeText(scope)})`;
        });
      }
      const response_time = pairOf(values["response-time"], "--response-time", "2,5");
      const error_rate = pairOf(values["error-rate"], "--error-rate", "0.2,0.5");
      if (response_time === undefined && error_rate === undefined)
        throw new UsageError("give --response-time, --error-rate or both");
      const override: ThresholdOverride = {
        ...scope,
        ...(response_time && { response_time }),
        ...(error_rate && { error_rate }),
        ...(values.note !== undefined && { note: values.note }),
      };
      return changeOverrides((overrides) => {
        const at = overrides.findIndex((o) => sameScope(o, scope));
        if (at >= 0) overrides[at] = override;
        else overrides.push(override);
        return `${at >= 0 ? "replaced" : "added"} override ${at >= 0 ? at + 1 : overrides.length} (${scopeText(scope)})`;
      });
    }
    default:
      throw new UsageError(
        command ? `unknown settings command '${command}'` : "a settings command is required",
      );
  }
}
