// `pnpm bench:detector`: how many usage events per second the anomaly detector sustains, against
// the rate at which the same process only consumes and parses them.
//
// Pre-fills fresh topics (unique prefix) with BENCH_EVENTS (200,000) usage events: a realistic
// mix over 100 API keys of skewed weight and 20 endpoints, an hour of event time ending now, ~2 %
// slower than 1 s, ~1 % 5xx (one endpoint of one key failing often), rate-limit counters that
// bring the busiest keys near their minute limit. Then, one after the other in this process:
//   (a) consume + parse: the consumer runner (decode, zod validation, commits) with a no-op handler;
//   (b) the detector: the same runner with the detector's handlers (all five rules, conditions,
//       signals published through the batching producer and flushed before each commit);
//   (c) rebuild: a detector in a fresh group re-reading the same events in replay mode, as after
//       a restart (the state rebuild that keeps it from being blind for an hour).
// Each rate counts from the first handled slice to the moment every partition was handled.
// Prints a table, the ratio b/a, and the goals (b ≥ 20,000 events/s and ≥ 0.5× a).
// Deletes its topics and consumer groups at the end.
//
// Environment: KAFKA_BROKERS, BENCH_EVENTS (default 200000).
import { DEFAULT_ALERT_SETTINGS, RATE_LIMITS } from "@apimon/config";
import { dlqTopic, newEventId, topics, type UsageEvent } from "@apimon/events";
import {
  type ConsumerProgress,
  createBatchingProducer,
  createConsumerRunner,
  createKafka,
  deleteConsumerGroups,
  ensureTopics,
  fetchEndOffsets,
  type KafkaClient,
  subscription,
  topicName,
} from "@apimon/kafka";
import { createLogger, createMetricsRegistry } from "@apimon/observability";
import { seededRandom } from "@apimon/testkit";
import {
  createDetectorService,
  DEFAULT_MAX_BATCH_SIZE,
  DEFAULT_PARTITIONS_CONCURRENTLY,
} from "../../services/anomaly-detector/src/detector-service";
import type { SettingsSource } from "../../services/anomaly-detector/src/settings-source";
import { prefillUsageTopic } from "./prefill";
import { runBench } from "./report";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const KEYS = 100;
const ENDPOINTS = 20;
const GOAL_EVENTS_PER_SECOND = 20_000;
const GOAL_RATIO = 0.5;

const logger = createLogger({ service: "bench-detector", level: process.env.LOG_LEVEL ?? "warn" });

function* usageEvents(count: number): Generator<UsageEvent> {
  const rnd = seededRandom(42);
  const end = Date.now();
  const start = end - 3_600_000;
  // Zipf-like weights: a few busy keys, a long tail of quiet ones.
  const weights = Array.from({ length: KEYS }, (_, i) => 1 / (i + 1) ** 0.8);
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of weights) {
    acc += w / total;
    cumulative.push(acc);
  }
  const endpoints = Array.from({ length: ENDPOINTS }, (_, i) => ({
    method: i % 4 === 3 ? "POST" : "GET",
    endpoint: i % 2 === 0 ? `/resource${i}/:id` : `/resource${i}`,
  }));
  // Per-key minute and hour counters, as the edge would report them.
  const used = new Map<number, { minute: number; minuteStart: number; hour: number; hourStart: number }>();
  for (let i = 0; i < count; i++) {
    const at = start + Math.floor(((end - start) * i) / count);
    const r = rnd();
    let k = cumulative.findIndex((c) => r <= c);
    if (k < 0) k = KEYS - 1;
    const apiKeyId = k + 1;
    const ep = endpoints[Math.floor(rnd() * ENDPOINTS)] ?? endpoints[0];
    const minuteStart = Math.floor(at / 60_000) * 60_000;
    const hourStart = Math.floor(at / 3_600_000) * 3_600_000;
    const u = used.get(apiKeyId) ?? { minute: 0, minuteStart, hour: 0, hourStart };
    if (u.minuteStart !== minuteStart) Object.assign(u, { minute: 0, minuteStart });
    if (u.hourStart !== hourStart) Object.assign(u, { hour: 0, hourStart });
    u.minute++;
    u.hour++;
    used.set(apiKeyId, u);
    // The key-1 limits are raised so the busiest key runs near, not over, its minute limit.
    const minuteLimit = apiKeyId === 1 ? 1200 : RATE_LIMITS.minute;
    const hourLimit = apiKeyId === 1 ? 60_000 : 10_000;
    const failing = apiKeyId === 3 && ep?.endpoint === "/resource5";
    const slow = rnd() < 0.02;
    yield {
      id: newEventId(),
      occurredAt: new Date(at).toISOString(),
      apiKeyId,
      userId: apiKeyId,
      endpoint: ep?.endpoint ?? "/",
      method: ep?.method ?? "GET",
      statusCode: (failing ? rnd() < 0.15 : rnd() < 0.01) ? 503 : 200,
      responseTimeMs: slow ? 1000 + rnd() * 1500 : 5 + rnd() * 120,
      rateLimited: false,
      limits: {
        minute: {
          limit: minuteLimit,
          remaining: Math.max(0, minuteLimit - u.minute),
          reset: Math.ceil((minuteStart + 60_000 - at) / 1000) || 1,
        },
        hour: {
          limit: hourLimit,
          remaining: Math.max(0, hourLimit - u.hour),
          reset: Math.ceil((hourStart + 3_600_000 - at) / 1000) || 1,
        },
        day: { limit: 1_000_000, remaining: 1_000_000 - u.hour, reset: 86_400 },
      },
      clientIp: `10.0.${Math.floor(apiKeyId / 256)}.${apiKeyId % 256}`,
      edgeInstance: "bench",
    };
  }
}

