// `pnpm bench:edge-usage`: what the edge's usage pipeline costs per event, in one process and
// without HTTP around it, so that a change to it shows above the noise of a whole-edge run.
//
// Both stages run the same loop: BENCH_RATE events a second, evenly paced (1 ms timer), each
// built as the edge builds it (usage event builder, a limiter decision's windows):
//
//   baseline   the event is built and dropped
//   pipeline   the event is recorded: the edge's usage publisher and batching producer (its
//              wiring, createUsagePipeline) send it to a real broker
//
// CPU per event is this process' CPU time (process.cpuUsage: every thread) over the measured
// window divided by the events of that window; the pipeline's cost is the difference. Rounds
// interleave the stages; figures are medians. At the end the topic must hold every recorded
// event. Needs `pnpm infra up`; the run's topic and spool directory are removed at the end.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { envTypes, kafkaEnv, parseEnv } from "@apimon/config";
import { topics } from "@apimon/events";
import { createKafka, ensureTopics } from "@apimon/kafka";
import { createLogger, Registry } from "@apimon/observability";
import { loadConfig as loadEdgeConfig } from "../../services/edge/src/config";
import { decide } from "../../services/edge/src/domain/rate-limit";
import { createEndpointNormaliser } from "../../services/edge/src/usage/endpoint";
import { createUsageEventBuilder } from "../../services/edge/src/usage/usage-event";
import { createUsagePipeline } from "../../services/edge/src/wiring";
import { median, runBench, table } from "./report";

const out = (line = "") => process.stdout.write(`${line}\n`);

function loadConfig(env = process.env) {
  const raw = parseEnv(
    {
      ...kafkaEnv,
      BENCH_RATE: envTypes.positiveInt(4000),
      BENCH_DURATION_S: envTypes.positiveInt(8),
      BENCH_WARMUP_S: envTypes.nonNegativeInt(2),
      BENCH_ROUNDS: envTypes.positiveInt(3),
    },
    env,
  );
  return {
    brokers: raw.KAFKA_BROKERS,
    rate: raw.BENCH_RATE,
    durationS: raw.BENCH_DURATION_S,
    warmupS: raw.BENCH_WARMUP_S,
    rounds: raw.BENCH_ROUNDS,
  };
}

type Stage = "baseline" | "pipeline";

async function main(): Promise<number> {
  const config = loadConfig();
  const logger = createLogger({ service: "bench-edge-usage", level: "error" });
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const topicPrefix = `bench-usage-${runId}.`;
  const spoolDir = mkdtempSync(join(tmpdir(), "bench-edge-usage-"));
  const kafka = createKafka({ brokers: config.brokers, clientId: "bench-edge-usage", logger });
  const { created } = await ensureTopics(kafka, { prefix: topicPrefix, specs: [topics.usageEvents] });
  const registry = new Registry();
  // The edge's own settings and defaults (USAGE_LINGER_MS and the Kafka variables pass through).
  const edgeConfig = loadEdgeConfig({
    ...process.env,
    KEY_HASH_SECRET: randomBytes(32).toString("hex"),
    KAFKA_CLIENT_ID: "bench-edge-usage",
    KAFKA_TOPIC_PREFIX: topicPrefix,
    USAGE_SPOOL_DIR: spoolDir,
  });
  const { usage, producer } = createUsagePipeline({ config: edgeConfig, logger, registry });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await usage.close();
    await producer.disconnect();
  };
  try {
    await producer.connect();
    const build = createUsageEventBuilder({
      normaliseEndpoint: createEndpointNormaliser(),
      instanceId: `bench-${runId}`,
    });
    const req = { url: "/api/users/1", method: "GET" } as IncomingMessage;
    const limits = { minute: 1_000_000, hour: 10_000_000, day: 100_000_000 };
    let recorded = 0;

    /** Paces `rate` events a second for `seconds`; the µs of CPU per event. */
    const run = (stage: Stage, seconds: number) =>
      new Promise<number>((resolve) => {
        const start = performance.now();
        const cpu = process.cpuUsage();
        let made = 0;
        const tick = () => {
          const now = performance.now();
          const due = Math.floor(((now - start) / 1000) * config.rate);
          for (; made < due; made++) {
            const decision = decide(limits, { minute: made % 1000, hour: made, day: made }, Date.now());
            const event = build(req, 1 + (made % 50), 1, decision, 200, Date.now(), now, "203.0.113.7");
            if (stage === "pipeline") {
              usage.record(event);
              recorded++;
            }
          }
          if (now - start < seconds * 1000) setTimeout(tick, 1);
          else {
            const used = process.cpuUsage(cpu);
            resolve((used.user + used.system) / Math.max(1, made));
          }
        };
        tick();
      });

    const produceRequests = async () =>
      (await registry.getSingleMetric("kafka_producer_send_seconds")?.get())?.values.find((v) =>
        (v as { metricName?: string }).metricName?.endsWith("_count"),
      )?.value ?? 0;

    out(
      `bench: the edge's usage pipeline; ${config.rounds} rounds of baseline and pipeline, ` +
        `${config.rate} events/s paced, ${config.warmupS} s warm-up + ${config.durationS} s measured, ` +
        `USAGE_LINGER_MS=${edgeConfig.usageLingerMs}`,
    );
    const figures: Record<Stage, number[]> = { baseline: [], pipeline: [] };
    const perRequest: number[] = [];
    for (let round = 1; round <= config.rounds; round++) {
      for (const stage of ["baseline", "pipeline"] as const) {
        if (config.warmupS > 0) await run(stage, config.warmupS);
        const requestsBefore = await produceRequests();
        const eventsBefore = recorded;
        const us = await run(stage, config.durationS);
        await usage.flush();
        figures[stage].push(us);
        let extra = "";
        if (stage === "pipeline") {
          const events = (recorded - eventsBefore) / Math.max(1, (await produceRequests()) - requestsBefore);
          perRequest.push(events);
          extra = `, ${events.toFixed(1)} events per produce request`;
        }
        out(`bench: round ${round} ${stage}: ${us.toFixed(2)} µs of CPU per event${extra}`);
      }
    }

    await close();
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(`${topicPrefix}${topics.usageEvents.name}`);
    await admin.disconnect();
    const onTopic = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);

    const base = median(figures.baseline);
    const piped = median(figures.pipeline);
    out();
    out(`Edge usage pipeline (medians of ${config.rounds} rounds, ${config.rate} events/s)`);
    out();
    out(
      table(
        ["stage", "µs of CPU per event", "× baseline"],
        [
          ["baseline (built, dropped)", base.toFixed(2), "1.00"],
          ["pipeline (built, sent)", piped.toFixed(2), (piped / base).toFixed(2)],
        ],
      ),
    );
    out(`  the pipeline's own cost: ${(piped - base).toFixed(2)} µs per event`);
    out(`  events per produce request: ${median(perRequest).toFixed(1)}`);
    const complete = onTopic === recorded;
    out(`  events on the topic = events recorded: ${onTopic} = ${recorded}: ${complete ? "PASS" : "FAIL"}`);
    return complete ? 0 : 1;
  } finally {
    await close().catch(() => {});
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: created }).catch(() => {});
    await admin.disconnect();
    rmSync(spoolDir, { recursive: true, force: true });
  }
}

runBench("bench:edge-usage", main);
