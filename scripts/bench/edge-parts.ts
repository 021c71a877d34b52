// `pnpm bench:edge-parts`: what each of the edge's parts costs per request, beside the bare proxy
// of `pnpm bench:edge`. One proxy process per stage of parts-proxy.ts (bare, then one part added
// at a time), all behind the same demo upstream, measured in interleaved rounds:
//
//  - peak: autocannon, closed loop, BENCH_CONNECTIONS connections (as in bench:edge);
//  - paced: BENCH_PARTS_RATE requests per second evenly spaced, below every stage's peak, so that
//    each stage does the same work per second and CPU per request is comparable without the
//    batching a saturated event loop does.
//
// CPU per request is that proxy's CPU time (/proc/<pid>/stat, every thread) over the measured
// window divided by its answers; a part's cost is its stage's figure minus the stage before it
// (ioredis is the alternative to redis and is compared with bare). Needs `pnpm infra up`; the
// run's topic, Redis keys and spool directory are removed at the end.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { envTypes, parseEnv } from "@apimon/config";
import { topics } from "@apimon/events";
import { createKafka, ensureTopics } from "@apimon/kafka";
import { createLogger } from "@apimon/observability";
import { createRedisClient } from "@apimon/redis";
import { freePort } from "@apimon/testkit";
import { type LoadResult, runAutocannon, runPaced } from "./http-load";
import { checkInfrastructure, deleteRedisKeys, loadHttpBenchConfig } from "./infra";
import { STAGES, type Stage } from "./parts-proxy";
import { processCpu, type Service, spawnService, stopService, waitReady } from "./processes";
import { median, problemsOf, runBench, table } from "./report";

const BENCH_PATH = "/api/users/1";
const out = (line = "") => process.stdout.write(`${line}\n`);

function loadConfig(env = process.env) {
  return {
    ...loadHttpBenchConfig({ durationS: 8, rounds: 3 }, env),
    rate: parseEnv({ BENCH_PARTS_RATE: envTypes.positiveInt(2000) }, env).BENCH_PARTS_RATE,
  };
}

/** The µs of CPU per answer `pid` spent on `run`. */
async function cpuPerRequest(pid: number, run: () => Promise<LoadResult>) {
  const before = processCpu(pid)?.seconds ?? Number.NaN;
  const result = await run();
  const after = processCpu(pid)?.seconds ?? Number.NaN;
  return { result, us: ((after - before) * 1e6) / Math.max(1, result.responses) };
}

/** The stage a stage's part is added to. */
const BASE_OF: Record<Stage, Stage | undefined> = {
  bare: undefined,
  ioredis: "bare",
  redis: "bare",
  event: "redis",
  validated: "event",
  kafka: "validated",
};

