import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { createKafka, type KafkaClient } from "@apimon/kafka";
import type { Logger } from "@apimon/observability";

/**
 * Ports for child processes to listen on are taken below the kernel's ephemeral range: a port the
 * kernel picks for `listen(0)` and that we release comes from the range it also hands out as the
 * source port of outgoing connections, and with the suite's many connections to Kafka, Postgres
 * and Redis one of them could take it before the child binds it (EADDRINUSE). Each jest worker
 * (or, outside jest, each process) hands out ports from a block of its own, in turn, so that two
 * workers never pick the same port at the same moment.
 */
const PORTS_FROM = 10_000;
const PORTS_PER_BLOCK = 1000;
let portsHandedOut = 0;

function ephemeralPortsStart(): number {
  try {
    const [low] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/);
    const start = Number(low);
    if (Number.isInteger(start) && start > PORTS_FROM + PORTS_PER_BLOCK) return start;
  } catch {
    // Not Linux: the IANA ephemeral range.
  }
  return 49_152;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** A loopback port nobody listens on right now, for a child process to listen on. */
export async function freePort(): Promise<number> {
  const blocks = Math.floor((ephemeralPortsStart() - PORTS_FROM) / PORTS_PER_BLOCK);
  const owner = Number(process.env.JEST_WORKER_ID ?? process.pid);
  const blockStart = PORTS_FROM + (owner % blocks) * PORTS_PER_BLOCK;
  for (let tries = 0; tries < PORTS_PER_BLOCK; tries++) {
    const port = blockStart + (portsHandedOut++ % PORTS_PER_BLOCK);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${blockStart}-${blockStart + PORTS_PER_BLOCK - 1}`);
}

export interface PrivateBroker {
  /** A fresh temp dir (`apimon-<label>-…`); the caller removes it. */
  runtimeDir: string;
  port: number;
  controllerPort: number;
  /** The environment for deploy/kafka/kafka.sh to run this broker. */
  env: NodeJS.ProcessEnv;
}

/**
 * Settings for a private broker run by deploy/kafka/kafka.sh: its own runtime dir, two distinct
 * free ports and a small heap, so starting and stopping it harms no one.
 */
export async function privateBrokerEnv(label: string): Promise<PrivateBroker> {
  const runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), `apimon-${label}-`));
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const env = {
    ...process.env,
    KAFKA_RUNTIME_DIR: runtimeDir,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_HEAP_OPTS: "-Xms128m -Xmx384m",
    // The client compiler only: a test's broker lives a minute and carries little, and its
    // optimising compiler's work at start was a quarter of the start's CPU.
    KAFKA_JVM_OPTS: "-XX:TieredStopAtLevel=1",
    KAFKA_START_TIMEOUT: "150",
  };
  return { runtimeDir, port, controllerPort, env };
}

export interface ControlledBroker extends PrivateBroker {
  /** Runs deploy/kafka/kafka.sh start|stop for this broker; throws with its output on failure. */
  control(command: "start" | "stop"): void;
  /**
   * The same without blocking this process: use it while the test drives traffic, since a
   * blocked event loop leaves the test's own keep-alive sockets idle long enough for a server to
   * close them, which the test would then misread as a failure of the component under test.
   */
  controlAsync(command: "start" | "stop"): Promise<void>;
  /**
   * A client of this broker with short timeouts and retries, so that a send failing while the
   * broker is down surfaces in seconds rather than a minute.
   */
  impatientClient(clientId: string, logger: Logger): KafkaClient;
  /** Stops the broker (if running) and removes its runtime dir. */
  dispose(): void;
}

/**
 * A private broker with its controls: for tests that stop and start Kafka under a component.
 * `secure` starts it with `kafka.sh start --secure` (SASL_SSL, SCRAM users, ACLs).
 */
export async function privateBroker(
  label: string,
  { secure = false }: { secure?: boolean } = {},
): Promise<ControlledBroker> {
  const settings = await privateBrokerEnv(label);
  const script = path.join(__dirname, "..", "..", "..", "deploy", "kafka", "kafka.sh");
  const argsOf = (command: "start" | "stop") =>
    secure && command === "start" ? [command, "--secure"] : [command];
  const control = (command: "start" | "stop") => {
    const r = spawnSync("bash", [script, ...argsOf(command)], {
      env: settings.env,
      encoding: "utf8",
      timeout: 170_000,
    });
    if (r.status !== 0) throw new Error(`kafka.sh ${command} exited ${r.status}\n${r.stdout}${r.stderr}`);
  };
  const controlAsync = (command: "start" | "stop") =>
    new Promise<void>((resolve, reject) => {
      const child = spawn("bash", [script, ...argsOf(command)], {
        env: settings.env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (d) => {
        output += d;
      });
      child.stderr.on("data", (d) => {
        output += d;
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), 170_000);
      child.once("exit", (code) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`kafka.sh ${command} exited ${code}\n${output}`));
      });
    });
  return {
    ...settings,
    control,
    controlAsync,
    impatientClient: (clientId, logger) =>
      createKafka({
        brokers: [`127.0.0.1:${settings.port}`],
        clientId,
        logger,
        connectionTimeoutMs: 1000,
        requestTimeoutMs: 5000,
        retry: { retries: 2, initialRetryTimeMs: 100, maxRetryTimeMs: 500 },
      }),
    dispose() {
      try {
        control("stop");
      } finally {
        fs.rmSync(settings.runtimeDir, { recursive: true, force: true });
      }
    },
  };
}
