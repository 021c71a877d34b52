#!/usr/bin/env node
// `apimon`: the operator CLI over the keys and alerts APIs and the dead-letter topics.
import {
  createAlertsClient,
  createKeysClient,
  keepDemoKey,
  keptDemoKey,
  seedDemo,
  seedReport,
} from "@apimon/client";
import { ConfigError, DEFAULT_PORTS } from "@apimon/config";
import { createKafka } from "@apimon/kafka";
import { createLogger } from "@apimon/observability";
import { UsageError } from "./args";
import { ALERTS_USAGE, runAlerts } from "./commands/alerts";
import { AUDIT_USAGE, runAudit } from "./commands/audit";
import { CHANNELS_USAGE, runChannels } from "./commands/channels";
import { DLQ_USAGE, runDlq } from "./commands/dlq";
import { KEYS_USAGE, runKeys } from "./commands/keys";
import { OPERATORS_USAGE, runOperators, runWhoAmI, WHOAMI_USAGE } from "./commands/operators";
import { runSettings, SETTINGS_USAGE } from "./commands/settings";
import { runSilences, SILENCES_USAGE } from "./commands/silences";
import { loadApiConfig, loadKafkaConfig } from "./config";
import { keyNamesFrom } from "./key-names";
import type { Result } from "./output";

export const USAGE = `usage: apimon <keys|alerts|silences|channels|settings|audit|operators|whoami|dlq|seed> <command> [options] [--json]

${KEYS_USAGE}

${ALERTS_USAGE}

${SILENCES_USAGE}

${CHANNELS_USAGE}

${SETTINGS_USAGE}

${AUDIT_USAGE}

${OPERATORS_USAGE}

${WHOAMI_USAGE}

${DLQ_USAGE}

apimon seed                  makes sure the demo user and an email channel exist, creates a demo key, prints it
                             (with SEED_KEY_FILE: keeps the key there, and prints it again next time)

Lists print a table (--json: the API's JSON). Exit codes: 0 done, 1 the service refused or could
not be reached, or part of the work could not be done (said on stderr after the output), 2 wrong
usage or configuration.
environment: ADMIN_TOKEN (required for the APIs: the admin token or an operator's), KEYS_URL (http://127.0.0.1:${DEFAULT_PORTS.keys}),
  ALERTS_URL (http://127.0.0.1:${DEFAULT_PORTS.alerts}); dlq: KAFKA_BROKERS (127.0.0.1:9092), KAFKA_TOPIC_PREFIX and the
  other KAFKA_* variables of the services; seed: SEED_USER_EMAIL, SEED_ALERT_EMAIL, SEED_KEY_FILE,
  EDGE_PUBLIC_URL, CONSOLE_PUBLIC_URL, ALERTS_PUBLIC_URL, MAIL_PUBLIC_URL`;

const GROUP_USAGE: Record<string, string> = {
  keys: KEYS_USAGE,
  alerts: ALERTS_USAGE,
  silences: SILENCES_USAGE,
  channels: CHANNELS_USAGE,
  settings: SETTINGS_USAGE,
  audit: AUDIT_USAGE,
  operators: OPERATORS_USAGE,
  whoami: WHOAMI_USAGE,
  dlq: DLQ_USAGE,
};

/** Which service a command group talks to, for error messages. */
const SERVICE: Record<string, string> = {
  keys: "keys",
  alerts: "alerts",
  silences: "alerts",
  channels: "alerts",
  settings: "alerts",
  audit: "alerts",
  operators: "keys",
  whoami: "keys",
};

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** One line for an error answer of a service: status, detail and the fields it names. */
function describeApiError(service: string, error: { status: number; body: unknown }): string {
  const body = error.body as
    | { detail?: unknown; errors?: { field?: string; message?: string }[] }
    | undefined;
  const detail = typeof body?.detail === "string" ? body.detail : JSON.stringify(body ?? null);
  const fields = Array.isArray(body?.errors)
    ? ` (${body.errors.map((e) => `${e.field ?? "?"}: ${e.message ?? "?"}`).join("; ")})`
    : "";
  const hint = error.status === 401 ? "; check ADMIN_TOKEN" : "";
  return `the ${service} service answered ${error.status}: ${detail}${fields}${hint}`;
}

function isApiError(error: unknown): error is { status: number; body: unknown } {
  return typeof (error as { status?: unknown })?.status === "number" && "body" in (error as object);
}

/** Kafka's failures in the operator's terms. */
function kafkaError(error: unknown, config: { brokers: string[]; topicPrefix: string }): unknown {
  const { type, name, message } = error as { type?: string; name?: string; message?: string };
  if (type === "UNKNOWN_TOPIC_OR_PARTITION")
    return new Error(
      `a dead-letter topic does not exist${config.topicPrefix ? ` under the prefix '${config.topicPrefix}'` : ""}; create the topics first (apimon-topics)`,
    );
  if (
    name === "KafkaJSConnectionError" ||
    name === "KafkaJSNumberOfRetriesExceeded" ||
    name === "KafkaJSNonRetriableError"
  )
    return new Error(`cannot reach Kafka at ${config.brokers.join(",")}: ${message}`);
  return error;
}

