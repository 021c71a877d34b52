// Integration test for deploy/kafka/kafka.sh. It runs a second, isolated broker (its own temp
// KAFKA_RUNTIME_DIR and free ports, small heap), so it never touches the main one on 9092.
// Needs Java 17+ and the jars (fetched by the script on first use through Maven).
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { privateBrokerEnv } from "@apimon/testkit";
import { Kafka, logLevel } from "kafkajs";

const SCRIPT = path.resolve(__dirname, "../../deploy/kafka/kafka.sh");
const STEP_TIMEOUT_MS = 180_000;

jest.setTimeout(STEP_TIMEOUT_MS);

interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Resolves to the connect error code, or "connected". */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    sock.setTimeout(5_000);
    sock.once("connect", () => {
      sock.destroy();
      resolve("connected");
    });
    sock.once("timeout", () => {
      sock.destroy();
      resolve("timeout");
    });
    sock.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? String(err)));
  });
}

function expectOk(r: RunResult, what: string): void {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}\n${r.stdout}${r.stderr}`);
}

/** Pids of every process whose command line is `java ... kafka.Kafka <configPath>`. */
function brokerPids(configPath: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // exited meanwhile, or not ours to read
    }
    if (args.includes("kafka.Kafka") && args.includes(configPath)) pids.push(Number(entry));
  }
  return pids;
}

describe("deploy/kafka/kafka.sh", () => {
  let runtimeDir: string;
  let configPath: string;
  let port: number;
  let env: NodeJS.ProcessEnv;

  const run = (cmd: string): RunResult => {
    const r = spawnSync("bash", [SCRIPT, cmd], {
      env,
      encoding: "utf8",
      timeout: STEP_TIMEOUT_MS - 5_000,
      cwd: os.tmpdir(), // the script must not depend on the caller's cwd
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  const runAsync = (cmd: string): Promise<RunResult> =>
    new Promise((resolve, reject) => {
      const child = spawn("bash", [SCRIPT, cmd], { env, cwd: os.tmpdir() });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      child.once("error", reject);
      child.once("close", (status) => resolve({ status, stdout, stderr }));
    });

  const readPid = (): number => Number(fs.readFileSync(path.join(runtimeDir, "kafka.pid"), "utf8").trim());

  beforeAll(async () => {
    ({ runtimeDir, port, env } = await privateBrokerEnv("kafka-test"));
    // The script identifies its broker by this exact (canonical) path in /proc/<pid>/cmdline.
    configPath = path.join(fs.realpathSync(runtimeDir), "server.properties");
  });

  afterAll(() => {
    if (!runtimeDir) return;
    const r = run("stop");
    if (r.status !== 0) console.error(`kafka.sh stop in afterAll failed:\n${r.stdout}${r.stderr}`);
    fs.rmSync(runtimeDir, { recursive: true, force: true });
  });

  test("status before the first start reports stopped (exit 3)", () => {
    expect(run("status").status).toBe(3);
  });

  test("concurrent and repeated starts leave exactly one broker", async () => {
    // Two starts at once: the per-runtime-dir lock must make the second one find the first.
    const [a, b] = await Promise.all([runAsync("start"), runAsync("start")]);
    expectOk(a, "first concurrent start");
    expectOk(b, "second concurrent start");
    expect(`${a.stdout}${b.stdout}`).toMatch(/already running/);
    const pid = readPid();
    expect(brokerPids(configPath)).toEqual([pid]);

    const again = run("start");
    expectOk(again, "third start");
    expect(again.stdout).toMatch(/already running/);
    expect(readPid()).toBe(pid);
    expect(brokerPids(configPath)).toEqual([pid]);
  });

  test("status reports running (exit 0)", () => {
    const r = run("status");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`running \\(pid ${readPid()}, 127\\.0\\.0\\.1:${port}\\)`));
  });

  test("a client can create and list topics right after start", async () => {
    const kafka = new Kafka({
      clientId: "kafka-script-test",
      brokers: [`127.0.0.1:${port}`],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({
        topics: [{ topic: "infra-smoke", numPartitions: 3, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      expect(created).toBe(true);
      expect(await admin.listTopics()).toContain("infra-smoke");
      const meta = await admin.fetchTopicMetadata({ topics: ["infra-smoke"] });
      expect(meta.topics[0]?.partitions).toHaveLength(3);
    } finally {
      await admin.disconnect();
    }
  });

  test("stop ends the process and closes the port", async () => {
    const pid = readPid();
    expect(await tryConnect(port)).toBe("connected");
    expectOk(run("stop"), "stop");
    // brokerPids reads cmdline, which is empty for a zombie, so an unreaped JVM counts as gone.
    expect(brokerPids(configPath)).not.toContain(pid);
    expect(brokerPids(configPath)).toEqual([]);
    expect(await tryConnect(port)).toBe("ECONNREFUSED");
  });

  test("status after stop exits 3", () => {
    const r = run("status");
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/stopped/);
  });

  test("stop again is a no-op", () => {
    const r = run("stop");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/not running/);
  });
});

describe("deploy/kafka/kafka.sh class data sharing", () => {
  let runtimeDir: string;
  let cacheDir: string;
  let env: NodeJS.ProcessEnv;

  const run = (cmd: string): RunResult => {
    const r = spawnSync("bash", [SCRIPT, cmd], { env, encoding: "utf8", timeout: STEP_TIMEOUT_MS - 5_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  /** The running broker's JVM flags and the files it has mapped. */
  const broker = () => {
    const pid = Number(fs.readFileSync(path.join(runtimeDir, "kafka.pid"), "utf8").trim());
    return {
      args: fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0"),
      maps: fs.readFileSync(`/proc/${pid}/maps`, "utf8"),
    };
  };
  const archives = () => fs.readdirSync(cacheDir).filter((f) => f.endsWith(".jsa"));

  beforeAll(async () => {
    ({ runtimeDir, env } = await privateBrokerEnv("kafka-cds"));
    // A cache of its own holding the same jars (linked, not fetched again), so the test sees the
    // first start without an archive whatever other brokers of this machine left.
    const version = /KAFKA_VERSION="\$\{KAFKA_VERSION:-([^}]+)\}"/.exec(fs.readFileSync(SCRIPT, "utf8"))?.[1];
    const libs =
      process.env.KAFKA_LIBS_DIR ??
      path.join(
        process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"),
        "apimon",
        `kafka-${version}`,
        "libs",
      );
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "apimon-kafka-cache-"));
    fs.mkdirSync(path.join(cacheDir, "libs"));
    for (const file of fs.readdirSync(libs)) {
      const [from, to] = [path.join(libs, file), path.join(cacheDir, "libs", file)];
      try {
        fs.linkSync(from, to);
      } catch {
        fs.copyFileSync(from, to);
      }
    }
    env = { ...env, KAFKA_LIBS_DIR: path.join(cacheDir, "libs") };
  });

  afterAll(() => {
    if (runtimeDir) run("stop");
    for (const dir of [runtimeDir, cacheDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("a broker stopped cleanly leaves its classes for the next start, which maps them", () => {
    expectOk(run("start"), "first start");
    const dump = path.join(fs.realpathSync(runtimeDir), "classes.jsa");
    expect(broker().args).toContain(`-XX:ArchiveClassesAtExit=${dump}`);
    expect(broker().args.some((a) => a.startsWith("-XX:SharedArchiveFile="))).toBe(false);
    expectOk(run("stop"), "first stop");
    expect(archives()).toHaveLength(1);
    expect(fs.existsSync(dump)).toBe(false);

    const archive = path.join(fs.realpathSync(cacheDir), archives()[0] ?? "");
    expectOk(run("start"), "second start");
    const second = broker();
    expect(second.args).toContain(`-XX:SharedArchiveFile=${archive}`);
    expect(second.args.some((a) => a.startsWith("-XX:ArchiveClassesAtExit="))).toBe(false);
    // The JVM took its classes from the archive rather than refusing it and loading them anew.
    expect(second.maps).toContain(archive);
    expectOk(run("stop"), "second stop");
    expect(archives()).toHaveLength(1);
  });
});
