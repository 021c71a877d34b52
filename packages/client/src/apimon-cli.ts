#!/usr/bin/env node
// `apimon`: the operator CLI of the tools image (docker compose run --rm cli keys list).
//   apimon keys <command> [options]   the keys API (`pnpm keys`; KEYS_URL, ADMIN_TOKEN)
//   apimon seed                       the demo user, a fresh demo key and an email channel
import { DEFAULT_PORTS } from "@apimon/config";
import { createAlertsClient } from "./alerts-client";
import { keysCliMain } from "./keys-cli";
import { createKeysClient } from "./keys-client";
import { seedDemo } from "./seed";

export const APIMON_USAGE = `usage: apimon <command>

  keys <command> [options]   the keys API: create-user, users, create, list, get, rotate, ... ('apimon keys' lists them)
  seed                       makes sure the demo user and an email channel exist, creates a demo key, prints it

environment: ADMIN_TOKEN (required), KEYS_URL (http://127.0.0.1:${DEFAULT_PORTS.keys}), ALERTS_URL (http://127.0.0.1:${DEFAULT_PORTS.alerts}),
  seed: SEED_USER_EMAIL (demo@example.com), SEED_ALERT_EMAIL (alerts@example.com), and the addresses it
  prints: EDGE_PUBLIC_URL, CONSOLE_PUBLIC_URL, ALERTS_PUBLIC_URL, MAIL_PUBLIC_URL`;

/** The lines `apimon seed` prints: the key once, then where to use it and where to look. */
export function seedReport(
  seed: {
    email: string;
    userId: number;
    key: string;
    keyId: number;
    channel?: { id: number; target: string };
  },
  env: NodeJS.ProcessEnv,
): string[] {
  const edge = env.EDGE_PUBLIC_URL ?? `http://127.0.0.1:${DEFAULT_PORTS.edge}`;
  const alerts = env.ALERTS_PUBLIC_URL ?? `http://127.0.0.1:${DEFAULT_PORTS.alerts}`;
  const lines = [
    `demo user:      ${seed.email} (id ${seed.userId})`,
    `demo API key:   ${seed.key}   (key id ${seed.keyId}; shown only here, stored as a hash)`,
    `try it:         curl -i -H "X-API-Key: ${seed.key}" ${edge}/api/users`,
    `a slow call:    curl -i -H "X-API-Key: ${seed.key}" "${edge}/api/slow?ms=1500"   (raises a response-time alert)`,
  ];
  if (seed.channel)
    lines.push(`email channel:  ${seed.channel.target} (id ${seed.channel.id}), alerts of warning and above`);
  lines.push(
    `console:        ${env.CONSOLE_PUBLIC_URL ?? `http://127.0.0.1:${DEFAULT_PORTS.console}`}   (sign in with the admin token)`,
    `alerts API:     ${alerts}/api/v1/alerts`,
  );
  if (env.MAIL_PUBLIC_URL) lines.push(`mail catcher:   ${env.MAIL_PUBLIC_URL}`);
  return lines;
}

export async function apimonMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "keys") return keysCliMain(rest, env);
  if (command === "--help" || command === "help") {
    process.stdout.write(`${APIMON_USAGE}\n`);
    return 0;
  }
  if (command !== "seed") {
    process.stderr.write(
      `${command ? `unknown command '${command}'` : "a command is required"}\n\n${APIMON_USAGE}\n`,
    );
    return 2;
  }
  const adminToken = env.ADMIN_TOKEN;
  if (!adminToken) {
    process.stderr.write(`ADMIN_TOKEN is not set\n\n${APIMON_USAGE}\n`);
    return 2;
  }
  try {
    const seed = await seedDemo({
      keys: createKeysClient({
        baseUrl: env.KEYS_URL ?? `http://127.0.0.1:${DEFAULT_PORTS.keys}`,
        adminToken,
      }),
      alerts: createAlertsClient({
        baseUrl: env.ALERTS_URL ?? `http://127.0.0.1:${DEFAULT_PORTS.alerts}`,
        adminToken,
      }),
      email: env.SEED_USER_EMAIL || undefined,
      channelEmail: env.SEED_ALERT_EMAIL || undefined,
    });
    process.stdout.write(`${seedReport(seed, env).join("\n")}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`seed failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  void apimonMain(process.argv.slice(2)).then((code) => process.exit(code));
}