/** Thresholds fixed at the spec's defaults: the bench needs no database. */
const staticSettings: SettingsSource = {
  current: () => DEFAULT_ALERT_SETTINGS.alertThresholds,
  start: async () => {},
  stop: async () => {},
  refresh: async () => false,
  isHealthy: () => true,
  version: () => null,
};

/** Resolves with the elapsed seconds from the first handled slice until every partition reached its end. */
function progressWatch(ends: Map<number, bigint>, topic: string) {
  const reached = new Map<number, bigint>();
  let first: number | undefined;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  let last = 0;
  const check = () => {
    for (const [partition, high] of ends) if ((reached.get(partition) ?? 0n) < high) return;
    last = performance.now();
    done();
  };
  return {
    onProgress(p: ConsumerProgress) {
      if (p.topic !== topic) return;
      first ??= performance.now();
      reached.set(p.partition, BigInt(p.nextOffset));
      check();
    },
    markStart() {
      first ??= performance.now();
    },
    async seconds(): Promise<number> {
      await finished;
      return (last - (first ?? last)) / 1000;
    },
  };
}

async function commitZero(kafka: KafkaClient, groupId: string, topic: string, partitions: number[]) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.setOffsets({
      groupId,
      topic,
      partitions: partitions.map((partition) => ({ partition, offset: "0" })),
    });
  } finally {
    await admin.disconnect();
  }
}

