import { freePort } from "./broker";
import { testInfra } from "./infra";
import { spawnTsx, type TsxProcess } from "./process";
import { waitFor } from "./wait";

/**
 * Polls a service's `/readyz` until it answers 200 and returns the body; a service still starting
 * (connection refused) is polled again. On timeout the error carries the process's output.
 */
export async function waitReady(
  baseUrl: string,
  {
    timeoutMs = 30_000,
    intervalMs = 50,
    what = "readiness",
    process,
  }: { timeoutMs?: number; intervalMs?: number; what?: string; process?: TsxProcess } = {},
): Promise<unknown> {
  try {
    return await waitFor(
      async () => {
        const res = await fetch(`${baseUrl}/readyz`);
        return res.ok && ((await res.json()) as unknown);
      },
      { timeoutMs, intervalMs, what },
    );
  } catch (error) {
    if (!process) throw error;
    throw new Error(`${error instanceof Error ? error.message : error}\n--- output ---\n${process.output()}`);
  }
}

/** A JSON log line of a service (pino): its message and whatever fields the test reads. */
export type LogLine = { msg: string; level?: string } & Record<string, unknown>;

/** The JSON log lines a process wrote so far (other output skipped). */
export function logLines(process: TsxProcess): LogLine[] {
  return process
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as LogLine);
}

/** Of the messages a process logged, those among `milestones`, in the order logged. */
export function milestonesLogged(process: TsxProcess, milestones: string[]): string[] {
  return logLines(process)
    .map((l) => l.msg)
    .filter((m) => milestones.includes(m));
}

/**
 * Starts a service's entry point with bad settings and expects it to refuse: exit code 1 and one
 * message on stderr, `<service> failed to start: Invalid configuration:`, naming every variable.
 */
export async function expectConfigRefused(
  entry: string,
  env: NodeJS.ProcessEnv,
  { service, variables }: { service: string; variables: string[] },
): Promise<void> {
  const child = spawnTsx(entry, env);
  expect(await child.exited).toBe(1);
  const stderr = child.stderr();
  expect(stderr).toContain(`${service} failed to start: Invalid configuration:`);
  for (const variable of variables) expect(stderr).toContain(`${variable}:`);
}

/**
 * The environment of a service process on a test run's database and topics (the test broker
 * unless `KAFKA_BROKERS` is among `more`), logging at info so its milestones can be read back.
 */
export function serviceEnv(
  { databaseUrl, topicPrefix }: { databaseUrl: string; topicPrefix: string },
  more: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: testInfra.kafkaBrokers.join(","),
    KAFKA_TOPIC_PREFIX: topicPrefix,
    LOG_LEVEL: "info",
    ...more,
  };
}

/** A service's main.ts running on a loopback port of its own. */
export type ServiceProcess = TsxProcess & { port: number; url: string };

/**
 * Starts a service's main.ts on a loopback port (`<envPrefix>_PORT`, a free one unless given;
 * `<envPrefix>_HOST`) on a test run's database and topics, with `env` settings of its own.
 */
export async function startService(
  entry: string,
  {
    envPrefix,
    databaseUrl,
    topicPrefix,
    port,
    env = {},
  }: { envPrefix: string; databaseUrl: string; topicPrefix: string; port?: number; env?: NodeJS.ProcessEnv },
): Promise<ServiceProcess> {
  const listenOn = port ?? (await freePort());
  const child = spawnTsx(
    entry,
    serviceEnv(
      { databaseUrl, topicPrefix },
      { [`${envPrefix}_PORT`]: String(listenOn), [`${envPrefix}_HOST`]: "127.0.0.1", ...env },
    ),
  );
  return Object.assign(child, { port: listenOn, url: `http://127.0.0.1:${listenOn}` });
}
