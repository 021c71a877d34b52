// The edge when its dependencies go away under traffic: Kafka (a private broker, stopped for
// 30 s) and Redis (reached through a TCP proxy that the test cuts). Clients must not notice the
// first; the second degrades to per-instance limits, or to 503 in closed mode.
import { topics, type UsageEvent } from "@apimon/events";
import {
  awayFromMinuteEnd,
  createTcpProxy,
  privateBroker,
  readToEnd,
  type TcpProxy,
  testInfra,
  waitFor,
} from "@apimon/testkit";
import { type EdgeProcess, type EdgeStack, startEdgeStack } from "./harness";

/** Requests at a steady pace until `stop()`; records every status. */
function steadyTraffic(url: string, key: string, everyMs = 20) {
  const statuses: number[] = [];
  const errors: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      try {
        const res = await fetch(`${url}/api/users/2`, { headers: { "x-api-key": key } });
        await res.arrayBuffer();
        statuses.push(res.status);
      } catch (error) {
        statuses.push(0);
        errors.push(String((error as Error & { cause?: unknown }).cause ?? error));
      }
      await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - started))));
    }
  })();
  return {
    statuses,
    errors,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** The edge's logged warnings and errors, for a failure's message. */
function warningsOf(edge: EdgeProcess): string {
  const lines = edge.process
    .output()
    .split("\n")
    .filter((l) => /"level":(40|50|60)/.test(l));
  return `edge warnings and errors:\n${lines.join("\n")}`;
}

async function metricValue(url: string, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("edge with Kafka stopped for 30 s", () => {
  let broker: Awaited<ReturnType<typeof privateBroker>>;
  let stack: EdgeStack;

  beforeAll(async () => {
    broker = await privateBroker("edge-kafka-outage");
    broker.control("start");
    stack = await startEdgeStack({
      label: "edge-kafka-outage",
      edges: 1,
      brokers: [`127.0.0.1:${broker.port}`],
      // Generous limits: this test is about events, not limits.
      edgeEnv: { RATE_LIMIT_MINUTE: "100000", RATE_LIMIT_HOUR: "100000", RATE_LIMIT_DAY: "100000" },
    });
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    broker?.dispose();
  });

  it("keeps answering every call and delivers every usage event exactly once after Kafka returns", async () => {
    const { key, id } = await stack.newKey();
    const edge = stack.edges[0];
    if (!edge) throw new Error("no edge");
    const traffic = steadyTraffic(edge.url, key);

    await new Promise((r) => setTimeout(r, 3000));
    await broker.controlAsync("stop");
    const stoppedAt = Date.now();
    // Kafka down: the edge spools to disk and says so in /readyz, still answering clients.
    await waitFor(
      async () => {
        const body = (await (await fetch(`${edge.adminUrl}/readyz`)).json()) as {
          checks: { usageEvents: { detail: { mode: string; spooled: number } } };
        };
        return body.checks.usageEvents.detail.mode === "spool" && body.checks.usageEvents.detail.spooled > 0;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: "the edge to spool usage events" },
    );
    const spoolDepth = await metricValue(edge.adminUrl, "edge_usage_spool_depth");
    expect(spoolDepth).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - stoppedAt))));
    await broker.controlAsync("start");
    await new Promise((r) => setTimeout(r, 3000));
    await traffic.stop();

    // Every call was answered normally, before, during and after the outage.
    const sent = traffic.statuses.length;
    if (traffic.errors.length > 0) {
      process.stdout.write(`${warningsOf(edge)}\n`);
    }
    expect({ failed: traffic.statuses.filter((s) => s !== 200), errors: traffic.errors }).toEqual({
      failed: [],
      errors: [],
    });

    // The edge has handed every call's event to Kafka once it counts them all as published.
    await waitFor(
      async () => (await metricValue(edge.adminUrl, "edge_usage_events_total", 'result="published"')) >= sent,
      {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: `the edge to publish ${sent} usage events after the outage`,
      },
    ).catch(async (error: unknown) => {
      const ready = await (await fetch(`${edge.adminUrl}/readyz`)).text().catch(String);
      const counts = (await (await fetch(`${edge.adminUrl}/metrics`)).text())
        .split("\n")
        .filter((l) => l.startsWith("edge_usage_"));
      throw new Error(
        `${(error as Error).message}\nedge /readyz: ${ready}\n${counts.join("\n")}\n${warningsOf(edge)}`,
      );
    });
    // Read back by a fresh group, up to the topic's end offsets: what the topic holds, whatever
    // the stack's long-lived reader, which crashed while the broker was down, is doing by now.
    const copiesById = new Map<string, UsageEvent[]>();
    for (const { value } of await readToEnd(stack.kafka, stack.prefix, topics.usageEvents, {
      timeoutMs: 60_000,
    })) {
      if (value.apiKeyId !== id) continue;
      const copies = copiesById.get(value.id);
      if (copies) copies.push(value);
      else copiesById.set(value.id, [value]);
    }
    // Reconciled by event id: one distinct event per call, none missing, none invented. The topic
    // itself is at-least-once: a batch whose acknowledgement was lost when the broker went away
    // is journalled and sent again, so an id may appear twice there; every consumer is
    // idempotent on the id (api_usage's unique event id, key-stats' offsets and ids).
    const events = [...copiesById.values()];
    expect(events).toHaveLength(sent);
    const redelivered = events.filter((copies) => copies.length > 1).length;
    // In record order per key (one partition, read in offset order): the spool replays oldest first.
    const times = events.map((copies) => copies[0]?.occurredAt ?? "");
    expect(times).toEqual([...times].sort());
    process.stdout.write(
      `Kafka outage: ${sent} calls, all 200, ${sent} distinct usage events (${redelivered} also sent twice); ` +
        `the journal held ${spoolDepth}+ events\n`,
    );
  }, 180_000);
});

