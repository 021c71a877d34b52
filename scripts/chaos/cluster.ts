// `pnpm chaos:cluster [--kill node <n> | --kill leader-of-offsets] [--seconds 60] [--outage 30]`
//
// The whole product against the three-node cluster (`pnpm kafka cluster start`, started here if
// it is not running), with steady traffic through the edge while one node is SIGKILLed for
// `--outage` seconds in the middle of the run and then started again. Then it checks, and
// prints: every call answered normally; api_usage rows = calls and each key's usage_count = its
// calls, exactly; a response-time alert for a slow call made while the node was down; and the
// duplicate publishes seen on the usage topic. Exits 1 when a check fails.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { topics } from "@apimon/events";
import { fetchEndOffsets, topicName } from "@apimon/kafka";
import { testInfra, uniqueName, waitFor } from "@apimon/testkit";
import { startFullStack } from "../../test/e2e/lib/full-stack";

const repoDir = join(__dirname, "..", "..");
const kafkaScript = join(repoDir, "deploy", "kafka", "kafka.sh");
const out = (line: string) => process.stdout.write(`${line}\n`);
const since = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parseArgs(argv: string[]) {
  let kill: { node: number } | "leader-of-offsets" = { node: 2 };
  let seconds = 60;
  let outage = 30;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--kill") {
      const what = next();
      if (what === "leader-of-offsets") kill = what;
      else if (what === "node") kill = { node: Number(next()) };
      else throw new Error(`--kill node <1..3> | --kill leader-of-offsets (got ${what})`);
    } else if (a === "--seconds") seconds = Number(next());
    else if (a === "--outage") outage = Number(next());
    else throw new Error(`unknown argument ${a}`);
  }
  if (typeof kill === "object" && ![1, 2, 3].includes(kill.node))
    throw new Error("--kill node takes 1, 2 or 3");
  if (!(outage > 0 && seconds > outage)) throw new Error("--seconds must exceed --outage");
  return { kill, seconds, outage };
}

/** Runs `kafka.sh cluster <args>` without blocking the event loop (traffic keeps flowing). */
function cluster(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", [kafkaScript, "cluster", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    child.once("exit", (code) => resolve({ code, output }));
  });
}

