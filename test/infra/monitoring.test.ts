// The monitoring profile: Prometheus configuration and alert rules checked by promtool (Debian's
// prometheus package; .ci/run provides it and sets PROMTOOL), the Grafana dashboard as JSON, and
// every metric they name checked against what the services register.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";

const repo = join(__dirname, "..", "..");
const monitoring = join(repo, "deploy", "monitoring");
const promtool = process.env.PROMTOOL ?? "promtool";

function runPromtool(...args: string[]) {
  const result = spawnSync(promtool, args, { cwd: monitoring, encoding: "utf8" });
  if (result.error)
    throw new Error(`cannot run ${promtool} (install Debian's prometheus package): ${result.error.message}`);
  return result;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Array<{ refId: string; expr?: string; rawSql?: string; datasource: { uid: string } }>;
}

const dashboard = JSON.parse(
  readFileSync(join(monitoring, "grafana", "dashboards", "apimon.json"), "utf8"),
) as {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
};
const rules = parse(readFileSync(join(monitoring, "alert-rules.yml"), "utf8")) as {
  groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
};
const datasources = parse(
  readFileSync(join(monitoring, "grafana", "provisioning", "datasources", "datasources.yml"), "utf8"),
) as { datasources: Array<{ uid: string; type: string }> };

/** Every metric name registered in the services' and packages' sources (prom-client `name:`). */
function registeredMetrics(): Set<string> {
  const names = new Set<string>(["up"]);
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      if (entry === "node_modules" || entry === "dist") continue;
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(".ts") && !path.endsWith(".test.ts")) {
        // A metric is declared with its name as an option, or as the name argument of the
        // observability helpers (`counter(registry, "name", …)`).
        const declared =
          /(?:name: |\b(?:counter|gauge|histogram|metric|hotCounter|hotHistogram)(?:<[^>]*>)?\(\s*[\w.?]+,\s*)"([a-z_]+)"/g;
        for (const match of readFileSync(path, "utf8").matchAll(declared)) names.add(match[1] as string);
      }
    }
  };
  walk(join(repo, "services"));
  walk(join(repo, "packages"));
  return names;
}

/** The metric names an expression reads (histogram series map back to their histogram). */
function metricsIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, "");
  const words = withoutStrings.match(/[a-z_][a-z0-9_]*/g) ?? [];
  const promql = new Set([
    "sum",
    "max",
    "min",
    "by",
    "rate",
    "increase",
    "histogram_quantile",
    "or",
    "and",
    "le",
    "job",
    "topic",
    "instance",
    "outcome",
    "status",
    "reason",
    "channel_type",
    "rate_interval",
  ]);
  return [...new Set(words.filter((w) => w.includes("_") && !promql.has(w) && !w.startsWith("__")))].map(
    (w) => w.replace(/_(bucket|sum|count)$/, ""),
  );
}

const prometheusExprs = dashboard.panels.flatMap((p) =>
  (p.targets ?? []).flatMap((t) => (t.expr ? [t.expr] : [])),
);

