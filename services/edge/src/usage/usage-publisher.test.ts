import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { TopicSpec, UsageEvent } from "@apimon/events";
import type { BatchingProducer } from "@apimon/kafka";
import { createMetricsRegistry, type Registry } from "@apimon/observability";
import { makeUsageEvent, metricValue, testLogger, waitFor } from "@apimon/testkit";
import { openUsageSpool } from "./spool";
import { createUsagePublisher } from "./usage-publisher";

const logger = testLogger("usage-publisher-test");
let dir: string;
let registry: Registry;

/** A producer port that delivers into `delivered` unless `down` (unit tests may fake a port). */
function fakeProducer() {
  const state = { down: false, delivered: [] as string[], sends: [] as number[] };
  const producer = {
    connect: async () => {},
    publish: async <T>(_topic: TopicSpec<T>, value: T) => {
      await new Promise((r) => setImmediate(r));
      if (state.down) throw new Error("kafka down");
      state.delivered.push((value as UsageEvent).id);
    },
    publishAll: async <T>(_topic: TopicSpec<T>, values: readonly T[]) => {
      await new Promise((r) => setImmediate(r));
      if (state.down) throw new Error("kafka down");
      state.sends.push(values.length);
      for (const value of values) state.delivered.push((value as UsageEvent).id);
    },
    flush: async () => {},
    disconnect: async () => {},
    depth: () => 0,
  } satisfies BatchingProducer;
  return { producer, state };
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "apimon-usage-pub-"));
  registry = createMetricsRegistry("edge", { defaultMetrics: false });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("usage publisher", () => {
  it("sends directly, spools while Kafka fails, and replays in order before new events", async () => {
    const { producer, state } = fakeProducer();
    const spool = openUsageSpool({ dir, logger, registry });
    const publisher = createUsagePublisher({ producer, spool, logger, registry, retryMs: 20, chunkSize: 10 });
    const recorded: string[] = [];
    const record = (n: number) => {
      for (let i = 0; i < n; i++) {
        const e = makeUsageEvent();
        recorded.push(e.id);
        publisher.record(e);
      }
    };

    record(25);
    await waitFor(() => state.delivered.length === 25, { what: "direct sends" });
    expect(publisher.isHealthy()).toBe(true);

    state.down = true;
    record(40);
    await waitFor(() => !publisher.isHealthy() && spool.depth() > 0, { what: "spooling" });
    record(40);
    await publisher.flush();
    expect(spool.depth()).toBe(80);
    expect(await metricValue(registry, "edge_usage_spool_depth")).toBe(80);

    state.down = false;
    record(5);
    await waitFor(() => publisher.isHealthy() && publisher.depth() === 0, { what: "the spool drained" });
    expect(state.delivered).toEqual(recorded);
    expect(await metricValue(registry, "edge_usage_events_total", { result: "published" })).toBe(110);
    await publisher.close();
  });

  it("on close while Kafka is down leaves events in the spool for the next publisher", async () => {
    const { producer, state } = fakeProducer();
    state.down = true;
    const first = createUsagePublisher({
      producer,
      spool: openUsageSpool({ dir, logger, registry }),
      logger,
      registry,
      retryMs: 10_000,
    });
    const recorded = Array.from({ length: 30 }, () => makeUsageEvent());
    for (const e of recorded) first.record(e);
    await first.close();
    expect(() => first.record(makeUsageEvent())).not.toThrow();

    state.down = false;
    const registry2 = createMetricsRegistry("edge", { defaultMetrics: false });
    const second = createUsagePublisher({
      producer,
      spool: openUsageSpool({ dir, logger, registry: registry2 }),
      logger,
      registry: registry2,
      retryMs: 20,
    });
    expect(second.isHealthy()).toBe(false);
    await waitFor(() => second.depth() === 0 && second.isHealthy(), { what: "the replay" });
    expect(state.delivered).toEqual(recorded.map((e) => e.id));
    await second.close();
  });

  describe("with a linger", () => {
    const record = (publisher: ReturnType<typeof createUsagePublisher>, n: number) => {
      for (let i = 0; i < n; i++) publisher.record(makeUsageEvent());
    };

    it("sends the events recorded while the oldest waits in one chunk", async () => {
      const { producer, state } = fakeProducer();
      const spool = openUsageSpool({ dir, logger, registry });
      const publisher = createUsagePublisher({ producer, spool, logger, registry, lingerMs: 1_000 });
      record(publisher, 3);
      // A later turn of the event loop, well within the linger even on a stalled machine.
      await new Promise((r) => setTimeout(r, 20));
      record(publisher, 4);
      expect(state.sends).toEqual([]);
      expect(publisher.depth()).toBe(7);
      await waitFor(() => state.delivered.length === 7, { what: "the lingering chunk" });
      expect(state.sends).toEqual([7]);
      await publisher.close();
    });

    it("sends a full chunk at once, and what waits on flush and on close", async () => {
      const { producer, state } = fakeProducer();
      const spool = openUsageSpool({ dir, logger, registry });
      const publisher = createUsagePublisher({
        producer,
        spool,
        logger,
        registry,
        lingerMs: 60_000,
        chunkSize: 10,
      });
      record(publisher, 25);
      await waitFor(() => state.delivered.length === 20, { what: "the two full chunks" });
      expect(state.sends).toEqual([10, 10]);
      await publisher.flush();
      expect(state.sends).toEqual([10, 10, 5]);
      record(publisher, 2);
      await publisher.close();
      expect(state.sends).toEqual([10, 10, 5, 2]);
      expect(spool.depth()).toBe(0);
    });
  });
});
