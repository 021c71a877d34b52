// `pnpm compose:e2e`: the docker compose stack, built and run for real, checked over plain HTTP.
//
//   pnpm compose:e2e [--rebuild-base] [--keep]
//
// Starts dockerd when no engine answers (as root), makes sure the base images exist (pulled, or
// built by deploy/offline/build.sh when no registry answers; --rebuild-base rebuilds them),
// `docker-compose build`, `up -d`, waits for every healthcheck and job, then: the edge refuses a
// missing key; a key made through the keys API works through the edge with the spec's headers,
// and opens a WebSocket to the demo upstream's echo; settings from the environment reach the
// services; the call is a row in api_usage; a slow call raises an alert and an email naming the
// key reaches the mail catcher; restarting each application service loses nothing; `down` then
// `up` keeps the data; `down -v` removes it. Each step prints its time; the first failure ends
// the run (exit 1) after printing the stack's state, and the stack is removed with `down -v`
// unless --keep.
import { type SpawnSyncOptions, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "pg";
import WebSocket from "ws";

const repo = join(__dirname, "..");
const args = new Set(process.argv.slice(2));
const project = process.env.COMPOSE_E2E_PROJECT ?? "apimon-e2e";
const started = Date.now();

// Real secrets, and no APIMON_INSECURE_DEV: the run also proves that a stack configured the way
// production should be starts. Variables in this environment win over a .env file in the repo.
const env: NodeJS.ProcessEnv = {
  ...process.env,
  ADMIN_TOKEN: `e2e-${randomBytes(16).toString("hex")}`,
  KEY_HASH_SECRET: randomBytes(32).toString("hex"),
  KEY_CHANGES_SIGNING_SECRET: randomBytes(32).toString("hex"),
  APIMON_INSECURE_DEV: "false",
  NOTIFIER_ALLOW_PRIVATE_TARGETS: "false",
  SEED_ALERT_EMAIL: "oncall@example.com",
  // Two settings as a .env line would give them, checked below: the keys service and the edge
  // share the default minute limit, and the edge answers a browser's preflight from this origin.
  RATE_LIMIT_MINUTE: "120",
  EDGE_CORS_ORIGINS: "https://app.example.com",
  // The classic builder: docker-compose 1.29 uses it, and no buildx plugin is needed.
  DOCKER_BUILDKIT: "0",
  COMPOSE_DOCKER_CLI_BUILD: "0",
};

const APP_SERVICES = [
  "console",
  "demo-upstream",
  "keys",
  "edge",
  "usage-recorder",
  "key-stats",
  "anomaly-detector",
  "alerts",
  "notifier",
];
const JOBS = ["migrate", "topics", "seed"];
const EDGE = "http://127.0.0.1:8080";
const KEYS = "http://127.0.0.1:8082";
const ALERTS = "http://127.0.0.1:8081";
const MAIL = "http://127.0.0.1:8025";
const CONSOLE = "http://127.0.0.1:8087";

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
function say(line: string) {
  process.stdout.write(`[${seconds(Date.now() - started).padStart(7)}] ${line}\n`);
}

class StepFailure extends Error {}
function fail(message: string): never {
  throw new StepFailure(message);
}

async function step<T>(name: string, run: () => Promise<T> | T): Promise<T> {
  const t0 = Date.now();
  say(`${name} ...`);
  const result = await run();
  say(`${name}: ok (${seconds(Date.now() - t0)})`);
  return result;
}

function run(command: string, argv: string[], options: SpawnSyncOptions = {}) {
  const result = spawnSync(command, argv, {
    cwd: repo,
    env,
    encoding: "utf8",
    maxBuffer: 64 << 20,
    ...options,
  });
  return {
    status: result.status ?? 1,
    stdout: String(result.stdout ?? ""),
    stderr: String(result.stderr ?? ""),
  };
}

/** docker-compose with its output streamed (long builds show progress). */
function composeLoud(...argv: string[]) {
  const result = spawnSync("docker-compose", ["-p", project, ...argv], { cwd: repo, env, stdio: "inherit" });
  if (result.status !== 0) fail(`docker-compose ${argv.join(" ")} exited with ${result.status}`);
}

function compose(...argv: string[]) {
  const result = run("docker-compose", ["-p", project, ...argv]);
  if (result.status !== 0) fail(`docker-compose ${argv.join(" ")} failed:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  fail(
    `timed out after ${seconds(timeoutMs)} waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`,
  );
}

// ---- engine and base images ------------------------------------------------------------------

async function ensureEngine() {
  if (run("docker", ["info"]).status === 0) return "already running";
  if (process.getuid?.() !== 0) fail("no Docker engine answers and this is not root: start dockerd first");
  const child = spawn("sh", ["-c", "dockerd >/var/log/dockerd.log 2>&1"], {
    detached: true,
    stdio: "ignore",
  });
  child.unref();
  await waitFor("dockerd to answer", 60_000, async () =>
    run("docker", ["info"]).status === 0 ? true : undefined,
  );
  return "started (log: /var/log/dockerd.log)";
}

/** The base images, by the name deploy/offline/build.sh knows them under. */
function baseImages(): Array<{ name: string; tag: string }> {
  const composeFile = readFileSync(join(repo, "docker-compose.yml"), "utf8");
  const dockerfile = readFileSync(join(repo, "deploy/Dockerfile"), "utf8");
  const find = (text: string, pattern: RegExp, name: string) => {
    const tag = pattern.exec(text)?.[0];
    if (!tag) fail(`no ${name} image tag found`);
    return { name, tag };
  };
  return [
    find(dockerfile, /node:[0-9.]+-bookworm-slim/, "node"),
    find(composeFile, /apache\/kafka:[0-9.]+/, "kafka"),
    find(composeFile, /postgres:[0-9]+-alpine/, "postgres"),
    find(composeFile, /redis:[0-9.]+-alpine/, "redis"),
    find(composeFile, /axllent\/mailpit:v[0-9.]+/, "mailpit"),
  ];
}

function ensureBaseImages() {
  const images = baseImages();
  const missing = args.has("--rebuild-base")
    ? images
    : images.filter((image) => run("docker", ["image", "inspect", image.tag]).status !== 0);
  if (missing.length === 0) return "all present";
  const toBuild = missing.filter((image) => {
    if (args.has("--rebuild-base")) return true;
    const pulled = run("timeout", ["60", "docker", "pull", image.tag]);
    if (pulled.status === 0) say(`  pulled ${image.tag}`);
    return pulled.status !== 0;
  });
  if (toBuild.length === 0) return "pulled";
  say(`  no registry for ${toBuild.map((i) => i.tag).join(", ")}: building offline stand-ins`);
  const result = spawnSync(
    "bash",
    [
      join(repo, "deploy/offline/build.sh"),
      ...(args.has("--rebuild-base") ? ["--force"] : []),
      ...toBuild.map((i) => i.name),
    ],
    { cwd: repo, env, stdio: "inherit" },
  );
  if (result.status !== 0) fail("deploy/offline/build.sh failed");
  return `built ${toBuild.map((i) => i.tag).join(", ")}`;
}

// ---- stack state -----------------------------------------------------------------------------

interface ContainerState {
  service: string;
  status: string;
  health?: string;
  exitCode: number;
}

function containers(): ContainerState[] {
  const ids = compose("ps", "-q").split("\n").filter(Boolean);
  if (ids.length === 0) return [];
  const inspected = JSON.parse(run("docker", ["inspect", ...ids]).stdout || "[]") as Array<{
    Config: { Labels: Record<string, string> };
    State: { Status: string; ExitCode: number; Health?: { Status: string } };
  }>;
  return inspected.map((c) => ({
    service: c.Config.Labels["com.docker.compose.service"] ?? "?",
    status: c.State.Status,
    health: c.State.Health?.Status,
    exitCode: c.State.ExitCode,
  }));
}

async function waitForStack(timeoutMs = 420_000) {
  const expected = [...APP_SERVICES, "kafka", "postgres", "redis", "mailpit"];
  await waitFor("every service healthy and every job done", timeoutMs, async () => {
    const states = containers();
    for (const job of JOBS) {
      const state = states.find((s) => s.service === job);
      if (state?.status === "exited" && state.exitCode !== 0) {
        fail(
          `the ${job} job exited with ${state.exitCode}:\n${compose("logs", "--no-color", "--tail", "40", job)}`,
        );
      }
    }
    const pending = expected.filter((name) => states.find((s) => s.service === name)?.health !== "healthy");
    const jobsPending = JOBS.filter((job) => {
      const state = states.find((s) => s.service === job);
      return !(state?.status === "exited" && state.exitCode === 0);
    });
    return pending.length === 0 && jobsPending.length === 0 ? true : undefined;
  });
}

// ---- HTTP ------------------------------------------------------------------------------------

async function http(
  url: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const { json, ...rest } = init;
  const res = await fetch(url, {
    ...rest,
    headers: {
      ...(json === undefined ? {} : { "content-type": "application/json" }),
      ...(rest.headers ?? {}),
    },
    body: json === undefined ? rest.body : JSON.stringify(json),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body };
}

const admin = (url: string, init: RequestInit & { json?: unknown } = {}) =>
  http(url, { ...init, headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, ...(init.headers ?? {}) } });

function expectEqual(what: string, actual: unknown, expected: unknown) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    fail(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

async function usageRows(keyId: number): Promise<number> {
  const client = new Client({ connectionString: "postgresql://postgres:postgres@127.0.0.1:5433/apimon" });
  await client.connect();
  try {
    const result = await client.query<{ n: string }>(
      "SELECT count(*) AS n FROM api_usage WHERE api_key_id = $1",
      [keyId],
    );
    return Number(result.rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

interface Checked {
  keyId: number;
  key: string;
  alertId: number;
  rows: number;
}

async function callThroughEdge(key: string, path = "/api/users") {
  return http(`${EDGE}${path}`, { headers: { "x-api-key": key } });
}

/** Opens a WebSocket with the key, sends `text` and returns what came back, then closes it. */
function webSocketEcho(
  url: string,
  key: string,
  text: string,
): Promise<{ minuteLimit: unknown; seenKeyId: unknown; echo: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: { "X-API-Key": key } });
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no echo from ${url} within 30 s`));
    }, 30_000);
    let minuteLimit: unknown;
    let seenKeyId: unknown;
    socket.once("upgrade", (res) => {
      minuteLimit = res.headers["x-ratelimit-minute-limit"];
    });
    socket.once("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`the handshake got ${res.statusCode}, not 101`));
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("message", (data) => {
      if (seenKeyId === undefined) {
        // The demo upstream's first message: the handshake as it received it.
        seenKeyId = (JSON.parse(String(data)) as { headers: Record<string, string> }).headers[
          "x-apimon-key-id"
        ];
        socket.send(text);
        return;
      }
      clearTimeout(timer);
      socket.close(1000);
      resolve({ minuteLimit, seenKeyId, echo: String(data) });
    });
  });
}

