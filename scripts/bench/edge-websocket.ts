// `pnpm bench:edge-websocket`: what a WebSocket through the edge costs against the same socket
// opened on the upstream directly (the demo upstream's /api/ws/echo), in one process tree.
//
//   messages     BENCH_CONNECTIONS open WebSockets, each in a closed loop: a message of
//                BENCH_MESSAGE_BYTES, then wait for its echo; rounds of BENCH_DURATION_S, direct
//                and through the edge taking turns
//   handshakes   the same number of clients, each opening a WebSocket, reading the upstream's
//                first message and closing it, in a closed loop: what a handshake costs (the
//                key, one rate-limit decision, the upstream connection, a usage event)
//
// Figures: round trips (or handshakes) a second, latency p50/p99, the edge's CPU per message (or
// per handshake) from /proc over the measured windows, and the ratio edge/direct of each. At the
// end the edge's count of opened WebSockets must equal the handshakes the clients completed.
// BENCH_NODE_FLAGS go to the edge's node (and the bare proxy's, which this bench does not load),
// e.g. "--cpu-prof --cpu-prof-dir=DIR". Needs `pnpm infra up` (the edge's key table, limiter and
// usage events run as in production).
import { envTypes, parseEnv } from "@apimon/config";
import { createLogger } from "@apimon/observability";
import WebSocket from "ws";
import { createEdgeStack } from "./edge-stack";
import { createLatencyRecorder, type LatencyRecorder } from "./http-load";
import { loadHttpBenchConfig } from "./infra";
import { processCpu } from "./processes";
import { median, ms, runBench, table } from "./report";

const out = (line = "") => process.stdout.write(`${line}\n`);
const logger = createLogger({ service: "bench-edge-websocket", level: "silent" });
const ECHO_PATH = "/api/ws/echo";

function loadConfig(env = process.env) {
  const { BENCH_MESSAGE_BYTES } = parseEnv({ BENCH_MESSAGE_BYTES: envTypes.positiveInt(256) }, env);
  return {
    ...loadHttpBenchConfig({ durationS: 8, rounds: 3 }, { BENCH_CONNECTIONS: "16", ...env }),
    messageBytes: BENCH_MESSAGE_BYTES,
  };
}

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
}

/** Opens a WebSocket and waits for the upstream's first message (the handshake it received). */
function open(target: Target): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(target.url, { headers: target.headers, perMessageDeflate: false });
    ws.once("message", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) =>
      reject(new Error(`${target.name}: handshake got ${res.statusCode}`)),
    );
    ws.once("error", reject);
  });
}

interface Run {
  /** Round trips or handshakes done in the window. */
  done: number;
  seconds: number;
  /** The edge's CPU seconds in the window. */
  edgeCpuS: number;
  latencies: LatencyRecorder;
}

