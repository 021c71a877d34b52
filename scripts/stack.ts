// `pnpm start`: the whole stack natively, in the foreground; the no-Docker twin of
// `docker compose up`. Infrastructure up → migrations → topics → every service with prefixed
// logs → "ready" with the URLs. Ctrl-C or SIGTERM stops everything it started, in reverse.
// `pnpm start --secure`: on the project's broker with SASL_SSL and ACLs (`kafka.sh start
// --secure`): topics are made as its admin user, each service connects as its own SCRAM user.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createKeysClient, keepDemoKey, keptDemoKey, seedDemo } from "@apimon/client";
import { secureBrokerAccess } from "@apimon/kafka";
import { infraConfig, infraDown, infraUp, kafkaRuntimeDir, repoDir } from "./lib/infra";
import { servicePorts, services } from "./lib/services";

const colors = [36, 33, 35, 32, 34, 91, 96, 93];
// STACK_FROM_SOURCE=1 runs the TypeScript sources through tsx instead of the built dist/ files
// (tsx maps @apimon/* to sources through the root tsconfig); the stack's own test uses it.
const fromSource = process.env.STACK_FROM_SOURCE === "1";
const secure = process.argv.slice(2).includes("--secure");

/** The command that runs one entry point, built or from source. */
function entryCommand(entry: string): [string, string[]] {
  if (!fromSource) return [process.execPath, [join(repoDir, entry)]];
  const source = entry.replace("/dist/", "/src/").replace(/\.js$/, ".ts");
  return [join(repoDir, "node_modules", ".bin", "tsx"), [join(repoDir, source)]];
}
const out = (line: string) => process.stdout.write(`${line}\n`);
/** The demo key each database was given, printed again by the next start. */
const demoKeyFile = join(repoDir, ".runtime", "demo-keys.json");

function prefixLines(name: string, color: number, child: ChildProcess): void {
  const tag = process.stdout.isTTY ? `\x1b[${color}m${name.padEnd(18)}\x1b[0m|` : `${name.padEnd(18)}|`;
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on("line", (line) => out(`${tag} ${line}`));
  }
}

function runStep(name: string, entry: string, env: NodeJS.ProcessEnv): void {
  const [command, args] = entryCommand(entry);
  const result = spawnSync(command, args, { env, stdio: "inherit" });
  if (result.status !== 0) throw new Error(`${name} failed (exit ${result.status})`);
}

// Every service starts at once; on a busy two-core machine the last of nine may need well over a
// minute to join its consumer group, and waiting is kinder than stopping the whole stack.
const readyTimeoutMs = Number(process.env.STACK_READY_TIMEOUT_MS ?? 120_000);

async function waitReady(port: number, child: ChildProcess, timeoutMs = readyTimeoutMs): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode} before it was ready`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not ready after ${timeoutMs} ms`);
}

/** Whether this process could listen on the port on every interface, as the services do. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "0.0.0.0", () => server.close(() => resolve(true)));
  });
}

/**
 * The services' ports another program holds: checked before anything starts, so that a port in
 * use stops the run naming the variable to change, rather than with one service's listen error
 * after the others started.
 */
async function takenPorts(): Promise<{ port: number; service: string; variable: string }[]> {
  const taken = [];
  for (const { service, port } of servicePorts()) {
    if (!(await portIsFree(port()))) taken.push({ port: port(), service, variable: port.variable });
  }
  return taken;
}