async function main(): Promise<number> {
  const config = loadConfig();
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const topicPrefix = `bench-parts-${runId}.`;
  const redisPrefix = `bench-parts-${runId}:`;
  const spoolDir = mkdtempSync(join(tmpdir(), "bench-parts-"));
  const logger = createLogger({ service: "bench-edge-parts", level: "silent" });
  const kafka = createKafka({ brokers: config.brokers, clientId: "bench-edge-parts", logger });
  const redis = createRedisClient({ url: config.redisUrl });
  const services: Service[] = [];
  const created: string[] = [];
  try {
    await checkInfrastructure(kafka, redis, config);
    created.push(
      ...(await ensureTopics(kafka, { prefix: topicPrefix, specs: [topics.usageEvents] })).created,
    );
    const baseEnv: NodeJS.ProcessEnv = {
      ...process.env,
      LOG_LEVEL: "warn",
      KAFKA_BROKERS: config.brokers.join(","),
      KAFKA_TOPIC_PREFIX: topicPrefix,
      REDIS_URL: config.redisUrl,
      RATE_LIMIT_REDIS_PREFIX: redisPrefix,
    };
    const upstreamPort = await freePort();
    const upstream = spawnService("demo-upstream", "services/demo-upstream/src/main.ts", {
      ...baseEnv,
      DEMO_UPSTREAM_PORT: String(upstreamPort),
      DEMO_UPSTREAM_HOST: "127.0.0.1",
    });
    services.push(upstream);
    await waitReady(upstream, `http://127.0.0.1:${upstreamPort}`);
    const proxies = new Map<Stage, { service: Service; url: string }>();
    for (const stage of STAGES) {
      const port = await freePort();
      const service = spawnService(`parts-proxy ${stage}`, "scripts/bench/parts-proxy.ts", {
        ...baseEnv,
        PARTS_STAGE: stage,
        PARTS_PROXY_PORT: String(port),
        UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}`,
        USAGE_SPOOL_DIR: join(spoolDir, stage),
      });
      services.push(service);
      proxies.set(stage, { service, url: `http://127.0.0.1:${port}` });
    }
    for (const { service, url } of proxies.values()) await waitReady(service, url);
    out(
      `bench: GET ${BENCH_PATH}; ${config.rounds} rounds of every stage; peak: autocannon ${config.connections} ` +
        `connections, ${config.warmupS} s warm-up + ${config.durationS} s; paced: ${config.rate} rps for ${config.durationS} s`,
    );

    /** Per stage, one figure per round. */
    const figures = new Map<Stage, { rps: number[]; peak: number[]; paced: number[] }>(
      STAGES.map((stage) => [stage, { rps: [], peak: [], paced: [] }]),
    );
    const problems: string[] = [];
    for (let round = 1; round <= config.rounds; round++) {
      for (const stage of STAGES) {
        const { service, url } = proxies.get(stage) as { service: Service; url: string };
        const pid = service.child.pid as number;
        const target = { url: `${url}${BENCH_PATH}` };
        const { connections, durationS } = config;
        if (config.warmupS > 0) await runAutocannon(target, { connections, durationS: config.warmupS });
        const atPeak = await cpuPerRequest(pid, () => runAutocannon(target, { connections, durationS }));
        const atRate = await cpuPerRequest(pid, () =>
          runPaced(target, { rate: config.rate, durationS, connections }),
        );
        problems.push(
          ...problemsOf(`${stage} peak`, atPeak.result),
          ...problemsOf(`${stage} paced`, atRate.result),
        );
        const f = figures.get(stage) as { rps: number[]; peak: number[]; paced: number[] };
        f.rps.push(atPeak.result.rps);
        f.peak.push(atPeak.us);
        f.paced.push(atRate.us);
        out(
          `bench: round ${round} ${stage}: peak ${atPeak.result.rps.toFixed(0)} rps, ${atPeak.us.toFixed(1)} µs/req; ` +
            `paced ${atRate.result.rps.toFixed(0)} rps, ${atRate.us.toFixed(1)} µs/req`,
        );
      }
    }

    type Kind = "rps" | "peak" | "paced";
    const figure = (kind: Kind, stage: Stage) => median((figures.get(stage) as Record<Kind, number[]>)[kind]);
    const rows = STAGES.map((stage) => {
      const base = BASE_OF[stage];
      const cost = (kind: Kind) => [
        figure(kind, stage).toFixed(1),
        (figure(kind, stage) / figure(kind, "bare")).toFixed(2),
        base === undefined
          ? ""
          : (figure(kind, stage) - figure(kind, base)).toFixed(1).replace(/^(?!-)/, "+"),
      ];
      return [stage, figure("rps", stage).toFixed(0), ...cost("peak"), ...cost("paced")];
    });
    out();
    out(
      `Edge parts (GET ${BENCH_PATH}; medians of ${config.rounds} rounds; CPU µs per request of each proxy)`,
    );
    out();
    out(
      table(
        ["stage", "peak rps", "peak µs", "× bare", "part", `paced ${config.rate} µs`, "× bare", "part"],
        rows,
      ),
    );
    out(
      "  part: the stage's CPU per request minus that of the stage it adds to (ioredis and redis: bare;\n" +
        "  event: redis; validated: event; kafka: validated).",
    );
    if (problems.length > 0) {
      out(`\nINVALID RUN:\n  ${problems.join("\n  ")}`);
      return 1;
    }
    return 0;
  } finally {
    for (const service of services.reverse()) await stopService(service);
    if (created.length > 0) {
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: created }).catch(() => {});
      await admin.disconnect();
    }
    await deleteRedisKeys(redis, redisPrefix).catch(() => 0);
    redis.disconnect();
    rmSync(spoolDir, { recursive: true, force: true });
  }
}

runBench("bench:edge-parts", main);