async function checkStillThere(state: Checked, label: string) {
  // The key table is rebuilt from keys.changes.v1 after a restart: the same key still works.
  const res = await waitFor(`the edge to accept the key again (${label})`, 120_000, async () => {
    const r = await callThroughEdge(state.key);
    return r.status === 200 ? r : undefined;
  });
  expectEqual("status through the edge", res.status, 200);
  const rows = await waitFor(`usage rows to include the new call (${label})`, 120_000, async () => {
    const n = await usageRows(state.keyId);
    return n >= state.rows + 1 ? n : undefined;
  });
  const alert = await admin(`${ALERTS}/api/v1/alerts/${state.alertId}`);
  expectEqual(`alert ${state.alertId} still there (${label})`, alert.status, 200);
  state.rows = rows;
  return `key works, ${rows} usage rows, alert ${state.alertId} kept`;
}

// ---- the run ---------------------------------------------------------------------------------

async function main() {
  say(`compose e2e: project ${project}, repository ${repo}`);
  if (existsSync(join(repo, ".env")))
    say("note: .env exists; this run's own variables take precedence over it");
  await step("docker engine", async () => say(`  dockerd ${await ensureEngine()}`));
  await step("base images", () => say(`  ${ensureBaseImages()}`));
  await step("docker-compose config -q (base file and every profile)", () => {
    compose("config", "-q");
    compose("--profile", "monitoring", "--profile", "cli", "config", "-q");
  });
  await step("docker-compose build", () => composeLoud("build"));
  await step("docker-compose up -d", () => composeLoud("up", "-d"));
  await step("healthchecks and jobs (migrate, topics, seed)", () => waitForStack());

  const seedLog = compose("logs", "--no-color", "seed");
  const seedKey = /demo API key:\s+(ak_[A-Za-z0-9_-]+)/.exec(seedLog)?.[1];
  await step("seed job printed a working demo key and the URLs", async () => {
    if (!seedKey) fail(`no demo key in the seed job's log:\n${seedLog}`);
    for (const url of [`${EDGE}/api/users`, CONSOLE, "http://127.0.0.1:8025"]) {
      if (!seedLog.includes(url)) fail(`the seed log does not mention ${url}:\n${seedLog}`);
    }
    const res = await waitFor("the demo key to work through the edge", 60_000, async () => {
      const r = await callThroughEdge(seedKey);
      return r.status === 200 ? r : undefined;
    });
    expectEqual("demo key status", res.status, 200);
  });

  await step("the seed job, run again, prints the same demo key instead of adding one", async () => {
    const again = compose("run", "--rm", "seed");
    const key = /demo API key:\s+(ak_[A-Za-z0-9_-]+)/.exec(again)?.[1];
    expectEqual("the key of the second seed", key, seedKey);
    if (!again.includes("the one an earlier seed kept"))
      fail(`the second seed did not say it kept the key:\n${again}`);
  });

  await step("the console serves its sign-in page", async () => {
    const res = await http(`${CONSOLE}/sign-in`);
    expectEqual("status", res.status, 200);
    if (!String(res.body).includes("<form")) fail("the console's /sign-in has no form");
  });

  await step("the edge refuses a missing key", async () => {
    const res = await http(`${EDGE}/api/users`);
    expectEqual("status", res.status, 401);
    expectEqual("body", res.body, { detail: "Missing API key" });
  });

  const state = await step("a key made through the keys API works through the edge", async () => {
    const user = await admin(`${KEYS}/api/v1/users`, {
      method: "POST",
      json: { email: `e2e-${Date.now()}@example.com`, name: "compose e2e" },
    });
    expectEqual("create user", user.status, 201);
    const created = await admin(`${KEYS}/api/v1/keys`, {
      method: "POST",
      json: { userId: (user.body as { id: number }).id, name: "compose e2e" },
    });
    expectEqual("create key", created.status, 201);
    const { id: keyId, key } = created.body as { id: number; key: string };
    const res = await waitFor("the edge to learn the new key", 60_000, async () => {
      const r = await callThroughEdge(key);
      return r.status === 200 ? r : undefined;
    });
    for (const header of [
      "x-ratelimit-minute-limit",
      "x-ratelimit-minute-remaining",
      "x-ratelimit-minute-reset",
      "x-ratelimit-hour-limit",
      "x-ratelimit-day-limit",
      "ratelimit-policy",
      "ratelimit",
    ]) {
      if (!res.headers.get(header)) fail(`the edge's answer lacks ${header}`);
    }
    // RATE_LIMIT_MINUTE from the environment, not the spec's 100: the setting reached both.
    expectEqual("X-RateLimit-Minute-Limit", res.headers.get("x-ratelimit-minute-limit"), "120");
    expectEqual("X-RateLimit-Minute-Remaining", res.headers.get("x-ratelimit-minute-remaining"), "119");
    expectEqual(
      "the key's minute limit",
      (created.body as { rateLimits: { minute: number } }).rateLimits.minute,
      120,
    );
    return { keyId, key, alertId: 0, rows: 0 } as Checked;
  });

  await step(
    "a WebSocket through the edge: 101 with the rate-limit fields, the upstream's echo",
    async () => {
      const opened = await webSocketEcho(
        `${EDGE.replace("http:", "ws:")}/api/ws/echo`,
        state.key,
        "compose e2e",
      );
      expectEqual("101's X-RateLimit-Minute-Limit", opened.minuteLimit, "120");
      expectEqual("the upstream's X-Apimon-Key-Id", opened.seenKeyId, String(state.keyId));
      expectEqual("the echo", opened.echo, "compose e2e");
    },
  );

  await step("a setting from the environment reaches the edge (EDGE_CORS_ORIGINS)", async () => {
    const res = await http(`${EDGE}/api/users`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example.com", "access-control-request-method": "GET" },
    });
    expectEqual("preflight status", res.status, 204);
    expectEqual(
      "Access-Control-Allow-Origin",
      res.headers.get("access-control-allow-origin"),
      "https://app.example.com",
    );
  });

  await step("the operator CLI inside compose lists the key (docker-compose run --rm cli keys list)", () => {
    const listed = JSON.parse(
      compose("--profile", "cli", "run", "--rm", "-T", "cli", "keys", "list", "--json"),
    ) as {
      items: Array<{ id: number }>;
    };
    if (!listed.items.some((k) => k.id === state.keyId))
      fail(`key ${state.keyId} missing from: ${JSON.stringify(listed)}`);
  });

  await step("the call is a row in api_usage", async () => {
    state.rows = await waitFor("the call in api_usage", 120_000, async () => {
      const n = await usageRows(state.keyId);
      return n >= 1 ? n : undefined;
    });
    say(`  ${state.rows} row(s) for key ${state.keyId}`);
  });

  await step("a slow call raises an alert and an email reaches the mail catcher", async () => {
    const slow = await callThroughEdge(state.key, "/api/slow?ms=1500");
    expectEqual("slow call status", slow.status, 200);
    const alert = await waitFor("a response_time alert in the alerts API", 120_000, async () => {
      const res = await admin(`${ALERTS}/api/v1/alerts/history?apiKeyId=${state.keyId}&type=response_time`);
      return (res.body as { items?: Array<{ id: number; severity: string; status: string }> }).items?.[0];
    });
    state.alertId = alert.id;
    say(`  alert ${alert.id}: response_time ${alert.severity} ${alert.status}`);
    const mail = await waitFor("the alert's email in the mail catcher", 120_000, async () => {
      const res = await http(`${MAIL}/api/v1/messages`);
      const messages = (res.body as { messages?: Array<{ Subject: string; To: Array<{ Address: string }> }> })
        .messages;
      return messages?.find(
        (m) => m.To.some((t) => t.Address === "oncall@example.com") && /response/i.test(m.Subject),
      );
    });
    say(`  email to oncall@example.com: "${mail.Subject}"`);
    // The subject names the key, as the person on call knows it.
    if (!mail.Subject.includes(`on key "compose e2e" (#${state.keyId})`))
      fail(`the email's subject does not name the key: "${mail.Subject}"`);
  });

  for (const service of APP_SERVICES) {
    await step(`docker-compose restart ${service} loses nothing`, async () => {
      compose("restart", service);
      await waitForStack();
      say(`  ${await checkStillThere(state, `after restarting ${service}`)}`);
    });
  }

  await step("docker-compose down, then up -d, keeps the data (volumes)", async () => {
    composeLoud("down");
    composeLoud("up", "-d");
    await waitForStack();
    say(`  ${await checkStillThere(state, "after down and up")}`);
  });

  await step("docker-compose down -v removes containers, network and volumes", () => {
    composeLoud("down", "-v", "--remove-orphans");
    const left = run("docker", [
      "ps",
      "-aq",
      "--filter",
      `label=com.docker.compose.project=${project}`,
    ]).stdout.trim();
    const volumes = run("docker", [
      "volume",
      "ls",
      "-q",
      "--filter",
      `label=com.docker.compose.project=${project}`,
    ]).stdout.trim();
    const networks = run("docker", [
      "network",
      "ls",
      "-q",
      "--filter",
      `label=com.docker.compose.project=${project}`,
    ]).stdout.trim();
    if (left || volumes || networks)
      fail(`left behind: containers [${left}] volumes [${volumes}] networks [${networks}]`);
  });
  say(`compose e2e passed in ${seconds(Date.now() - started)}`);
}

main().catch((error: unknown) => {
  say(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
  try {
    if (!(error instanceof StepFailure)) process.stdout.write(`${(error as Error)?.stack ?? ""}\n`);
    const ps = run("docker-compose", ["-p", project, "ps"]);
    process.stdout.write(ps.stdout);
    for (const state of containers().filter(
      (s) =>
        s.health === "unhealthy" || (s.status === "exited" && s.exitCode !== 0) || s.status === "restarting",
    )) {
      process.stdout.write(`--- ${state.service} (last 30 lines)\n`);
      process.stdout.write(
        run("docker-compose", ["-p", project, "logs", "--no-color", "--tail", "30", state.service]).stdout,
      );
    }
  } finally {
    if (!args.has("--keep")) {
      say("removing the stack (docker-compose down -v; --keep leaves it running)");
      run("docker-compose", ["-p", project, "down", "-v", "--remove-orphans"]);
    }
    process.exit(1);
  }
});
