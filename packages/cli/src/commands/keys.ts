import type {
  ApiKeyView,
  KeysClient,
  KeyUsageView,
  UsageSummaryView,
  UsageView,
  UserView,
} from "@apimon/client";
import {
  type CommandOptions,
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
import {
  allPages,
  type Column,
  pageResult,
  type Result,
  record,
  recordResult,
  sections,
  table,
} from "../output";

export const KEYS_USAGE = `apimon keys <command>
  list [--user <id>] [--active true|false] [--search <name part or prefix>] [--limit N] [--cursor C | --all]
  get <key id>
  create --user <id> --name <name> [--description <text>] [--minute N] [--hour N] [--day N] [--expires-at <ISO time>]
  rotate <key id> [--grace <seconds>]
  deactivate <key id>
  activate <key id>
  limits <key id> [--minute N|default] [--hour N|default] [--day N|default]
  expire <key id> --at <ISO time>|never
  delete <key id>
  usage [<key id> | --user <id>] [--from <ISO time>] [--to <ISO time>] [--granularity minute|hour|day]
        the requests of one key, of one user's keys or (neither given) of every key, per bucket;
        --from defaults to 24 hours before --to, --to to now; without a key id at most 31 days
  summary [--from <ISO time>] [--to <ISO time>] [--user <id>] [--limit N]
  users [--search <name or email part>] [--limit N] [--cursor C | --all]
  create-user --email <email> --name <name>
  update-user <user id> [--email <email>] [--name <name>]
  delete-user <user id>   (deletes every key of theirs too)`;

const KEY_COLUMNS: Column<ApiKeyView>[] = [
  { header: "ID", value: (k) => k.id },
  { header: "USER", value: (k) => k.userId },
  { header: "NAME", value: (k) => k.name },
  { header: "PREFIX", value: (k) => k.prefix },
  // What the edge does with the key now: active, deactivated or expired.
  { header: "STATE", value: (k) => k.state },
  { header: "MINUTE", value: (k) => k.rateLimits.minute },
  { header: "HOUR", value: (k) => k.rateLimits.hour },
  { header: "DAY", value: (k) => k.rateLimits.day },
  { header: "EXPIRES", value: (k) => k.expiresAt },
  { header: "CREATED", value: (k) => k.createdAt },
];

const USER_COLUMNS: Column<UserView>[] = [
  { header: "ID", value: (u) => u.id },
  { header: "EMAIL", value: (u) => u.email },
  { header: "NAME", value: (u) => u.name },
  { header: "CREATED", value: (u) => u.createdAt },
];

const USAGE_COLUMNS: Column<UsageView["buckets"][number]>[] = [
  { header: "START", value: (b) => b.start },
  { header: "REQUESTS", value: (b) => b.requests },
  { header: "5XX", value: (b) => b.errors },
  { header: "4XX", value: (b) => b.clientErrors },
  { header: "LIMITED", value: (b) => b.rateLimited },
  { header: "P50 MS", value: (b) => b.p50ResponseTimeMs },
  { header: "P95 MS", value: (b) => b.p95ResponseTimeMs },
];

const TOP_KEY_COLUMNS: Column<UsageSummaryView["topKeys"][number]>[] = [
  { header: "ID", value: (k) => k.keyId },
  { header: "NAME", value: (k) => k.name },
  { header: "REQUESTS", value: (k) => k.requests },
  { header: "5XX", value: (k) => k.errors },
  { header: "P95 MS", value: (k) => k.p95ResponseTimeMs },
];

const TOP_ENDPOINT_COLUMNS: Column<UsageSummaryView["topEndpoints"][number]>[] = [
  { header: "METHOD", value: (e) => e.method },
  { header: "ENDPOINT", value: (e) => e.endpoint },
  { header: "REQUESTS", value: (e) => e.requests },
  { header: "5XX", value: (e) => e.errors },
  { header: "P95 MS", value: (e) => e.p95ResponseTimeMs },
];

/** What the buckets cover (`every key`, `key 3`), its range and granularity; then the buckets. */
function usageResult(usage: UsageView | KeyUsageView, covers: string): Result {
  return {
    data: usage,
    text: () =>
      `${covers}, ${usage.from} to ${usage.to} by ${usage.granularity}\n${table(usage.buckets, USAGE_COLUMNS)}`,
  };
}

/** The totals as fields, the error rate as a percentage; then the busiest keys and endpoints. */
function summaryResult(summary: UsageSummaryView): Result {
  const { topKeys, topEndpoints, errorRate, ...totals } = summary;
  return {
    data: summary,
    text: () =>
      sections(record({ ...totals, errorRate: `${(errorRate * 100).toFixed(2)}%` }), [
        ["top keys", table(topKeys, TOP_KEY_COLUMNS)],
        ["top endpoints", table(topEndpoints, TOP_ENDPOINT_COLUMNS)],
      ]),
  };
}

const OPTIONS = {
  ...PAGE_OPTIONS,
  email: { type: "string" },
  name: { type: "string" },
  user: { type: "string" },
  description: { type: "string" },
  minute: { type: "string" },
  hour: { type: "string" },
  day: { type: "string" },
  "expires-at": { type: "string" },
  active: { type: "string" },
  grace: { type: "string" },
  at: { type: "string" },
  search: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  granularity: { type: "string" },
} as const;

/** What each command reads; any other option given to it is refused rather than ignored. */
const COMMANDS: CommandOptions<typeof OPTIONS> = {
  list: ["user", "active", "search", ...PAGE_FLAGS],
  get: [],
  create: ["user", "name", "description", "minute", "hour", "day", "expires-at"],
  rotate: ["grace"],
  deactivate: [],
  activate: [],
  limits: ["minute", "hour", "day"],
  expire: ["at"],
  delete: [],
  usage: ["user", "from", "to", "granularity"],
  // A summary has a length (its top lists), not pages.
  summary: ["from", "to", "user", "limit"],
  users: ["search", ...PAGE_FLAGS],
  "create-user": ["email", "name"],
  "update-user": ["email", "name"],
  "delete-user": [],
};

/** A key that was just issued: its plaintext is shown this once, so it leads. */
function issued(key: ApiKeyView): Result {
  return {
    data: key,
    text: () => `${record(key)}\n\nThe key is shown only now; the service keeps only its hash.`,
  };
}

/** `--minute N` etc.: a whole number, or `default` (null) to drop the key's own limit. */
function limitValue(value: string | undefined, what: string): number | null | undefined {
  if (value === "default") return null;
  return wholeNumber(value, what, 1);
}

export async function runKeys(client: KeysClient, argv: string[]): Promise<Result> {
  const { positionals, values } = parse(argv, OPTIONS, COMMANDS);
  const [command] = positionals;
  const id = () => soleIdArg(positionals, 1, "the key id");
  const userId = () => soleIdArg(positionals, 1, "the user id");
  switch (command) {
    case "list": {
      const { limit, cursor, all } = pageArgs(values);
      const active = oneOf(values.active, "--active", ["true", "false"] as const);
      const filter = {
        userId: wholeNumber(values.user, "--user", 1),
        active: active === undefined ? undefined : active === "true",
        search: values.search,
      };
      const page = all
        ? await allPages((c) => client.listKeys({ ...filter, cursor: c, limit }))
        : await client.listKeys({ ...filter, cursor, limit });
      return pageResult(page, KEY_COLUMNS);
    }
    case "get":
      return recordResult(await client.getKey(id()));
    case "create": {
      const limits = {
        minute: wholeNumber(values.minute, "--minute", 1),
        hour: wholeNumber(values.hour, "--hour", 1),
        day: wholeNumber(values.day, "--day", 1),
      };
      const hasLimits = Object.values(limits).some((v) => v !== undefined);
      return issued(
        await client.createKey({
          userId: required(wholeNumber(values.user, "--user", 1), "--user"),
          name: required(values.name, "--name"),
          ...(values.description !== undefined && { description: values.description }),
          ...(hasLimits && { rateLimits: limits }),
          ...(values["expires-at"] !== undefined && { expiresAt: values["expires-at"] }),
        }),
      );
    }
    case "rotate":
      return issued(await client.rotateKey(id(), wholeNumber(values.grace, "--grace")));
    case "deactivate":
      return recordResult(await client.updateKey(id(), { isActive: false }));
    case "activate":
      return recordResult(await client.updateKey(id(), { isActive: true }));
    case "limits": {
      const keyId = id();
      const rateLimits = Object.fromEntries(
        (["minute", "hour", "day"] as const)
          .map((w) => [w, limitValue(values[w], `--${w}`)] as const)
          .filter(([, v]) => v !== undefined),
      );
      if (Object.keys(rateLimits).length === 0)
        throw new UsageError("give at least one of --minute, --hour, --day");
      return recordResult(await client.updateKey(keyId, { rateLimits }));
    }
    case "expire": {
      const keyId = id();
      const at = required(values.at, "--at");
      // The service checks the time (a date-time, in the future) and says what is wrong.
      return recordResult(await client.updateKey(keyId, { expiresAt: at === "never" ? null : at }));
    }
    case "delete": {
      const keyId = id();
      await client.deleteKey(keyId);
      return recordResult({ deleted: keyId });
    }
    case "usage": {
      const keyId = wholeNumber(positionals[1], "the key id", 1);
      const user = wholeNumber(values.user, "--user", 1);
      if (keyId !== undefined && user !== undefined)
        throw new UsageError("a key id and --user do not go together");
      // The service checks the times and the granularity, and says what is wrong.
      const range = { from: values.from, to: values.to, granularity: values.granularity };
      if (keyId !== undefined) {
        const usage = await client.keyUsage(keyId, range);
        return usageResult(usage, `key ${usage.keyId}`);
      }
      const usage = await client.usage({ ...range, userId: user });
      return usageResult(usage, usage.userId === undefined ? "every key" : `user ${usage.userId}'s keys`);
    }
    case "summary":
      return summaryResult(
        await client.usageSummary({
          from: values.from,
          to: values.to,
          userId: wholeNumber(values.user, "--user", 1),
          limit: wholeNumber(values.limit, "--limit", 1),
        }),
      );
    case "users": {
      const { limit, cursor, all } = pageArgs(values);
      const search = values.search;
      const page = all
        ? await allPages((c) => client.listUsers({ search, cursor: c, limit }))
        : await client.listUsers({ search, cursor, limit });
      return pageResult(page, USER_COLUMNS);
    }
    case "create-user":
      return recordResult(
        await client.createUser({
          email: required(values.email, "--email"),
          name: required(values.name, "--name"),
        }),
      );
    case "update-user": {
      const user = userId();
      if (values.email === undefined && values.name === undefined)
        throw new UsageError("give at least one of --email, --name");
      return recordResult(
        await client.updateUser(user, {
          ...(values.email !== undefined && { email: values.email }),
          ...(values.name !== undefined && { name: values.name }),
        }),
      );
    }
    case "delete-user": {
      const user = userId();
      await client.deleteUser(user);
      return recordResult({ deleted: user });
    }
    default:
      throw new UsageError(command ? `unknown keys command '${command}'` : "a keys command is required");
  }
}