/**
 * What every call to the APIs says about its caller: the CLI (the services' audit log records a
 * change's source from this header, `SOURCE_HEADER` of @apimon/http).
 */
const cliHeaders = () => ({ "x-apimon-source": "cli" });

async function run(group: string, argv: string[], env: NodeJS.ProcessEnv): Promise<Result | string> {
  if (group === "dlq") {
    const config = loadKafkaConfig(env);
    const logger = createLogger({
      service: "apimon-cli",
      level: config.logLevel,
      destination: process.stderr,
    });
    // A few quick retries: an operator waiting on a broker that is down wants to hear it soon.
    const kafka = createKafka({ ...config, logger, retry: { retries: 2 } });
    return runDlq({ kafka, logger, prefix: config.topicPrefix }, argv).catch((error: unknown) => {
      throw kafkaError(error, config);
    });
  }
  const config = loadApiConfig(env);
  const api = { adminToken: config.adminToken, headers: cliHeaders };
  const keys = createKeysClient({ baseUrl: config.keysUrl, ...api });
  if (group === "keys") return runKeys(keys, argv);
  if (group === "operators") return runOperators(keys, argv);
  if (group === "whoami") return runWhoAmI(keys, argv);
  const alerts = createAlertsClient({ baseUrl: config.alertsUrl, ...api });
  if (group === "audit") return runAudit(alerts, argv);
  if (group === "seed") {
    // With SEED_KEY_FILE, the key this seed prints is kept there and printed again by the next
    // seed against the same keys service, instead of a new key each time.
    const keyFile = env.SEED_KEY_FILE || undefined;
    const seed = await seedDemo({
      keys,
      alerts,
      email: env.SEED_USER_EMAIL || undefined,
      channelEmail: env.SEED_ALERT_EMAIL || undefined,
      ...(keyFile ? { kept: keptDemoKey(keyFile, config.keysUrl) } : {}),
    });
    if (keyFile && !seed.reused) keepDemoKey(keyFile, config.keysUrl, seed);
    return seedReport(seed, { ...env, SEED_KEY_FILE: keyFile }).join("\n");
  }
  if (group === "alerts" || group === "silences" || group === "settings") {
    // Names for the key columns: one attempt of 2 s, so that a keys service that is away costs
    // the table its names, not the operator a minute and a half of retries.
    const names = createKeysClient({
      baseUrl: config.keysUrl,
      ...api,
      timeoutMs: 2000,
      retries: 0,
    });
    const keyNames = keyNamesFrom(names);
    if (group === "settings") return runSettings(alerts, argv, { keyNames });
    return group === "silences" ? runSilences(alerts, argv, { keyNames }) : runAlerts(alerts, argv, keyNames);
  }
  return runChannels(alerts, argv);
}

/** The whole CLI: runs `argv`, prints the result or one line of error, returns the exit code. */
export async function apimonMain(argv: string[], env: NodeJS.ProcessEnv = process.env, io: Io = processIo) {
  const [group, ...rest] = argv;
  if (group === undefined || group === "--help" || group === "-h" || group === "help") {
    (group === undefined ? io.err : io.out)(USAGE);
    return group === undefined ? 2 : 0;
  }
  if (!(group in GROUP_USAGE) && group !== "seed") {
    io.err(`apimon: unknown command '${group}' (see 'apimon --help')`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(GROUP_USAGE[group] ?? USAGE);
    return 0;
  }
  try {
    const result = await run(group, rest, env);
    if (typeof result === "string") io.out(result);
    else io.out(rest.includes("--json") ? JSON.stringify(result.data, null, 2) : result.text());
    if (typeof result !== "string" && result.failed !== undefined) {
      io.err(`apimon ${group}: ${result.failed}`);
      return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      // One line, as every failure: a message quoted from elsewhere (JSON.parse's) may hold more.
      io.err(`apimon ${group}: ${error.message.split("\n")[0]} (see 'apimon ${group} --help')`);
      return 2;
    }
    if (error instanceof ConfigError) {
      io.err(
        `apimon: invalid configuration: ${error.issues.map((i) => `${i.variable} ${i.message}`).join("; ")}`,
      );
      return 2;
    }
    if (isApiError(error)) {
      io.err(`apimon ${group}: ${describeApiError(SERVICE[group] ?? group, error)}`);
      return 1;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.err(`apimon ${group}: ${message.split("\n")[0]}`);
    return 1;
  }
}

if (require.main === module) {
  void apimonMain(process.argv.slice(2)).then((code) => process.exit(code));
}