/** A development secret, made once per checkout and kept in .runtime/dev-secrets.json. */
function devSecret(name: string): string {
  const file = join(repoDir, ".runtime", "dev-secrets.json");
  const secrets: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  if (!secrets[name]) {
    secrets[name] = randomBytes(32).toString("hex");
    mkdirSync(join(repoDir, ".runtime"), { recursive: true });
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return secrets[name] as string;
}

async function main(): Promise<void> {
  const taken = await takenPorts();
  if (taken.length > 0) {
    for (const { port, service, variable } of taken) {
      out(`stack: port ${port} (${service}, ${variable}) is in use by another program`);
    }
    out(
      "stack: nothing was started. Stop what holds it (another `pnpm start`?), or give the service " +
        `another port: ${taken.map((t) => `${t.variable}=<port>`).join(" ")} pnpm start`,
    );
    process.exit(1);
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: infraConfig.databaseUrl,
    REDIS_URL: infraConfig.redisUrl,
    KAFKA_BROKERS: infraConfig.kafkaBrokers,
  };
  if (!env.ADMIN_TOKEN) {
    env.ADMIN_TOKEN = `dev-${randomBytes(16).toString("hex")}`;
    out(`stack: ADMIN_TOKEN not set; generated one for this run: ${env.ADMIN_TOKEN}`);
  }
  // Keys are stored as HMACs under this secret, so it must outlive a restart: a development
  // secret is made once and kept in .runtime/ (never committed).
  env.KEY_HASH_SECRET ||= devSecret("KEY_HASH_SECRET");
  // keys signs key changes under it and the edge verifies them; kept like the hash secret.
  env.KEY_CHANGES_SIGNING_SECRET ||= devSecret("KEY_CHANGES_SIGNING_SECRET");
  // Development: webhooks to receivers on this machine are allowed (refused by default).
  env.NOTIFIER_ALLOW_PRIVATE_TARGETS ||= "true";
  // The console calls the APIs where this run puts them, and notifications link to it.
  env.ALERTS_URL ||= `http://127.0.0.1:${env.ALERTS_PORT ?? 8081}`;
  env.KEYS_URL ||= `http://127.0.0.1:${env.KEYS_PORT ?? 8082}`;
  env.CONSOLE_PUBLIC_URL ||= `http://127.0.0.1:${env.CONSOLE_PORT ?? 8087}`;
  // The edge proxies to the demo upstream wherever this run puts it.
  env.UPSTREAM_URL ||= `http://127.0.0.1:${env.DEMO_UPSTREAM_PORT ?? 8090}`;

  const { startedKafka } = await infraUp({ secureKafka: secure });
  // A service's Kafka credentials on the secure broker: its own user, if it uses Kafka at all.
  const access = secure ? secureBrokerAccess(kafkaRuntimeDir) : undefined;
  const kafkaUser = (user: string): NodeJS.ProcessEnv =>
    access && access.passwords[user] !== undefined ? access.env(user) : {};
  if (access) {
    const users = services.map((s) => s.name).filter((name) => access.passwords[name] !== undefined);
    out(`stack: Kafka over SASL_SSL (CA ${access.caFile}); topics as admin; services as ${users.join(", ")}`);
  }
  const children: { name: string; child: ChildProcess }[] = [];
  let stopping = false;

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    out("stack: stopping services");
    for (const { name, child } of [...children].reverse()) {
      if (child.exitCode !== null) continue;
      child.kill("SIGTERM");
      const exited = await Promise.race([
        new Promise((r) => child.once("exit", () => r(true))),
        new Promise((r) => setTimeout(() => r(false), 15_000)),
      ]);
      if (!exited) {
        out(`stack: ${name} did not stop in 15 s; killing it`);
        child.kill("SIGKILL");
      }
    }
    if (startedKafka) infraDown();
    out("stack: stopped");
    process.exit(code);
  };
  // Every signal, not only the first: a second one (an impatient Ctrl-C, or tsx relaying the
  // first) would otherwise end the stack mid-stop, leaving the services not yet stopped running.
  const onSignal = () => {
    if (stopping) out("stack: still stopping the services");
    void stopAll(0);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    runStep("migrations", "packages/db/dist/migrate-cli.js", env);
    runStep("topics", "packages/kafka/dist/topics-cli.js", { ...env, ...kafkaUser("admin") });
    for (const [i, service] of services.entries()) {
      const [command, args] = entryCommand(service.entry);
      const child = spawn(command, args, {
        env: { ...env, ...kafkaUser(service.name) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.push({ name: service.name, child });
      prefixLines(service.name, colors[i % colors.length] ?? 36, child);
      child.once("exit", (code, signal) => {
        if (stopping) return;
        out(`stack: ${service.name} exited (${signal ?? code}); stopping the stack`);
        void stopAll(1);
      });
    }
    await Promise.all(
      services.map((service, i) =>
        waitReady((service.readyPort ?? service.port)(), children[i]?.child as ChildProcess).catch(
          (error: Error) => {
            throw new Error(`${service.name}: ${error.message}`);
          },
        ),
      ),
    );
  } catch (error) {
    out(`stack: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll(1);
    return;
  }

  out("stack: all services ready");
  for (const service of services)
    out(`stack:   ${service.name.padEnd(18)} http://127.0.0.1:${service.port()}`);
  try {
    const database = env.DATABASE_URL as string;
    const demo = await seedDemo({
      keys: createKeysClient({
        baseUrl: `http://127.0.0.1:${env.KEYS_PORT ?? 8082}`,
        adminToken: env.ADMIN_TOKEN as string,
      }),
      kept: keptDemoKey(demoKeyFile, database),
    });
    if (!demo.reused) keepDemoKey(demoKeyFile, database, demo);
    out(
      `stack: demo user ${demo.email} (id ${demo.userId}); demo API key: ${demo.key} ` +
        (demo.reused
          ? `(key id ${demo.keyId}, kept from an earlier start in .runtime/demo-keys.json)`
          : `(key id ${demo.keyId}, new; kept in .runtime/demo-keys.json for the next start)`),
    );
    out(
      `stack: try it:  curl -i -H "X-API-Key: ${demo.key}" http://127.0.0.1:${env.EDGE_PORT ?? 8080}/api/users`,
    );
  } catch (error) {
    out(`stack: could not seed the demo key: ${error instanceof Error ? error.message : String(error)}`);
  }
  out(`stack: operator console: http://127.0.0.1:${env.CONSOLE_PORT ?? 8087} (sign in with ADMIN_TOKEN)`);
  out("stack: Ctrl-C stops everything");
}

void main().catch((error: unknown) => {
  out(`stack: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