async function main(): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",").map((s) => s.trim());
  const kafka = createKafka({ brokers, clientId: "bench-detector", logger });
  const run = `bench-detector-${Date.now().toString(36)}`;
  const prefix = `${run}.`;
  const groups = [`${run}-consume`, `${run}-detect`, `${run}-rebuild`];
  const usageTopic = topicName(topics.usageEvents, prefix);
  const { created } = await ensureTopics(kafka, {
    prefix,
    specs: [
      topics.usageEvents,
      topics.authFailures,
      topics.alertSignals,
      dlqTopic(topics.usageEvents),
      dlqTopic(topics.authFailures),
    ],
  });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    log(`pre-filling ${usageTopic} with ${EVENTS} usage events ...`);
    await prefillUsageTopic({ kafka, logger, prefix, events: usageEvents(EVENTS) });
    const ends = new Map((await fetchEndOffsets(kafka, usageTopic)).map((p) => [p.partition, p.high]));
    const stored = [...ends.values()].reduce((a, b) => a + b, 0n);
    log(`pre-filled ${stored} events over ${ends.size} partitions`);

    // (a) consume + parse only.
    const consumeWatch = progressWatch(ends, usageTopic);
    const consumer = createConsumerRunner({
      kafka,
      groupId: groups[0] as string,
      logger,
      topicPrefix: prefix,
      subscriptions: [subscription(topics.usageEvents, async () => {})],
      // The detector's runner settings, so that only the handler differs.
      maxBatchSize: DEFAULT_MAX_BATCH_SIZE,
      partitionsConsumedConcurrently: DEFAULT_PARTITIONS_CONCURRENTLY,
      onProgress: consumeWatch.onProgress,
    });
    await consumer.start();
    const consumeSeconds = await consumeWatch.seconds();
    await consumer.stop();
    log(`(a) consume + parse: ${consumeSeconds.toFixed(2)} s`);

    // (b) the detector. Its group starts at offset 0 (as if it had run before), so it handles the
    // events live instead of rebuilding them silently as a brand-new group would.
    await commitZero(kafka, groups[1] as string, usageTopic, [...ends.keys()]);
    const detectWatch = progressWatch(ends, usageTopic);
    const registry = createMetricsRegistry("bench", { defaultMetrics: false });
    const signalProducer = createBatchingProducer({ kafka, logger, topicPrefix: prefix, registry });
    const detector = createDetectorService({
      kafka,
      producer: signalProducer,
      settings: staticSettings,
      logger,
      registry,
      groupId: groups[1] as string,
      topicPrefix: prefix,
      tickMs: 1000,
      onProgress: detectWatch.onProgress,
    });
    await detector.start();
    const detectSeconds = await detectWatch.seconds();
    await detector.stop();
    await signalProducer.disconnect();
    const signals = (await registry.getMetricsAsJSON())
      .find((m) => m.name === "detector_signals_total")
      ?.values.reduce((sum, v) => sum + v.value, 0);
    log(`(b) detector: ${detectSeconds.toFixed(2)} s, ${signals ?? 0} signals`);

    // (c) a brand-new group: the events fall inside the rebuild's lookback and are replayed.
    const rebuildRegistry = createMetricsRegistry("bench", { defaultMetrics: false });
    const rebuildProducer = createBatchingProducer({ kafka, logger, topicPrefix: prefix });
    const rebuilder = createDetectorService({
      kafka,
      producer: rebuildProducer,
      settings: staticSettings,
      logger,
      registry: rebuildRegistry,
      groupId: groups[2] as string,
      topicPrefix: prefix,
      tickMs: 1000,
    });
    await rebuilder.start();
    while (!rebuilder.isReady()) await new Promise((r) => setTimeout(r, 20));
    const metrics = await rebuildRegistry.getMetricsAsJSON();
    // The rebuild's own timing: offsets lookup, the replay group's join, reading and applying.
    const rebuildSeconds =
      metrics
        .find((m) => m.name === "detector_rebuild_seconds")
        ?.values.filter((v) => (v as { metricName?: string }).metricName === "detector_rebuild_seconds_sum")
        .reduce((sum, v) => sum + v.value, 0) ?? Number.NaN;
    const replayed = metrics
      .find((m) => m.name === "detector_rebuild_messages_total")
      ?.values.reduce((sum, v) => sum + v.value, 0);
    await rebuilder.stop();
    await rebuildProducer.disconnect();

    const n = Number(stored);
    const consumeRate = n / consumeSeconds;
    const detectRate = n / detectSeconds;
    const rebuildRate = (replayed ?? 0) / rebuildSeconds;
    const ratio = detectRate / consumeRate;
    const fmt = (x: number) => Math.round(x).toLocaleString("en-US").padStart(10);
    const out = [
      "",
      `anomaly detector: ${n.toLocaleString("en-US")} usage events, ${ends.size} partitions, ${KEYS} keys, ${ENDPOINTS} endpoints`,
      "",
      "run                                   events/s   seconds  notes",
      `(a) consume + parse only            ${fmt(consumeRate)}  ${consumeSeconds.toFixed(2).padStart(8)}  no-op handler`,
      `(b) detector (rules + signals)      ${fmt(detectRate)}  ${detectSeconds.toFixed(2).padStart(8)}  ${signals ?? 0} signals published`,
      `(c) rebuild after restart (replay)  ${fmt(rebuildRate)}  ${rebuildSeconds.toFixed(2).padStart(8)}  ${replayed ?? 0} events replayed, incl. group join`,
      "",
      `b / a = ${ratio.toFixed(2)}   goal >= ${GOAL_RATIO}: ${ratio >= GOAL_RATIO ? "met" : "NOT met"}`,
      `b = ${Math.round(detectRate).toLocaleString("en-US")} events/s   goal >= ${GOAL_EVENTS_PER_SECOND.toLocaleString("en-US")}: ${detectRate >= GOAL_EVENTS_PER_SECOND ? "met" : "NOT met"}`,
    ];
    process.stdout.write(`${out.join("\n")}\n`);
  } finally {
    await deleteConsumerGroups(kafka, groups).catch(() => []);
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: created }).catch(() => {});
    await admin.disconnect();
  }
}

runBench("bench:detector", main);
