// docker-compose.yml is validated by Debian's docker-compose 1.29, which needs no engine.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { servicesWithConfig, variablesRead } from "../service-config";
import { composeOver, expectValidConfig, repo } from "./compose-cli";

interface Service {
  image?: string;
  build?: { dockerfile?: string; args?: Record<string, string> };
  command?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  restart?: string;
  volumes?: unknown[];
}

/**
 * The services `docker-compose config` gives with only `envText` as the env file and nothing of
 * this process's environment, so that a developer's .env or shell does not change the answer.
 */
function servicesWith(envText: string): Record<string, Service> {
  const dir = mkdtempSync(join(tmpdir(), "apimon-compose-"));
  try {
    const envFile = join(dir, "settings.env");
    writeFileSync(envFile, envText);
    const result = spawnSync(
      "docker-compose",
      ["-f", join(repo, "docker-compose.yml"), "--env-file", envFile, "config"],
      { cwd: "/", encoding: "utf8", env: { PATH: process.env.PATH } },
    );
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    return (parse(result.stdout) as { services: Record<string, Service> }).services;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const compose = composeOver("docker-compose.yml");

/**
 * What the compose file sets itself so that the stack holds together, which .env does not reach:
 * addresses and ports inside the network, the stack's own Kafka (one plaintext broker, the topics
 * job's names), consumer groups, the journal's volume, the shutdown time its stop grace period
 * is sized for.
 */
const composeWiring =
  /^(DATABASE_URL|DATABASE_SCHEMA|REDIS_URL|ALERTS_URL|KEYS_URL|USAGE_SPOOL_DIR|SHUTDOWN_TIMEOUT_MS)$|_(PORT|HOST)$|_GROUP_(ID|PREFIX)$|^KAFKA_(BROKERS|CLIENT_ID|REPLICATION_FACTOR|TOPIC_PREFIX|SASL_\w+|SSL\w*)$/;

describe("docker-compose.yml", () => {
  it("passes docker-compose config", () => {
    expectValidConfig(compose("config", "-q"));
  });

  it("passes docker-compose config with the monitoring and cli profiles", () => {
    const result = compose("--profile", "monitoring", "--profile", "cli", "config");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const services = (
      parse(result.stdout) as { services: Record<string, Service & { entrypoint?: string[] }> }
    ).services;
    expect(services.prometheus?.image).toMatch(/^prom\/prometheus:v3\./);
    expect(services.grafana?.image).toMatch(/^grafana\/grafana:/);
    // The operator CLI of the tools image, against the keys service inside the network.
    expect(services.cli?.entrypoint).toEqual(["apimon"]);
    expect(services.cli?.environment?.KEYS_URL).toBe("http://keys:8082");
  });

  it("seeds the demo after keys and alerts are ready, and keeps the secrets placeholders refusable", () => {
    const parsed = parse(compose("config").stdout) as { services: Record<string, Service> };
    const seed = parsed.services.seed;
    expect(seed?.command).toEqual(["apimon", "seed"]);
    expect(seed?.depends_on?.keys?.condition).toBe("service_healthy");
    expect(seed?.depends_on?.alerts?.condition).toBe("service_healthy");
    expect(seed?.restart).toBe("no");
    expect(seed?.environment?.ADMIN_TOKEN).toBe(parsed.services.keys?.environment?.ADMIN_TOKEN);
    // The demo key is kept in a volume of the seed's, so that every `up` prints the same one.
    expect(seed?.environment?.SEED_KEY_FILE).toBe("/var/lib/apimon/demo-keys.json");
    expect(JSON.stringify(seed?.volumes)).toContain("/var/lib/apimon");
    // Without .env the placeholders stay, and the services refuse them (APIMON_INSECURE_DEV is off).
    const keys = servicesWith("").keys;
    expect(keys?.environment?.ADMIN_TOKEN).toMatch(/^change-me/);
    expect(keys?.environment?.APIMON_INSECURE_DEV).toBe("false");
    expect(parsed.services.notifier?.environment?.NOTIFIER_ALLOW_PRIVATE_TARGETS).toBe("false");
  });

  it("runs the infrastructure with healthchecks and gates services on the migration and topic jobs", () => {
    const result = compose("config");
    expect(result.status).toBe(0);
    const services = (parse(result.stdout) as { services: Record<string, Service & { profiles?: string[] }> })
      .services;
    // docker-compose 1.29 lists every service; those of a profile start only when it is asked for.
    const started = Object.keys(services).filter((name) => services[name]?.profiles === undefined);
    expect(started.sort()).toEqual(
      [
        "alerts",
        "anomaly-detector",
        "console",
        "demo-upstream",
        "edge",
        "kafka",
        "key-stats",
        "keys",
        "mailpit",
        "migrate",
        "notifier",
        "postgres",
        "redis",
        "seed",
        "topics",
        "usage-recorder",
      ].sort(),
    );
    expect(services.kafka?.image).toMatch(/^apache\/kafka:4\./);
    for (const name of ["kafka", "postgres", "redis", "mailpit", "demo-upstream"]) {
      expect(services[name]?.healthcheck?.test.length).toBeGreaterThan(0);
    }
    expect(services.migrate?.command).toEqual(["node", "packages/db/dist/migrate-cli.js"]);
    expect(services.migrate?.depends_on?.postgres?.condition).toBe("service_healthy");
    expect(services.migrate?.restart).toBe("no");
    expect(services.topics?.command).toEqual(["node", "packages/kafka/dist/topics-cli.js"]);
    expect(services.topics?.depends_on?.kafka?.condition).toBe("service_healthy");
    for (const name of ["migrate", "topics", "demo-upstream"]) {
      expect(services[name]?.build?.dockerfile).toBe("deploy/Dockerfile");
    }
    expect(services["demo-upstream"]?.build?.args?.SERVICE).toBe("demo-upstream");
    // Application services wait for the jobs and get the shared settings.
    expect(services.keys?.build?.args?.SERVICE).toBe("keys");
    expect(services.keys?.depends_on?.migrate?.condition).toBe("service_completed_successfully");
    expect(services.keys?.depends_on?.topics?.condition).toBe("service_completed_successfully");
    expect(services.keys?.environment?.KEYS_PORT).toBe("8082");
    expect(services.keys?.environment?.KAFKA_BROKERS).toBe("kafka:9092");
    expect(services.keys?.environment?.KEY_HASH_SECRET?.length).toBeGreaterThanOrEqual(32);
  });

  it("runs the edge in front of the demo upstream with Redis, the shared key secret and a spool volume", () => {
    const result = compose("config");
    const parsed = parse(result.stdout) as {
      services: Record<string, Service & { volumes?: unknown[] }>;
      volumes: Record<string, unknown>;
    };
    const edge = parsed.services.edge;
    expect(edge?.build?.args?.SERVICE).toBe("edge");
    expect(edge?.environment?.EDGE_PORT).toBe("8080");
    expect(edge?.environment?.UPSTREAM_URL).toBe("http://demo-upstream:8090");
    expect(edge?.environment?.KEY_HASH_SECRET).toBe(parsed.services.keys?.environment?.KEY_HASH_SECRET);
    expect(edge?.environment?.KEY_CHANGES_SIGNING_SECRET?.length).toBeGreaterThanOrEqual(32);
    expect(edge?.environment?.KEY_CHANGES_SIGNING_SECRET).toBe(
      parsed.services.keys?.environment?.KEY_CHANGES_SIGNING_SECRET,
    );
    expect(edge?.environment?.USAGE_SPOOL_DIR).toBe("/var/lib/apimon/usage-spool");
    expect(edge?.depends_on?.redis?.condition).toBe("service_healthy");
    expect(edge?.depends_on?.["demo-upstream"]?.condition).toBe("service_healthy");
    expect(edge?.depends_on?.topics?.condition).toBe("service_completed_successfully");
    expect(edge?.healthcheck?.test).toContain("http://127.0.0.1:9080/readyz");
    expect(Object.keys(parsed.volumes)).toContain("edge-spool");
  });

  it("runs every consumer and the alerts service after the jobs, each checked on its /readyz", () => {
    const parsed = parse(compose("config").stdout) as { services: Record<string, Service> };
    const ports: Record<string, [string, string]> = {
      "usage-recorder": ["USAGE_RECORDER_PORT", "8083"],
      "key-stats": ["KEY_STATS_PORT", "8084"],
      "anomaly-detector": ["DETECTOR_PORT", "8085"],
      alerts: ["ALERTS_PORT", "8081"],
      notifier: ["NOTIFIER_PORT", "8086"],
    };
    for (const [name, [variable, port]] of Object.entries(ports)) {
      const service = parsed.services[name];
      expect(service?.build?.args?.SERVICE).toBe(name);
      expect(service?.environment?.[variable]).toBe(port);
      expect(service?.environment?.DATABASE_URL).toMatch(/^postgresql:\/\/.*@postgres:5432\//);
      expect(service?.depends_on?.migrate?.condition).toBe("service_completed_successfully");
      expect(service?.healthcheck?.test).toContain(`http://127.0.0.1:${port}/readyz`);
    }
    // The notifier mails the catcher, which must be up first.
    expect(parsed.services.notifier?.environment?.SMTP_URL).toBe("smtp://mailpit:1025");
    expect(parsed.services.notifier?.depends_on?.mailpit?.condition).toBe("service_healthy");
  });

  it("passes ADMIN_TRUSTED_PROXY_HOPS from .env to the admin APIs and the console, 0 without it", () => {
    const hops = (envText: string) => {
      const services = servicesWith(envText);
      return ["keys", "alerts", "console"].map(
        (name) => services[name]?.environment?.ADMIN_TRUSTED_PROXY_HOPS,
      );
    };
    expect(hops("")).toEqual(["0", "0", "0"]);
    expect(hops("ADMIN_TRUSTED_PROXY_HOPS=2\n")).toEqual(["2", "2", "2"]);
  });

  it("passes every other setting a service reads from .env to that service", async () => {
    const settable = new Map<string, string[]>();
    // The demo upstream stands in for your API; it has nothing to set.
    for (const service of servicesWithConfig.filter((name) => name !== "demo-upstream")) {
      settable.set(
        service,
        (await variablesRead(service)).filter((name) => !composeWiring.test(name)),
      );
    }
    const names = [...new Set([...settable.values()].flat())].sort();
    // Every name gets a value of its own, so a value that reached the wrong variable shows too.
    const value = (name: string) => `from-env-${name.toLowerCase()}`;
    const services = servicesWith(names.map((name) => `${name}=${value(name)}\n`).join(""));
    const missed = [...settable].flatMap(([service, variables]) =>
      variables
        .filter((name) => services[service]?.environment?.[name] !== value(name))
        .map((name) => `${service}: ${name}`),
    );
    expect(missed).toEqual([]);
    // Unset, they reach the services empty (the service's own default) or with the stack's value.
    const plain = servicesWith("");
    expect(plain.edge?.environment?.EDGE_TRUSTED_PROXY_HOPS).toBe("");
    expect(plain.edge?.environment?.RATE_LIMIT_MINUTE).toBe("");
    expect(plain.notifier?.environment?.SMTP_URL).toBe("smtp://mailpit:1025");
    expect(plain.edge?.environment?.UPSTREAM_URL).toBe("http://demo-upstream:8090");
  });

  it("runs the console after the alerts and keys services, which it calls by their compose names", () => {
    const parsed = parse(compose("config").stdout) as { services: Record<string, Service> };
    const console = parsed.services.console;
    expect(console?.build?.args?.SERVICE).toBe("console");
    expect(console?.environment?.CONSOLE_PORT).toBe("8087");
    expect(console?.environment?.ALERTS_URL).toBe("http://alerts:8081");
    expect(console?.environment?.KEYS_URL).toBe("http://keys:8082");
    expect(console?.environment?.ADMIN_TOKEN).toBe(parsed.services.alerts?.environment?.ADMIN_TOKEN);
    expect(console?.depends_on?.alerts?.condition).toBe("service_healthy");
    expect(console?.depends_on?.keys?.condition).toBe("service_healthy");
    expect(console?.healthcheck?.test).toContain("http://127.0.0.1:8087/readyz");
    // Notification links lead to the console's alert pages.
    for (const name of ["alerts", "notifier"]) {
      expect(parsed.services[name]?.environment?.CONSOLE_PUBLIC_URL).toBe("http://127.0.0.1:8087");
    }
  });
});