async function main(): Promise<void> {
  const { kill, seconds, outage } = parseArgs(process.argv.slice(2));
  const brokers = spawnSync("bash", [kafkaScript, "cluster", "brokers"], { encoding: "utf8" }).stdout.trim();
  if ((await cluster(["status"])).code !== 0) {
    out("starting the three-node cluster ...");
    const started = await cluster(["start"]);
    if (started.code !== 0) throw new Error(`kafka.sh cluster start failed\n${started.output}`);
  }
  // The testkit reads these when it loads, so package.json's script sets them.
  if (testInfra.kafkaBrokers.join(",") !== brokers || testInfra.kafkaReplicationFactor !== 3) {
    throw new Error(`run with KAFKA_BROKERS=${brokers} KAFKA_REPLICATION_FACTOR=3 (pnpm chaos:cluster does)`);
  }

  out(
    `cluster: KAFKA_BROKERS=${brokers}; load: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const stack = await startFullStack({
    label: "chaos",
    services: ["demo-upstream", "keys", "edge", "usage-recorder", "key-stats", "anomaly-detector", "alerts"],
    env: {
      "anomaly-detector": { DETECTOR_SETTINGS_POLL_MS: "300", DETECTOR_TICK_MS: "300" },
      alerts: { ALERTS_SCHEDULER_MS: "300" },
    },
  });
  let failed = false;
  const check = (ok: boolean, what: string) => {
    out(`${ok ? "PASS" : "FAIL"}  ${what}`);
    if (!ok) failed = true;
  };
  try {
    const limits = { minute: 100_000, hour: 1_000_000, day: 10_000_000 };
    const keys = [];
    for (let i = 0; i < 4; i++) keys.push(await stack.newKey(limits));
    const slowKey = await stack.newKey(limits);
    const calls = new Map<number, number>(keys.map((k) => [k.id, 0]));
    calls.set(slowKey.id, 0);
    const statuses = new Map<string, number>();
    const edge = stack.url("edge");
    const call = async (key: { key: string; id: number }, path: string) => {
      calls.set(key.id, (calls.get(key.id) ?? 0) + 1);
      let status: string;
      try {
        status = String((await fetch(`${edge}${path}`, { headers: { "x-api-key": key.key } })).status);
      } catch (error) {
        status = `error: ${error instanceof Error ? error.message : String(error)}`;
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      return status;
    };

    // Which node to kill: fixed, or whoever leads __consumer_offsets partition 0 right now.
    let node = typeof kill === "object" ? kill.node : 0;
    if (kill === "leader-of-offsets") {
      const admin = stack.kafka.admin();
      await admin.connect();
      const { topics: meta } = await admin.fetchTopicMetadata({ topics: ["__consumer_offsets"] });
      await admin.disconnect();
      node = meta[0]?.partitions.find((p) => p.partitionId === 0)?.leader ?? -1;
      out(`leader of __consumer_offsets partition 0: node ${node}`);
      if (![1, 2, 3].includes(node)) throw new Error("no leader for __consumer_offsets partition 0");
    }

    let slowAnsweredAt = 0;
    let alertFirstListedAt = 0;
    let alertWaitOver = false;
    const slowKeyAlerts = () =>
      stack.admin<{ items: { type: string; endpoint: string | null }[] }>(
        "alerts",
        "GET",
        `/api/v1/alerts?apiKeyId=${slowKey.id}`,
      );
    // Watches for the alert from the slow call on, so the run tells how long it took even when
    // it arrives while the node is still down.
    const watchAlert = async () => {
      while (alertFirstListedAt === 0 && !alertWaitOver) {
        const listed = await slowKeyAlerts().then(
          ({ items }) => items.length > 0,
          () => false,
        );
        if (listed) alertFirstListedAt = Date.now();
        else await sleep(300);
      }
    };
    let alertWatch: Promise<void> = Promise.resolve();
    const t0 = Date.now();
    const killAt = ((seconds - outage) / 2) * 1000;
    const intervalMs = 200;
    out(
      `traffic: ${keys.length} keys, one call each per ${intervalMs} ms, for ${seconds} s; node ${node} SIGKILLed at ${killAt / 1000} s for ${outage} s`,
    );
    const traffic = keys.map(async (key, k) => {
      for (let i = 0; Date.now() - t0 < seconds * 1000; i++) {
        const due = t0 + i * intervalMs + k * (intervalMs / keys.length);
        if (due > Date.now()) await sleep(due - Date.now());
        await call(key, i % 2 === 0 ? "/api/users" : `/api/users/${(i % 3) + 1}`);
      }
    });
    const chaos = (async () => {
      await sleep(killAt);
      const killed = await cluster(["stop-node", String(node), "--kill"]);
      out(`${since(t0)}  node ${node} SIGKILLed (exit ${killed.code})`);
      await sleep(5000);
      const slowStatus = await call(slowKey, "/api/slow?ms=1200");
      out(`${since(t0)}  slow call (1.2 s) while node ${node} is down: ${slowStatus}`);
      slowAnsweredAt = Date.now();
      alertWatch = watchAlert();
      await sleep(Math.max(0, killAt + outage * 1000 - (Date.now() - t0)));
      out(`${since(t0)}  starting node ${node} again`);
      const started = await cluster(["start-node", String(node)]);
      out(
        `${since(t0)}  node ${node} ready (exit ${started.code})${started.code === 0 ? "" : `\n${started.output}`}`,
      );
    })();
    await Promise.all(traffic);
    const trafficDone = Date.now();
    out(`${since(t0)}  traffic done`);

    const total = [...calls.values()].reduce((a, b) => a + b, 0);
    out(`calls: ${total} (${[...calls].map(([id, n]) => `key ${id}: ${n}`).join(", ")})`);
    out(`answers: ${[...statuses].map(([s, n]) => `${s} × ${n}`).join(", ")}`);
    check(statuses.size === 1 && statuses.get("200") === total, "every call answered 200");

    const ids = [...calls.keys()];
    const rows = async () =>
      Number(
        (
          await stack.db.prisma.$queryRaw<{ n: bigint }[]>`
            select count(*) as n from api_usage where api_key_id = any(${ids}::int[])`
        )[0]?.n ?? 0,
      );
    const counts = async () =>
      new Map(
        (
          await stack.db.prisma.apiKey.findMany({
            where: { id: { in: ids } },
            select: { id: true, usageCount: true },
          })
        ).map((k) => [k.id, Number(k.usageCount)]),
      );
    await waitFor(
      async () =>
        (await rows()) >= total && [...(await counts()).values()].reduce((a, b) => a + b, 0) >= total,
      { timeoutMs: 300_000, intervalMs: 500, what: "api_usage and usage_count to catch up" },
    ).catch((error: unknown) => out(`(${error instanceof Error ? error.message : String(error)})`));
    out(
      `${since(t0)}  api_usage and usage_count caught up, ${((Date.now() - trafficDone) / 1000).toFixed(1)} s after the traffic`,
    );
    await chaos;
    await sleep(2000); // a wrongly repeated batch would show up now
    const finalRows = await rows();
    const finalCounts = await counts();
    check(finalRows === total, `api_usage rows = calls (${finalRows} of ${total})`);
    for (const [id, n] of calls) {
      check(finalCounts.get(id) === n, `key ${id}: usage_count ${finalCounts.get(id)} = calls ${n}`);
    }

    const alerts = await waitFor(
      async () => {
        const { items } = await slowKeyAlerts();
        return items.length > 0 && items;
      },
      { timeoutMs: 120_000, intervalMs: 300, what: "the response_time alert" },
    ).catch(() => []);
    alertWaitOver = true;
    await alertWatch;
    if (alertFirstListedAt > 0) {
      out(
        `alert first listed ${((alertFirstListedAt - slowAnsweredAt) / 1000).toFixed(1)} s after the slow call`,
      );
    }
    if (!alerts.some((a) => a.type === "response_time")) {
      for (const name of ["anomaly-detector", "alerts"] as const) {
        const lines = stack.services.get(name)?.process.output().trim().split("\n") ?? [];
        out(`--- last lines of ${name} ---\n${lines.slice(-25).join("\n")}`);
      }
    }
    check(
      alerts.some((a) => a.type === "response_time"),
      `response_time alert raised for the slow call (${alerts.map((a) => `${a.type} ${a.endpoint}`).join(", ") || "none"})`,
    );

    // Every record of the usage topic, to count the events published more than once.
    const usageTopic = topicName(topics.usageEvents, stack.prefix);
    const offsets = await fetchEndOffsets(stack.kafka, usageTopic);
    const records = offsets.reduce((n, p) => n + Number(p.high - p.low), 0);
    const seen = new Map<string, number>();
    let read = 0;
    const consumer = stack.kafka.consumer({ groupId: uniqueName("chaos-reader") });
    await consumer.connect();
    await consumer.subscribe({ topic: usageTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        read++;
        const id = (JSON.parse(String(message.value)) as { id: string }).id;
        seen.set(id, (seen.get(id) ?? 0) + 1);
      },
    });
    await waitFor(() => read >= records, { timeoutMs: 120_000, what: "the usage topic" });
    await consumer.disconnect();
    const duplicates = [...seen.values()].reduce((n, c) => n + (c - 1), 0);
    out(`usage topic: ${records} records, ${seen.size} distinct events, ${duplicates} duplicate publishes`);
    check(seen.size === total, `distinct events on the usage topic = calls (${seen.size} of ${total})`);
    out(
      `load at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
  } finally {
    // Every service's output, for reading a run after the fact.
    const logDir = join(repoDir, ".runtime", "chaos", new Date().toISOString().replace(/[:.]/g, "-"));
    mkdirSync(logDir, { recursive: true });
    for (const [name, service] of stack.services)
      writeFileSync(join(logDir, `${name}.log`), service.process.output());
    out(`service logs: ${logDir}`);
    await stack.stop();
  }
  out(failed ? "RESULT: FAIL" : "RESULT: PASS");
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
