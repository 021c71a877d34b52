import type { AlertsApi, ChannelRow } from "../alerts-api";
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
import { allPages, type Column, pageResult, type Result, record, recordResult, table } from "../output";
import { DELIVERY_COLUMNS } from "./alerts";

type ChannelScope = Pick<ChannelRow, "alertTypes" | "endpoints" | "userIds">;

export const CHANNELS_USAGE = `apimon channels <command>
  list [--limit N] [--cursor C | --all]
  test <channel id>           sends a test notification and shows every delivery attempt
  create --type email|slack|webhook --target <addresses or URL> --name <name> [--secret S] [--min-severity warning|critical]
         [--alert-type T]… [--endpoint E]… [--user <user id>]…
                              a channel for some alerts only: of those types, about those endpoints
                              ("* /api/billing/*": a * stands for any run of characters), about the keys
                              of those users (customers; keys they get later too); none: every alert
  scope <channel id> [--alert-type T]… [--endpoint E]… [--user <user id>]…
                              what it is for from now on, replacing all three (none given: every alert)
  enable <channel id> | disable <channel id>
  delete <channel id>`;

const CHANNEL_COLUMNS: Column<ChannelRow>[] = [
  { header: "ID", value: (c) => c.id },
  { header: "NAME", value: (c) => c.name },
  { header: "TYPE", value: (c) => c.type },
  { header: "TARGET", value: (c) => c.target },
  { header: "MIN SEVERITY", value: (c) => c.minSeverity },
  { header: "FOR", value: (c) => scopeText(c) },
  { header: "ENABLED", value: (c) => (c.enabled ? "yes" : "no") },
];

const OPTIONS = {
  ...PAGE_OPTIONS,
  type: { type: "string" },
  target: { type: "string" },
  name: { type: "string" },
  secret: { type: "string" },
  "min-severity": { type: "string" },
  "alert-type": { type: "string", multiple: true },
  endpoint: { type: "string", multiple: true },
  user: { type: "string", multiple: true },
} as const;

/** The flags that say what a channel is for, as `create` and `scope` take them. */
const SCOPE_FLAGS = ["alert-type", "endpoint", "user"] as const;

/** What each command reads; any other option given to it is refused rather than ignored. */
const COMMANDS: CommandOptions<typeof OPTIONS> = {
  list: [...PAGE_FLAGS],
  test: [],
  create: ["type", "target", "name", "secret", "min-severity", ...SCOPE_FLAGS],
  scope: [...SCOPE_FLAGS],
  enable: [],
  disable: [],
  delete: [],
};

/**
 * What a channel hears about beyond severity, in a line: "any", or its types and endpoints, then
 * its users (`users 3, 7`).
 */
function scopeText(c: ChannelScope): string {
  const alerts =
    c.alertTypes.length === 0 && c.endpoints.length === 0
      ? []
      : [c.alertTypes.join(",") || "any type", c.endpoints.join(", ") || "any endpoint"];
  const users = c.userIds.length === 0 ? [] : [`users ${c.userIds.join(", ")}`];
  return [...alerts, ...users].join(" · ") || "any";
}

/** The channel's types, endpoints and users from the flags; the types are the service's to judge. */
function scopeFlags(values: { "alert-type"?: string[]; endpoint?: string[]; user?: string[] }) {
  return {
    alertTypes: (values["alert-type"] ?? []) as ChannelScope["alertTypes"],
    endpoints: values.endpoint ?? [],
    // Whether each is a user is the service's to say; a repeat is the same user.
    userIds: [...new Set((values.user ?? []).map((id) => required(wholeNumber(id, "--user", 1), "--user")))],
  };
}

export async function runChannels(api: AlertsApi, argv: string[]): Promise<Result> {
  const { positionals, values } = parse(argv, OPTIONS, COMMANDS);
  const [command] = positionals;
  const id = () => soleIdArg(positionals, 1, "the channel id");
  switch (command) {
    case "list": {
      const { limit, cursor, all } = pageArgs(values);
      const page = all
        ? await allPages((c) => api.listChannels({ cursor: c, limit }))
        : await api.listChannels({ cursor, limit });
      return pageResult(page, CHANNEL_COLUMNS);
    }
    case "test": {
      const delivery = await api.testChannel(id());
      const { attempts, ...final } = delivery;
      return {
        data: delivery,
        text: () => `${record(final)}\n\nattempts\n${table(attempts ?? [], DELIVERY_COLUMNS)}`,
        // A script checking its channels must tell a test that failed from one that went out.
        ...(delivery.status === "failed" && {
          failed: `the test message was not delivered: ${delivery.error ?? "no reason recorded"}`,
        }),
      };
    }
    case "create":
      return recordResult(
        await api.createChannel({
          type: required(oneOf(values.type, "--type", ["email", "slack", "webhook"] as const), "--type"),
          target: required(values.target, "--target"),
          name: required(values.name, "--name"),
          ...(values.secret !== undefined && { secret: values.secret }),
          ...(values["min-severity"] !== undefined && {
            minSeverity: oneOf(values["min-severity"], "--min-severity", ["warning", "critical"] as const),
          }),
          ...scopeFlags(values),
        }),
      );
    case "scope":
      return recordResult(await api.updateChannel(id(), scopeFlags(values)));
    case "enable":
      return recordResult(await api.updateChannel(id(), { enabled: true }));
    case "disable":
      return recordResult(await api.updateChannel(id(), { enabled: false }));
    case "delete": {
      const channelId = id();
      await api.deleteChannel(channelId);
      return recordResult({ deleted: channelId });
    }
    default:
      throw new UsageError(
        command ? `unknown channels command '${command}'` : "a channels command is required",
      );
  }
}