/** WebSockets the edge opened so far: `edge_requests_total{status="101",outcome="websocket"}`. */
function webSocketsOpened(metrics: string): number {
  let total = 0;
  for (const line of metrics.split("\n")) {
    if (line.startsWith("edge_requests_total{") && line.includes('outcome="websocket"'))
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

async function measured(
  edgePid: number,
  seconds: number,
  loop: (until: number, run: Run) => Promise<void>,
  workers: number,
  latencies: LatencyRecorder = createLatencyRecorder(),
): Promise<Run> {
  const run: Run = { done: 0, seconds, edgeCpuS: 0, latencies };
  const cpuBefore = processCpu(edgePid)?.seconds ?? Number.NaN;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(Array.from({ length: workers }, () => loop(until, run)));
  run.seconds = (performance.now() - started) / 1000;
  run.edgeCpuS = (processCpu(edgePid)?.seconds ?? Number.NaN) - cpuBefore;
  return run;
}

/** Messages over already open sockets, each a closed loop. */
function messageLoop(sockets: WebSocket[], payload: Buffer) {
  let next = 0;
  return async (until: number, run: Run) => {
    const ws = sockets[next++ % sockets.length] as WebSocket;
    let echoed: () => void = () => {};
    const onMessage = () => echoed();
    ws.on("message", onMessage);
    while (performance.now() < until && ws.readyState === WebSocket.OPEN) {
      const sent = performance.now();
      await new Promise<void>((resolve) => {
        echoed = resolve;
        ws.send(payload);
      });
      run.latencies.record(performance.now() - sent);
      run.done += 1;
    }
    ws.off("message", onMessage);
    if (ws.readyState !== WebSocket.OPEN) throw new Error("a WebSocket closed during the load");
  };
}

/** Handshakes: open, read the first message, close; a closed loop per worker. */
function handshakeLoop(target: Target) {
  return async (until: number, run: Run) => {
    while (performance.now() < until) {
      const started = performance.now();
      const ws = await open(target);
      run.latencies.record(performance.now() - started);
      run.done += 1;
      await new Promise<void>((resolve) => {
        ws.once("close", () => resolve());
        ws.close(1000);
      });
    }
  };
}

async function main(): Promise<number> {
  const config = loadConfig();
  out(
    `bench: ${config.connections} WebSockets, ${config.messageBytes}-byte messages, ${config.rounds} rounds of ${config.durationS} s per target and phase`,
  );
  const stack = createEdgeStack("bench-ws", config, logger, out);
  try {
    const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);
    const { edge, targets, edgeMetrics } = await stack.start({ nodeFlags: () => nodeFlags });
    const edgePid = edge.child.pid as number;
    const direct: Target = {
      name: "(a) upstream direct",
      url: `${new URL(targets.a.url).origin.replace("http:", "ws:")}${ECHO_PATH}`,
      headers: {},
    };
    const throughEdge: Target = {
      name: "(c) edge",
      url: `${new URL(targets.c.url).origin.replace("http:", "ws:")}${ECHO_PATH}`,
      headers: targets.c.headers ?? {},
    };
    const both = [direct, throughEdge];
    const payload = Buffer.alloc(config.messageBytes, 0x61);
    let handshakesDone = 0;
    const openedBefore = webSocketsOpened(await edgeMetrics());

    const results: Record<
      string,
      Record<"messages" | "handshakes", { runs: Run[]; latencies: LatencyRecorder }>
    > = {};
    for (const target of both) {
      results[target.name] = {
        messages: { runs: [], latencies: createLatencyRecorder() },
        handshakes: { runs: [], latencies: createLatencyRecorder() },
      };
    }

    // Warm-up: a few seconds of each phase on each target, not measured.
    for (const target of both) {
      const sockets = await Promise.all(Array.from({ length: config.connections }, () => open(target)));
      handshakesDone += target === throughEdge ? sockets.length : 0;
      await measured(
        edgePid,
        Math.min(3, config.warmupS || 3),
        messageLoop(sockets, payload),
        sockets.length,
      );
      for (const ws of sockets) ws.close(1000);
      const warm = await measured(
        edgePid,
        Math.min(3, config.warmupS || 3),
        handshakeLoop(target),
        config.connections,
      );
      if (target === throughEdge) handshakesDone += warm.done;
    }

    for (let round = 1; round <= config.rounds; round++) {
      for (const target of round % 2 === 1 ? both : [...both].reverse()) {
        const sockets = await Promise.all(Array.from({ length: config.connections }, () => open(target)));
        if (target === throughEdge) handshakesDone += sockets.length;
        const own = results[target.name] as (typeof results)[string];
        const messages = await measured(
          edgePid,
          config.durationS,
          messageLoop(sockets, payload),
          sockets.length,
          own.messages.latencies,
        );
        for (const ws of sockets) ws.close(1000);
        const handshakes = await measured(
          edgePid,
          config.durationS,
          handshakeLoop(target),
          config.connections,
          own.handshakes.latencies,
        );
        if (target === throughEdge) handshakesDone += handshakes.done;
        own.messages.runs.push(messages);
        own.handshakes.runs.push(handshakes);
        out(
          `bench: round ${round}: ${target.name}: ${(messages.done / messages.seconds).toFixed(0)} messages/s, ${(handshakes.done / handshakes.seconds).toFixed(0)} handshakes/s`,
        );
      }
    }

    const summary = ({ runs, latencies }: { runs: Run[]; latencies: LatencyRecorder }) => {
      const rate = median(runs.map((r) => r.done / r.seconds));
      const [p50, p99] = latencies.percentiles(50, 99);
      const cpuUs = median(runs.map((r) => (r.edgeCpuS / r.done) * 1e6));
      return { rate, p50: p50 as number, p99: p99 as number, cpuUs };
    };
    out();
    const rows: string[][] = [];
    const ratios: string[] = [];
    for (const phase of ["messages", "handshakes"] as const) {
      const a = summary((results[direct.name] as (typeof results)[string])[phase]);
      const c = summary((results[throughEdge.name] as (typeof results)[string])[phase]);
      rows.push([phase, direct.name, a.rate.toFixed(0), ms(a.p50), ms(a.p99), "-"]);
      rows.push([phase, throughEdge.name, c.rate.toFixed(0), ms(c.p50), ms(c.p99), c.cpuUs.toFixed(1)]);
      ratios.push(
        `${phase}: edge/direct ${(c.rate / a.rate).toFixed(3)}, added p50 ${ms(c.p50 - a.p50)} ms, p99 ${ms(c.p99 - a.p99)} ms, edge CPU per ${phase === "messages" ? "round trip" : "handshake"} ${c.cpuUs.toFixed(1)} µs`,
      );
    }
    out(
      `WebSockets, median of ${config.rounds} rounds of ${config.durationS} s (latency: every sample of the rounds)`,
    );
    out(table(["phase", "target", "per second", "p50 ms", "p99 ms", "edge CPU µs each"], rows));
    out();
    for (const line of ratios) out(line);

    // Every completed handshake through the edge is one WebSocket the edge counted as opened.
    let opened = 0;
    for (let i = 0; i < 50; i++) {
      opened = webSocketsOpened(await edgeMetrics()) - openedBefore;
      if (opened >= handshakesDone) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    out(`WebSockets the edge opened: ${opened}, handshakes the clients completed: ${handshakesDone}`);
    return opened === handshakesDone ? 0 : 1;
  } finally {
    await stack.cleanUp();
  }
}

runBench("bench:edge-websocket", main);
