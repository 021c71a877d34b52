// Brings up what the tests and `pnpm start` need: the project's own Kafka broker (unless
// KAFKA_BROKERS points at another one), plus Postgres and Redis from DATABASE_URL / REDIS_URL
// or the local defaults. Self-contained on purpose: it runs before anything is built.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { Client } from "pg";

export const repoDir = join(__dirname, "..", "..");
const kafkaScript = join(repoDir, "deploy", "kafka", "kafka.sh");
/** The project's broker's runtime dir, as deploy/kafka/kafka.sh resolves it. */
export const kafkaRuntimeDir = process.env.KAFKA_RUNTIME_DIR ?? join(repoDir, ".runtime", "kafka");

export const infraConfig = {
  kafkaBrokers: process.env.KAFKA_BROKERS ?? "127.0.0.1:9092",
  databaseUrl: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/apimon",
  redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
};

const isLocal = (host: string) => ["127.0.0.1", "localhost", "::1", "[::1]"].includes(host);

/** Our broker runs only when the brokers are the local default port (or KAFKA_PORT's). */
function managesKafka(): boolean {
  const brokers = infraConfig.kafkaBrokers.split(",").map((b) => b.trim());
  const port = process.env.KAFKA_PORT ?? "9092";
  return (
    brokers.length === 1 &&
    brokers[0] !== undefined &&
    isLocal(brokers[0].split(":")[0] ?? "") &&
    brokers[0].endsWith(`:${port}`)
  );
}

function log(message: string): void {
  process.stdout.write(`infra: ${message}\n`);
}

function tcpOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

function redisPing(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) });
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      socket.destroy();
      resolve(String(data).startsWith("+PONG"));
    });
  });
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

function run(command: string, args: string[]): number {
  return spawnSync(command, args, { stdio: "inherit" }).status ?? 1;
}

/** Postgres answers and the target database exists (created when missing). */
async function ensurePostgres(): Promise<void> {
  const url = new URL(infraConfig.databaseUrl);
  const reachable = () => tcpOpen(url.hostname, Number(url.port || 5432));
  if (!(await reachable()) && isLocal(url.hostname)) {
    // The local cluster of a Debian machine (how the dev machines and CI run Postgres).
    const versions = existsSync("/etc/postgresql") ? readdirSync("/etc/postgresql") : [];
    if (versions[0]) {
      log(`Postgres is not answering; starting the local cluster ${versions[0]}/main`);
      run("pg_ctlcluster", ["--skip-systemctl-redirect", versions[0], "main", "start"]);
    }
  }
  if (!(await waitUntil(reachable, 20_000))) {
    throw new Error(`Postgres is not reachable at ${url.host}; set DATABASE_URL or start it`);
  }
  const database = url.pathname.replace(/^\//, "") || "postgres";
  const admin = new URL(infraConfig.databaseUrl);
  admin.pathname = "/postgres";
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query("select 1 from pg_database where datname = $1", [database]);
    if (!rowCount) {
      await client.query(`create database "${database.replace(/"/g, '""')}"`);
      log(`created database ${database}`);
    }
  } finally {
    await client.end();
  }
  log(`Postgres ready (${url.host}/${database})`);
}

async function ensureRedis(): Promise<void> {
  const url = new URL(infraConfig.redisUrl);
  if (!(await redisPing(infraConfig.redisUrl)) && isLocal(url.hostname)) {
    log("Redis is not answering; starting a local redis-server");
    run("redis-server", [
      "--daemonize",
      "yes",
      "--bind",
      "127.0.0.1",
      "--port",
      url.port || "6379",
      "--save",
      "",
      "--appendonly",
      "no",
    ]);
  }
  if (!(await waitUntil(() => redisPing(infraConfig.redisUrl), 10_000))) {
    throw new Error(`Redis is not reachable at ${url.host}; set REDIS_URL or start it`);
  }
  log(`Redis ready (${url.host})`);
}

async function ensureKafka(secure: boolean): Promise<{ started: boolean }> {
  if (secure) {
    if (!managesKafka())
      throw new Error(
        `a secure stack runs on the project's own broker (kafka.sh start --secure); KAFKA_BROKERS is ${infraConfig.kafkaBrokers}`,
      );
    const mode = () => existsSync(join(kafkaRuntimeDir, "secure", "enabled"));
    if (run("bash", [kafkaScript, "status"]) === 0) {
      if (!mode()) throw new Error("the project's broker runs without --secure: `pnpm kafka stop` first");
      return { started: false };
    }
    if (spawnSync("bash", [kafkaScript, "probe"]).status === 0)
      throw new Error(`another broker serves ${infraConfig.kafkaBrokers}; a secure stack needs its own`);
    if (run("bash", [kafkaScript, "start", "--secure"]) !== 0)
      throw new Error("the secure Kafka broker did not start");
    return { started: true };
  }
  if (!managesKafka()) {
    const [host, port] = (infraConfig.kafkaBrokers.split(",")[0] ?? "").trim().split(":");
    if (!(await tcpOpen(host ?? "", Number(port))))
      throw new Error(`Kafka is not reachable at ${infraConfig.kafkaBrokers}`);
    log(`using Kafka at ${infraConfig.kafkaBrokers}`);
    return { started: false };
  }
  if (run("bash", [kafkaScript, "status"]) === 0) return { started: false };
  // A broker of another checkout on the same port serves the tests just as well (every run
  // uses its own topic prefix); starting ours would only fail on the taken port.
  if (spawnSync("bash", [kafkaScript, "probe"]).status === 0) {
    log(`using the Kafka broker already serving on ${infraConfig.kafkaBrokers} (started elsewhere)`);
    return { started: false };
  }
  if (run("bash", [kafkaScript, "start"]) !== 0) throw new Error("the Kafka broker did not start");
  return { started: true };
}

/**
 * Starts whatever is missing; resolves to whether it started the Kafka broker itself. `secureKafka`:
 * the project's broker with SASL_SSL and ACLs (`kafka.sh start --secure`), never a plaintext one.
 */
export async function infraUp({ secureKafka = false } = {}): Promise<{ startedKafka: boolean }> {
  await Promise.all([ensurePostgres(), ensureRedis()]);
  const { started } = await ensureKafka(secureKafka);
  return { startedKafka: started };
}

/** Stops our Kafka broker; Postgres and Redis belong to the machine and stay up. */
export function infraDown(): void {
  if (managesKafka()) run("bash", [kafkaScript, "stop"]);
}

export async function infraStatus(): Promise<boolean> {
  const db = new URL(infraConfig.databaseUrl);
  const pg = await tcpOpen(db.hostname, Number(db.port || 5432));
  const redis = await redisPing(infraConfig.redisUrl);
  log(`Postgres ${pg ? "up" : "down"} (${db.host})`);
  log(`Redis ${redis ? "up" : "down"} (${new URL(infraConfig.redisUrl).host})`);
  const kafka = managesKafka()
    ? run("bash", [kafkaScript, "status"]) === 0
    : await tcpOpen(...hostPort(infraConfig.kafkaBrokers));
  if (!managesKafka()) log(`Kafka ${kafka ? "up" : "down"} (${infraConfig.kafkaBrokers})`);
  return pg && redis && kafka;
}

function hostPort(brokers: string): [string, number] {
  const [host, port] = (brokers.split(",")[0] ?? "").trim().split(":");
  return [host ?? "127.0.0.1", Number(port ?? 9092)];
}
