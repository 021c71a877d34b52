import { Counter, Histogram, Registry } from "prom-client";
import { HotCounter, HotHistogram, hotCounter, hotHistogram } from "./hot-metrics";
import { counter, createMetricsRegistry } from "./metrics";

function registryWithService(): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: "edge" });
  return registry;
}

const BUCKETS = [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.1];
const OBSERVATIONS = [0, 0.0001, 0.0002, 0.00021, 0.003, 0.003, 0.01, 0.2, 7, 0.0499];

describe("hot metrics", () => {
  it("print a histogram exactly as prom-client's histogram prints the same observations", async () => {
    const reference = registryWithService();
    const hot = registryWithService();
    const theirs = new Histogram({
      name: "t_seconds",
      help: "time",
      buckets: BUCKETS,
      registers: [reference],
    });
    const ours = hotHistogram(hot, "t_seconds", "time", BUCKETS);
    for (const value of OBSERVATIONS) {
      theirs.observe(value);
      ours.observe(value);
    }
    expect(await hot.metrics()).toBe(await reference.metrics());
    // prom-client's own histogram adds an empty exemplar to each value.
    const withoutExemplars = (await reference.getMetricsAsJSON()).map((metric) => ({
      ...metric,
      values: metric.values.map((value) => {
        const { exemplar: _, ...rest } = value as typeof value & { exemplar?: unknown };
        return rest;
      }),
    }));
    expect(await hot.getMetricsAsJSON()).toEqual(withoutExemplars);
  });

  it("print a labelled counter exactly as prom-client's counter prints the same increments", async () => {
    const reference = registryWithService();
    const hot = registryWithService();
    const theirs = new Counter({
      name: "r_total",
      help: "requests",
      labelNames: ["status", "outcome"],
      registers: [reference],
    });
    const ours = hotCounter(hot, "r_total", "requests", ["status", "outcome"]);
    const increments: [string, string][] = [
      ["200", "response"],
      ["401", "auth_missing"],
      ["200", "response"],
      ["502", "upstream_error"],
      ["200", "timeout"],
    ];
    for (const [status, outcome] of increments) {
      theirs.inc({ status, outcome });
      ours.inc(status, outcome);
    }
    theirs.inc({ status: "200", outcome: "response" }, 5);
    ours.add(5, ["200", "response"]);
    expect(await hot.metrics()).toBe(await reference.metrics());
    expect(await hot.getMetricsAsJSON()).toEqual(await reference.getMetricsAsJSON());
  });

  it("sit in a registry beside prom-client's metrics and its default ones", async () => {
    const registry = createMetricsRegistry("edge");
    counter(registry, "other_total", "other").inc();
    hotHistogram(registry, "t_seconds", "time", [1]).observe(0.5);
    hotCounter(registry, "r_total", "requests", ["status"]).inc("200");
    const text = await registry.metrics();
    expect(text).toContain('t_seconds_bucket{le="1",service="edge"} 1');
    expect(text).toContain('t_seconds_count{service="edge"} 1');
    expect(text).toContain('r_total{status="200",service="edge"} 1');
    expect(text).toContain('other_total{service="edge"} 1');
    expect(text).toContain("process_cpu_seconds_total");
  });

  it("are shared by name within a registry and start again on reset", async () => {
    const registry = registryWithService();
    const first = hotCounter(registry, "r_total", "requests", ["status"]);
    const second = hotCounter(registry, "r_total", "requests", ["status"]);
    expect(second).toBe(first);
    first.inc("200");
    second.inc("200");
    expect(await registry.getSingleMetricAsString("r_total")).toContain(
      'r_total{status="200",service="edge"} 2',
    );
    const histogram = hotHistogram(registry, "t_seconds", "time", [1]);
    histogram.observe(2);
    registry.resetMetrics();
    expect(await registry.getSingleMetricAsString("r_total")).not.toContain("r_total{");
    expect(await registry.getSingleMetricAsString("t_seconds")).toContain(
      't_seconds_count{service="edge"} 0',
    );
  });

  it("refuse a name already taken by another kind of metric", () => {
    const registry = registryWithService();
    counter(registry, "taken_total", "a prom-client counter");
    expect(() => hotCounter(registry, "taken_total", "again", ["status"])).toThrow(/another kind/);
    hotHistogram(registry, "t_seconds", "time", [1]);
    expect(() => hotCounter(registry, "t_seconds", "again", ["status"])).toThrow(/another kind/);
  });

  it("refuse values a Prometheus series cannot hold", () => {
    const histogram = new HotHistogram("t_seconds", "time", [1]);
    expect(() => histogram.observe(Number.NaN)).toThrow(TypeError);
    expect(() => histogram.observe(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    const requests = new HotCounter("r_total", "requests", ["status", "outcome"]);
    expect(() => requests.add(-1, ["200", "response"])).toThrow(TypeError);
    expect(() => requests.add(Number.NaN, ["200", "response"])).toThrow(TypeError);
    expect(() => requests.inc("200")).toThrow(/takes 2 label values/);
    expect(() => new HotCounter("n_total", "no labels", [])).toThrow(TypeError);
  });

  it("work without a registry", () => {
    const histogram = hotHistogram(undefined, "t_seconds", "time", [1]);
    histogram.observe(0.5);
    hotCounter(undefined, "r_total", "requests", ["status"]).inc("200");
  });
});