describe("edge with Redis unreachable", () => {
  let redisProxy: TcpProxy;
  let stack: EdgeStack;

  beforeAll(async () => {
    const target = new URL(testInfra.redisUrl);
    redisProxy = await createTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    stack = await startEdgeStack({
      label: "edge-redis-outage",
      edges: 1,
      redisUrl: `redis://${redisProxy.address}`,
    });
    await stack.startEdge({ RATE_LIMIT_FAILURE_MODE: "closed" });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await redisProxy?.close();
  });

  it("falls back to per-instance limits without waiting on Redis, and answers 503 in closed mode", async () => {
    const [open, closed] = stack.edges;
    if (!open || !closed) throw new Error("edges missing");
    const { key } = await stack.newKey({ minute: 5 });
    const get = (url: string) => fetch(`${url}/api/users`, { headers: { "x-api-key": key } });

    // The fallback counts in fixed minutes too: all seven requests fall in one.
    await awayFromMinuteEnd(20);
    await redisProxy.interrupt();

    // Open mode: the fallback counts this instance's requests from zero, so 5 pass, then 429.
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 7; i++) {
      last = await get(open.url);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(await last?.json()).toEqual({
      detail: `Rate limit exceeded for minute. Try again in ${last?.headers.get("retry-after")} seconds`,
    });
    expect(await metricValue(open.adminUrl, "edge_limiter_degraded")).toBe(1);
    expect(await metricValue(open.adminUrl, "edge_limiter_fallback_total")).toBeGreaterThan(0);

    // Closed mode: refuse rather than let traffic through unlimited.
    const refused = await get(closed.url);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({ detail: "Rate limiter unavailable" });
    expect(refused.headers.get("retry-after")).toBe("1");
    // A closed-mode edge that refuses everything is not ready; an open-mode one still serves.
    const closedReady = await fetch(`${closed.adminUrl}/readyz`);
    expect(closedReady.status).toBe(503);
    expect(await closedReady.json()).toMatchObject({
      checks: { redis: { ok: false, detail: { degraded: true, failureMode: "closed" } } },
    });
    expect((await fetch(`${open.adminUrl}/readyz`)).status).toBe(200);

    // How long decisions waited while Redis was away (the limiter gives up after
    // RATE_LIMIT_TIMEOUT_MS, 50 ms). Printed, not asserted: tests never assert on timing, and a
    // loaded CI machine can stall any event loop.
    const total = await metricValue(open.adminUrl, "edge_limiter_decision_seconds_count");
    const within = await metricValue(open.adminUrl, "edge_limiter_decision_seconds_bucket", 'le="0.1"');
    const within10 = await metricValue(open.adminUrl, "edge_limiter_decision_seconds_bucket", 'le="0.01"');
    process.stdout.write(
      `Redis outage: ${total} limiter decisions, ${within10} within 10 ms, ${within} within 100 ms\n`,
    );

    // Redis back: decisions are global again.
    await redisProxy.resume();
    await waitFor(
      async () => {
        const res = await get(closed.url);
        return res.status === 200 || res.status === 429;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: "the closed edge to decide again" },
    );
    expect((await fetch(`${closed.adminUrl}/readyz`)).status).toBe(200);
    await waitFor(
      async () => {
        await get(open.url); // a decision is what notices Redis is back
        return (await metricValue(open.adminUrl, "edge_limiter_degraded")) === 0;
      },
      { timeoutMs: 15_000, intervalMs: 300, what: "the open edge to leave degraded mode" },
    );
  });
});
