import { type ParseArgsConfig, parseArgs } from "node:util";

/** Wrong usage: the CLI prints the message and exits with 2, without calling any service. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The flags every command takes. */
const COMMON = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

/**
 * `--note -x` as `--note=-x`: a value that starts with a dash (a note, a negative number) belongs
 * to the option before it, which node would otherwise refuse as ambiguous. An option with nothing
 * after it, or another option, has no value.
 */
function attachDashValues(argv: string[], options: Options): string[] {
  const flags = new Set(Object.keys(options).map((name) => `--${name}`));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const name = arg.startsWith("--") ? arg.slice(2) : undefined;
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    if (name === undefined || options[name]?.type !== "string") {
      out.push(arg);
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || flags.has(value.split("=")[0] as string) || value === "-h") {
      throw new UsageError(`${arg} needs a value`);
    }
    out.push(`${arg}=${value}`);
    i++;
  }
  return out;
}

/**
 * Which options each subcommand of a group takes, by its name on the command line (`get`, or
 * `override set` for a subcommand of a subcommand); `--json` and `--help` go with every one.
 */
export type CommandOptions<O extends Options> = Readonly<Record<string, readonly (keyof O & string)[]>>;

/** The entry of `commands` the positionals name: their first two words, else their first. */
function commandOf(positionals: string[], commands: CommandOptions<Options>): string | undefined {
  const [first, second] = positionals;
  // Own keys only: `apimon keys constructor` names no subcommand.
  if (second !== undefined && Object.hasOwn(commands, `${first} ${second}`)) return `${first} ${second}`;
  return first !== undefined && Object.hasOwn(commands, first) ? first : undefined;
}

/**
 * Refuses an option that the subcommand does not read: the group parses every subcommand with one
 * set of options, so another subcommand's option would otherwise be accepted and ignored.
 */
function checkCommandOptions(
  positionals: string[],
  given: readonly string[],
  commands: CommandOptions<Options>,
): void {
  const command = commandOf(positionals, commands);
  // An unknown subcommand, or none, is the caller's to name.
  if (command === undefined) return;
  const takes: readonly string[] = commands[command] ?? [];
  const stray = given.find((name) => !Object.hasOwn(COMMON, name) && !takes.includes(name));
  if (stray === undefined) return;
  const what = takes.length === 0 ? "no options" : takes.map((name) => `--${name}`).join(", ");
  throw new UsageError(`--${stray} does not go with '${command}' (it takes ${what})`);
}

type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; allowPositionals: true; strict: true; options: typeof COMMON & O }>
>;

/** node's parseArgs, strict, with the common flags; its errors as usage errors. */
function parseStrictly<O extends Options>(argv: string[], options: O): Parsed<O> {
  const all = { ...COMMON, ...options };
  const args = attachDashValues(argv, all);
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: all,
    });
  } catch (error) {
    // node's own hint about '--' after the first sentence would only confuse here.
    throw new UsageError((error as Error).message.split(/\n|\. To specify/)[0]);
  }
}

/**
 * Parses a command's arguments strictly; unknown flags and missing values are usage errors, and
 * so, when `commands` is given, is an option its subcommand does not take.
 */
export function parse<O extends Options>(
  argv: string[],
  options: O,
  commands?: NoInfer<CommandOptions<O>>,
): Parsed<O> {
  const parsed = parseStrictly(argv, options);
  if (commands !== undefined) checkCommandOptions(parsed.positionals, Object.keys(parsed.values), commands);
  return parsed;
}

/** A whole number ≥ min from a flag or argument; undefined when not given. */
export function wholeNumber(value: string | undefined, what: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(
      `${what} must be a whole number${min > 0 ? ` of at least ${min}` : ""} (got '${value}')`,
    );
  }
  return Number(value);
}

export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new UsageError(`${what} is required`);
  return value;
}

/** The id argument of `<command> <id>`. */
export function idArg(positionals: string[], index: number, what: string): number {
  return required(wholeNumber(positionals[index], what, 1), what);
}

/**
 * The id of `<command> <id>` when nothing may follow it: another argument is refused, not
 * ignored, or `keys deactivate 38 39` would deactivate key 38 alone and say nothing of 39.
 */
export function soleIdArg(positionals: string[], index: number, what: string): number {
  const extra = positionals[index + 1];
  if (extra !== undefined)
    throw new UsageError(`unexpected argument '${extra}': ${what.replace(/^the /, "one ")} at a time`);
  return idArg(positionals, index, what);
}

/** `--limit N --cursor C --all`, shared by every list. */
export const PAGE_OPTIONS = {
  limit: { type: "string" },
  cursor: { type: "string" },
  all: { type: "boolean" },
} as const satisfies Options;

/** Their names, for the commands that page in a group's `CommandOptions`. */
export const PAGE_FLAGS = Object.keys(PAGE_OPTIONS) as readonly (keyof typeof PAGE_OPTIONS)[];

export function pageArgs(values: { limit?: string; cursor?: string; all?: boolean }) {
  const limit = wholeNumber(values.limit, "--limit", 1);
  if (values.all && values.cursor !== undefined)
    throw new UsageError("--all and --cursor do not go together");
  return { limit, cursor: values.cursor, all: values.all === true };
}

/** One of `choices`, or undefined when not given. */
export function oneOf<T extends string>(
  value: string | undefined,
  what: string,
  choices: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`${what} must be one of ${choices.join(", ")} (got '${value}')`);
  }
  return value as T;
}

const DURATION_UNITS_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A length of time as `30m`, `2h` or `3d` (a whole number of minutes, hours or days), in ms. */
export function durationMs(value: string, what: string): number {
  const match = /^(\d+)([mhd])$/.exec(value);
  const amount = Number(match?.[1]);
  if (!match || amount < 1 || !Number.isSafeInteger(amount)) {
    throw new UsageError(
      `${what} must be a whole number of minutes, hours or days, e.g. 30m, 2h or 3d (got '${value}')`,
    );
  }
  const ms = amount * DURATION_UNITS_MS[match[2] as keyof typeof DURATION_UNITS_MS];
  // Longer means nothing here, and past about 270,000 years it is no date at all.
  if (ms > MAX_DURATION_MS) throw new UsageError(`${what} must be at most 36500d (got '${value}')`);
  return ms;
}

const MAX_DURATION_MS = 36_500 * 86_400_000;