describe("monitoring profile", () => {
  it("has a Prometheus configuration that promtool accepts, with its rule file", () => {
    const result = runPromtool("check", "config", "prometheus.yml");
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("SUCCESS: 1 rule files found");
    expect(result.status).toBe(0);
  });

  it("has alert rules for consumer lag, DLQ growth, a degraded limiter, the usage journal, refused connections and admin token guessing that pass promtool's unit tests", () => {
    const check = runPromtool("check", "rules", "alert-rules.yml");
    expect(check.status).toBe(0);
    const names = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(names).toEqual(
      expect.arrayContaining([
        "ApimonConsumerLagHigh",
        "ApimonDeadLettersGrowing",
        "ApimonRateLimiterDegraded",
        "ApimonUsageJournalBacklog",
        "ApimonEdgeRefusingConnections",
        "ApimonAdminTokenGuessing",
      ]),
    );
    const tests = runPromtool("test", "rules", "alert-rules.test.yml");
    expect(tests.stdout).toContain("SUCCESS");
    expect(tests.status).toBe(0);
  });

  it("scrapes every application service's /metrics, the edge on its admin port", () => {
    const config = parse(readFileSync(join(monitoring, "prometheus.yml"), "utf8")) as {
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const targets = Object.fromEntries(
      config.scrape_configs.map((s) => [s.job_name, s.static_configs[0]?.targets]),
    );
    expect(targets).toMatchObject({
      edge: ["edge:9080"],
      keys: ["keys:8082"],
      "usage-recorder": ["usage-recorder:8083"],
      "key-stats": ["key-stats:8084"],
      "anomaly-detector": ["anomaly-detector:8085"],
      alerts: ["alerts:8081"],
      notifier: ["notifier:8086"],
      console: ["console:8087"],
    });
  });

  it("has a Grafana dashboard that is valid dashboard JSON on the provisioned data sources", () => {
    expect(dashboard).toMatchObject({ uid: "apimon-overview", title: "apimon" });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const uids = new Set(datasources.datasources.map((d) => d.uid));
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.w).toBeGreaterThan(0);
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
      if (panel.type === "row") continue;
      expect(uids.has(panel.datasource?.uid ?? "")).toBe(true);
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(uids.has(target.datasource.uid)).toBe(true);
        expect(Boolean(target.expr) !== Boolean(target.rawSql)).toBe(true);
      }
    }
    const titles = dashboard.panels.map((p) => p.title).join("\n");
    for (const topic of [
      /requests per second/i,
      /latency/i,
      /websockets/i,
      /connections refused/i,
      /429/,
      /by key/i,
      /fallback/i,
      /journal/i,
      /lag/i,
      /dead-letter/i,
      /notifications/i,
    ]) {
      expect(titles).toMatch(topic);
    }
  });

  it("writes only PromQL that promtool parses, on metrics the services register", () => {
    // promtool has no expression checker; recording rules get their expressions parsed.
    const dir = mkdtempSync(join(tmpdir(), "apimon-dashboard-"));
    const file = join(dir, "dashboard-exprs.yml");
    const recording = prometheusExprs.map((expr, i) => ({
      record: `dashboard:expr_${i}`,
      expr: expr.replaceAll("$__rate_interval", "5m"),
    }));
    let result: ReturnType<typeof runPromtool>;
    try {
      writeFileSync(file, JSON.stringify({ groups: [{ name: "dashboard", rules: recording }] }));
      result = runPromtool("check", "rules", file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(result.stdout + result.stderr).toContain(`SUCCESS: ${recording.length} rules found`);

    const known = registeredMetrics();
    const ruleExprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
    const unknown = [...prometheusExprs, ...ruleExprs].flatMap(metricsIn).filter((name) => !known.has(name));
    expect(unknown).toEqual([]);
  });

  it("runs Prometheus and Grafana only in the monitoring profile, with these files mounted", () => {
    const compose = parse(readFileSync(join(repo, "docker-compose.yml"), "utf8")) as {
      services: Record<string, { profiles?: string[]; volumes?: string[] }>;
    };
    expect(compose.services.prometheus?.profiles).toEqual(["monitoring"]);
    expect(compose.services.grafana?.profiles).toEqual(["monitoring"]);
    expect(compose.services.prometheus?.volumes).toEqual(
      expect.arrayContaining([
        "./deploy/monitoring/prometheus.yml:/etc/prometheus/prometheus.yml:ro",
        "./deploy/monitoring/alert-rules.yml:/etc/prometheus/alert-rules.yml:ro",
      ]),
    );
    expect(compose.services.grafana?.volumes).toEqual(
      expect.arrayContaining([
        "./deploy/monitoring/grafana/provisioning:/etc/grafana/provisioning:ro",
        "./deploy/monitoring/grafana/dashboards:/var/lib/grafana/dashboards:ro",
      ]),
    );
  });
});
