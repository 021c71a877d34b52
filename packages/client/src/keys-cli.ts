#!/usr/bin/env node
// Operator CLI for the keys service: `pnpm keys <command> [options]`.
import { parseArgs } from "node:util";
import { DEFAULT_PORTS } from "@apimon/config";
import { ApiError } from "./api-call";
import { createKeysClient, type KeysClient } from "./keys-client";

export const USAGE = `usage: pnpm keys <command> [options]

  create-user --email <email> --name <name>
  users
  create --user <id> --name <name> [--description <text>] [--minute N] [--hour N] [--day N] [--expires-at <ISO time>]
  list [--user <id>] [--active true|false]
  get <key id>
  rotate <key id> [--grace <seconds>]
  deactivate <key id>
  activate <key id>
  delete <key id>
  usage <key id> [--from <ISO time>] [--to <ISO time>] [--granularity minute|hour|day]
  summary [--from <ISO time>] [--to <ISO time>] [--user <id>] [--limit N]

environment: KEYS_URL (default http://127.0.0.1:${DEFAULT_PORTS.keys}), ADMIN_TOKEN (required)`;

export class UsageError extends Error {}

function int(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${what} must be a whole number (got '${value}')`);
  return Number(value);
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new UsageError(`${what} is required`);
  return value;
}

/** Runs one CLI command against the client; resolves to what to print. */
export async function runKeysCommand(client: KeysClient, argv: string[]): Promise<unknown> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
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
      from: { type: "string" },
      to: { type: "string" },
      granularity: { type: "string" },
      limit: { type: "string" },
    },
  });
  const [command, idArg] = positionals;
  const id = () => required(int(idArg, "the key id"), "the key id");
  switch (command) {
    case "create-user":
      return client.createUser({
        email: required(values.email, "--email"),
        name: required(values.name, "--name"),
      });
    case "users":
      return client.listUsers();
    case "create": {
      const limits = {
        minute: int(values.minute, "--minute"),
        hour: int(values.hour, "--hour"),
        day: int(values.day, "--day"),
      };
      const hasLimits = Object.values(limits).some((v) => v !== undefined);
      return client.createKey({
        userId: required(int(values.user, "--user"), "--user"),
        name: required(values.name, "--name"),
        ...(values.description !== undefined && { description: values.description }),
        ...(hasLimits && { rateLimits: limits }),
        ...(values["expires-at"] !== undefined && { expiresAt: values["expires-at"] }),
      });
    }
    case "list": {
      if (values.active !== undefined && !["true", "false"].includes(values.active)) {
        throw new UsageError("--active must be true or false");
      }
      return client.listKeys({
        userId: int(values.user, "--user"),
        active: values.active === undefined ? undefined : values.active === "true",
      });
    }
    case "get":
      return client.getKey(id());
    case "rotate":
      return client.rotateKey(id(), int(values.grace, "--grace"));
    case "deactivate":
      return client.updateKey(id(), { isActive: false });
    case "activate":
      return client.updateKey(id(), { isActive: true });
    case "delete":
      await client.deleteKey(id());
      return { deleted: id() };
    case "usage":
      // The service validates the times and the granularity, and says what is wrong.
      return client.keyUsage(id(), { from: values.from, to: values.to, granularity: values.granularity });
    case "summary":
      return client.usageSummary({
        from: values.from,
        to: values.to,
        userId: int(values.user, "--user"),
        limit: int(values.limit, "--limit"),
      });
    default:
      throw new UsageError(command ? `unknown command '${command}'` : "a command is required");
  }
}

/** The whole CLI: runs `argv` against KEYS_URL with ADMIN_TOKEN, prints, returns the exit code. */
export async function keysCliMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const adminToken = env.ADMIN_TOKEN;
  if (!adminToken) {
    process.stderr.write(`ADMIN_TOKEN is not set\n\n${USAGE}\n`);
    return 2;
  }
  const client = createKeysClient({
    baseUrl: env.KEYS_URL ?? `http://127.0.0.1:${DEFAULT_PORTS.keys}`,
    adminToken,
  });
  try {
    const result = await runKeysCommand(client, argv);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof ApiError) {
      process.stderr.write(`${error.message}\n${JSON.stringify(error.body, null, 2)}\n`);
      return 1;
    }
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  void keysCliMain(process.argv.slice(2)).then((code) => process.exit(code));
}
