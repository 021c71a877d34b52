import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { Socket } from "node:net";
import { clientSource } from "@apimon/events";
import { counter, Gauge, type Logger, metric, type Registry } from "@apimon/observability";

// Every client connection holds a file descriptor. Without a cap, a client that opens tens of
// thousands of idle connections uses up the process' descriptors: the edge then cannot reach
// Kafka, Redis or the upstream, and refuses everybody until node's timeouts close them. The caps
// keep descriptors for those, and keep one address from taking every connection.

/** Descriptors kept for everything but client connections: Kafka, Redis, the spool, the admin port. */
const RESERVED_DESCRIPTORS = 512;
/** A bound when the descriptor limit is huge (containers often allow a million): scale out instead. */
const MAX_DEFAULT_CONNECTIONS = 65_536;
/** When the descriptor limit cannot be read (not Linux). */
const FALLBACK_CONNECTIONS = 10_000;
const MIN_CONNECTIONS = 64;
const LOG_EVERY_MS = 10_000;

/** The soft limit on open files from /proc/self/limits' text, or undefined. */
export function openFilesLimit(limitsText: string): number | undefined {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(limitsText);
  if (!match) return undefined;
  return match[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(match[1]);
}

/**
 * The default cap on client connections: the process' open-files limit less the upstream pool
 * and a reserve, at least 64 and at most 65,536.
 */
export function defaultMaxConnections(upstreamConnections: number, limitsText = readLimits()): number {
  const limit = limitsText === undefined ? undefined : openFilesLimit(limitsText);
  if (limit === undefined) return FALLBACK_CONNECTIONS;
  const available = limit - upstreamConnections - RESERVED_DESCRIPTORS;
  return Math.max(MIN_CONNECTIONS, Math.min(MAX_DEFAULT_CONNECTIONS, available));
}

function readLimits(): string | undefined {
  try {
    return readFileSync("/proc/self/limits", "utf8");
  } catch {
    return undefined;
  }
}

export interface ConnectionLimits {
  /** Client connections the server holds at once; beyond it node closes new ones at accept. */
  maxConnections: number;
  /** Connections one source (an IPv4 address or an IPv6 /64, see clientSource) holds at once; 0: no cap. */
  maxPerSource: number;
}

/**
 * Applies the caps to the client port's server, counts what they refuse
 * (`edge_connections_refused_total{reason}`) and exposes the open connections
 * (`edge_client_connections`). Refusals are logged at most every 10 s.
 */
export function limitConnections(
  server: Server,
  { maxConnections, maxPerSource }: ConnectionLimits,
  { logger, registry, clock = Date.now }: { logger: Logger; registry?: Registry; clock?: () => number },
): { holdDescriptors(count: number): void } {
  const log = logger.child({ component: "connections" });
  const refused = counter(
    registry,
    "edge_connections_refused_total",
    "Client connections closed at once: the edge was full, or their source held its share",
    ["reason"],
  );
  /** Source → its open connections; sources with none are absent. */
  const bySource = new Map<string, number>();
  let open = 0;
  metric(
    registry,
    "edge_client_connections",
    (registers) =>
      new Gauge({
        name: "edge_client_connections",
        help: "Client connections open on the edge's client port",
        registers,
        collect() {
          this.set(open);
        },
      }),
  );

  let unlogged = { edge_full: 0, source_full: 0 };
  let loggedAt = Number.NEGATIVE_INFINITY;
  const refuse = (reason: "edge_full" | "source_full", source: string) => {
    refused.inc({ reason });
    unlogged[reason] += 1;
    const now = clock();
    if (now - loggedAt < LOG_EVERY_MS) return;
    log.warn(
      { refused: unlogged, lastSource: source, open, maxConnections, maxPerSource },
      "refusing client connections: the edge or one source holds as many as it may",
    );
    unlogged = { edge_full: 0, source_full: 0 };
    loggedAt = now;
  };

  server.maxConnections = maxConnections;
  server.on("drop", (data?: { remoteAddress?: string }) =>
    refuse("edge_full", clientSource(data?.remoteAddress ?? "unknown")),
  );
  server.on("connection", (socket: Socket) => {
    const source = clientSource(socket.remoteAddress ?? "unknown");
    const held = bySource.get(source) ?? 0;
    if (maxPerSource > 0 && held >= maxPerSource) {
      socket.destroy();
      refuse("source_full", source);
      return;
    }
    bySource.set(source, held + 1);
    open += 1;
    socket.once("close", () => {
      open -= 1;
      const left = (bySource.get(source) ?? 1) - 1;
      if (left === 0) bySource.delete(source);
      else bySource.set(source, left);
    });
  });
  return {
    /**
     * Descriptors the edge holds beyond its client connections and the reserve, one per open
     * WebSocket (its upstream connection): each takes a client connection's place, so that
     * tunnels cannot use up what Kafka, Redis and the upstream pool need.
     */
    holdDescriptors(count) {
      server.maxConnections = Math.max(1, maxConnections - count);
    },
  };
}
