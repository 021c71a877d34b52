// Integration test for `deploy/kafka/kafka.sh cluster`: three nodes on free ports in a temp
// runtime dir with small heaps, so it never touches the dev cluster on 9192-9194 or the main
// broker. Needs Java 17+ and the jars (fetched by the script on first use through Maven).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { topics } from "@apimon/events";
import { createBatchingProducer, createKafka, ensureTopics, fetchEndOffsets, topicName } from "@apimon/kafka";
import { freePort, makeUsageEvent, testLogger, uniqueTopicPrefix, waitFor } from "@apimon/testkit";
import { Kafka, logLevel } from "kafkajs";

const SCRIPT = path.resolve(__dirname, "../../deploy/kafka/kafka.sh");
// Generous: three JVMs start on a shared 2-core machine; the outcome is asserted, not the speed.
jest.setTimeout(400_000);

interface RunResult {
  status: number | null;
  output: string;
}

describe("kafka.sh cluster", () => {
  let runtimeDir: string;
  let env: NodeJS.ProcessEnv;
  let brokers: string[];

  const run = (...args: string[]): Promise<RunResult> =>
    new Promise((resolve, reject) => {
      const child = spawn("bash", [SCRIPT, "cluster", ...args], { env, cwd: os.tmpdir() });
      let output = "";
      child.stdout.on("data", (d: Buffer) => {
        output += d.toString();
      });
      child.stderr.on("data", (d: Buffer) => {
        output += d.toString();
      });
      child.once("error", reject);
      child.once("close", (status) => resolve({ status, output }));
    });
  const ok = async (...args: string[]): Promise<string> => {
    const r = await run(...args);
    if (r.status !== 0) throw new Error(`kafka.sh cluster ${args.join(" ")} exited ${r.status}\n${r.output}`);
    return r.output;
  };

  beforeAll(async () => {
    runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), "apimon-cluster-test-"));
    const ports: number[] = [];
    while (ports.length < 6) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    env = {
      ...process.env,
      KAFKA_CLUSTER_RUNTIME_DIR: runtimeDir,
      KAFKA_CLUSTER_PORTS: ports.slice(0, 3).join(","),
      KAFKA_CLUSTER_CONTROLLER_PORTS: ports.slice(3).join(","),
      KAFKA_CLUSTER_HEAP_OPTS: "-Xms128m -Xmx384m",
      KAFKA_JVM_OPTS: "-XX:TieredStopAtLevel=1", // as a private test broker's (testkit)
      KAFKA_START_TIMEOUT: "240",
    };
    brokers = ports.slice(0, 3).map((p) => `127.0.0.1:${p}`);
  });

  afterAll(async () => {
    if (!runtimeDir) return;
    const r = await run("reset");
    if (r.status !== 0) console.error(`kafka.sh cluster reset in afterAll failed:\n${r.output}`);
    fs.rmSync(runtimeDir, { recursive: true, force: true });
  });

  it("reports a cluster that never ran as stopped (exit 3) and refuses an unknown node", async () => {
    expect((await run("status")).status).toBe(3);
    const bad = await run("stop-node", "4");
    expect(bad.status).toBe(1);
    expect(bad.output).toMatch(/node must be 1, 2 or 3/);
  });

  it("starts three nodes that serve, and names them for KAFKA_BROKERS", async () => {
    const started = await ok("start");
    expect(started).toContain(`cluster ready`);
    expect((await ok("brokers")).trim()).toBe(brokers.join(","));
    const status = await run("status");
    expect(status.status).toBe(0);
    for (let n = 1; n <= 3; n++) expect(status.output).toMatch(new RegExp(`node ${n}: running \\(pid \\d+`));

    const admin = new Kafka({ clientId: "cluster-test", brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const cluster = await admin.describeCluster();
    await admin.disconnect();
    expect(cluster.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);
  });

  it("keeps taking acks=all writes with one node SIGKILLed, and takes the node back", async () => {
    const logger = testLogger("cluster-test");
    const kafka = createKafka({ brokers, clientId: "cluster-test", logger });
    const prefix = uniqueTopicPrefix("cluster");
    await ensureTopics(kafka, { prefix, specs: [topics.usageEvents], replicationFactor: 3 });
    const name = topicName(topics.usageEvents, prefix);

    const admin = kafka.admin();
    await admin.connect();
    // Asked of any node, which may not have the new topic's metadata yet ("does not host this
    // topic-partition"; kafkajs does not retry that for describeConfigs).
    const { resources } = await waitFor(
      () =>
        admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: 2, name, configNames: ["min.insync.replicas"] }],
        }),
      { what: "the new topic's config" },
    );
    const { topics: meta } = await admin.fetchTopicMetadata({ topics: [name] });
    await admin.disconnect();
    expect(resources[0]?.configEntries[0]?.configValue).toBe("2");
    expect(meta[0]?.partitions.every((p) => p.replicas.length === 3)).toBe(true);

    const killed = await ok("stop-node", "2", "--kill");
    expect(killed).toMatch(/node 2: SIGKILL/);
    const degraded = await run("status");
    expect(degraded.status).toBe(4);
    expect(degraded.output).toMatch(/node 2: stopped/);

    // The controller moves leadership once node 2's session expires; then two copies in sync
    // are enough for acks=all.
    await waitFor(
      async () => {
        const watcher = kafka.admin();
        await watcher.connect();
        try {
          const { topics: now } = await watcher.fetchTopicMetadata({ topics: [name] });
          return now[0]?.partitions.every((p) => p.leader !== 2 && p.isr.length === 2 && !p.isr.includes(2));
        } finally {
          await watcher.disconnect();
        }
      },
      { timeoutMs: 120_000, intervalMs: 500, what: "leaders and in-sync replicas without node 2" },
    );
    const producer = createBatchingProducer({ kafka, logger, topicPrefix: prefix });
    const events = Array.from({ length: 30 }, (_, i) => makeUsageEvent({ apiKeyId: i + 1 }));
    await Promise.all(events.map((e) => producer.publish(topics.usageEvents, e)));
    await producer.disconnect();
    const offsets = await fetchEndOffsets(kafka, name);
    expect(offsets.reduce((n, p) => n + Number(p.high - p.low), 0)).toBe(30);

    expect(await ok("start-node", "2")).toMatch(/node 2 ready/);
    expect((await run("status")).status).toBe(0);
  });

  it("stops every node (exit 3 afterwards), idempotently", async () => {
    await ok("stop");
    expect((await run("status")).status).toBe(3);
    expect(await ok("stop")).toMatch(/node 1: not running/);
  });
});
