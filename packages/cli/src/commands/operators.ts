import type { CallerView, KeysClient, NewOperatorView, OperatorView } from "@apimon/client";
import { operatorRoles } from "@apimon/config";
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
} from "../args";
import { allPages, type Column, pageResult, type Result, record, recordResult } from "../output";

export const OPERATORS_USAGE = `apimon operators <command>
  list [--revoked | --active] [--limit N] [--cursor C | --all]
                              people and scripts with a token of their own for the keys and alerts
                              APIs; --revoked: only those whose token was revoked, --active: the rest
  get <operator id>
  create <name> [--role ${operatorRoles.join("|")}]
                              a new operator and its token, shown this once; viewer (the default) may
                              only read, admin may do everything the admin token may
  update <operator id> [--name <name>] [--role ${operatorRoles.join("|")}]
                              rename an operator or change its role (at least one); its token stays
                              the same and has the new role from its next request
  revoke <operator id>        the token stops working at once; the operator stays listed`;

export const WHOAMI_USAGE = `apimon whoami                 whose token ADMIN_TOKEN is (an operator's, or the admin token) and what it may do`;

/** The keys service's calls the operator commands make. */
export type OperatorsApi = Pick<
  KeysClient,
  "whoAmI" | "listOperators" | "getOperator" | "createOperator" | "updateOperator" | "revokeOperator"
>;

const OPERATOR_COLUMNS: Column<OperatorView>[] = [
  { header: "ID", value: (o) => o.id },
  { header: "NAME", value: (o) => o.name },
  { header: "ROLE", value: (o) => o.role },
  // The token's first characters: enough to tell which one someone holds, never enough to use.
  { header: "TOKEN", value: (o) => `${o.tokenPrefix}…` },
  { header: "CREATED", value: (o) => o.createdAt },
  { header: "LAST USED", value: (o) => o.lastUsedAt },
  { header: "REVOKED", value: (o) => o.revokedAt },
];

const OPTIONS = {
  ...PAGE_OPTIONS,
  revoked: { type: "boolean" },
  active: { type: "boolean" },
  role: { type: "string" },
  name: { type: "string" },
} as const;

/**
 * What each command reads; any other option given to it is refused rather than ignored. `create`
 * takes its name as the argument, so `update`'s --name is refused there.
 */
const COMMANDS: CommandOptions<typeof OPTIONS> = {
  list: ["revoked", "active", ...PAGE_FLAGS],
  get: [],
  create: ["role"],
  update: ["name", "role"],
  revoke: [],
};

/** A new operator: its token is shown this once, so the text says to keep it now. */
function issued(operator: NewOperatorView): Result {
  return {
    data: operator,
    text: () =>
      `${record(operator)}\n\nStore the token now; it is not shown again (the service keeps only its hash).`,
  };
}

/** `--revoked` / `--active` as the list's filter; neither: every operator. */
function revokedFilter(values: { revoked?: boolean; active?: boolean }): boolean | undefined {
  if (values.revoked && values.active) throw new UsageError("--revoked and --active do not go together");
  if (values.revoked) return true;
  return values.active ? false : undefined;
}

/** `apimon operators …`: the operators and their tokens. */
export async function runOperators(client: OperatorsApi, argv: string[]): Promise<Result> {
  const { positionals, values } = parse(argv, OPTIONS, COMMANDS);
  const [command] = positionals;
  const id = () => soleIdArg(positionals, 1, "the operator id");
  switch (command) {
    case "list": {
      const { limit, cursor, all } = pageArgs(values);
      const revoked = revokedFilter(values);
      const page = all
        ? await allPages((c) => client.listOperators({ revoked, cursor: c, limit }))
        : await client.listOperators({ revoked, cursor, limit });
      return pageResult(page, OPERATOR_COLUMNS);
    }
    case "get":
      return recordResult(await client.getOperator(id()));
    case "create": {
      const name = required(positionals[1], "the operator's name");
      // `create Ann Lee` unquoted would otherwise make an operator called "Ann".
      if (positionals.length > 2)
        throw new UsageError(`unexpected argument '${positionals[2]}' (quote a name that has spaces)`);
      const role = oneOf(values.role, "--role", operatorRoles);
      // The name's length and characters are the service's to judge.
      return issued(await client.createOperator({ name, ...(role !== undefined && { role }) }));
    }
    case "update": {
      // `update 3 --name Ann Lee` unquoted would otherwise rename it "Ann".
      if (positionals.length > 2)
        throw new UsageError(`unexpected argument '${positionals[2]}' (quote a name that has spaces)`);
      const operator = id();
      const role = oneOf(values.role, "--role", operatorRoles);
      if (values.name === undefined && role === undefined)
        throw new UsageError("give at least one of --name, --role");
      return recordResult(
        await client.updateOperator(operator, {
          ...(values.name !== undefined && { name: values.name }),
          ...(role !== undefined && { role }),
        }),
      );
    }
    case "revoke":
      return recordResult(await client.revokeOperator(id()));
    default:
      throw new UsageError(
        command ? `unknown operators command '${command}'` : "an operators command is required",
      );
  }
}

/** One line for whose token it is: `operator 3 "alice" (viewer)` or `admin token (admin)`. */
function callerText(caller: CallerView): string {
  const { operator, role } = caller;
  return operator === null ? `admin token (${role})` : `operator ${operator.id} "${operator.name}" (${role})`;
}

/** `apimon whoami`: whose token the CLI sends, and what it may do. */
export async function runWhoAmI(client: Pick<OperatorsApi, "whoAmI">, argv: string[]): Promise<Result> {
  const { positionals } = parse(argv, {});
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const caller = await client.whoAmI();
  return { data: caller, text: () => callerText(caller) };
}
