import type { IncomingMessage } from "node:http";
import { performance } from "node:perf_hooks";
import { newEventId, type UsageEvent } from "@apimon/events";
import type { Decision } from "../domain/rate-limit";

export type UsageEventBuilder = (
  req: IncomingMessage,
  apiKeyId: number,
  userId: number,
  decision: Decision,
  statusCode: number,
  startedAt: number,
  startedMs: number,
  clientIp: string,
) => UsageEvent;

/** Each millisecond of a second as the end of an ISO 8601 timestamp: "000Z" to "999Z". */
const MILLISECOND_SUFFIXES = Array.from({ length: 1000 }, (_, ms) => `${String(ms).padStart(3, "0")}Z`);

/**
 * `new Date(epochMs).toISOString()`, with the text up to the second kept from the last call:
 * requests start many to a second, and V8 formats a date in C++ through the time zone cache.
 */
export function createIsoTimestamp(): (epochMs: number) => string {
  /** The epoch ms of the second whose text is kept, and that text: "2026-12-04T23:59:59.". */
  let secondMs = Number.NaN;
  let prefix = "";
  return (epochMs) => {
    const startMs = Math.floor(epochMs / 1000) * 1000;
    const suffix = MILLISECOND_SUFFIXES[epochMs - startMs];
    if (suffix === undefined) return new Date(epochMs).toISOString();
    if (startMs !== secondMs) {
      secondMs = startMs;
      prefix = new Date(startMs).toISOString().slice(0, 20);
    }
    return prefix + suffix;
  };
}

/**
 * The usage event of one authenticated call: when it started (`startedAt`, epoch ms), how long
 * it took (from `startedMs`, performance.now()), its normalised endpoint and the windows the
 * limiter answered with.
 */
export function createUsageEventBuilder({
  normaliseEndpoint,
  instanceId,
}: {
  normaliseEndpoint: (path: string) => string;
  instanceId: string;
}): UsageEventBuilder {
  const isoTimestamp = createIsoTimestamp();
  return (req, apiKeyId, userId, decision, statusCode, startedAt, startedMs, clientIp) => ({
    id: newEventId(),
    occurredAt: isoTimestamp(startedAt),
    apiKeyId,
    userId,
    endpoint: normaliseEndpoint(req.url ?? "/"),
    method: (req.method ?? "GET").slice(0, 16),
    statusCode,
    responseTimeMs: Math.round((performance.now() - startedMs) * 1000) / 1000,
    rateLimited: !decision.allowed && !decision.unavailable,
    limits: decision.windows,
    clientIp,
    edgeInstance: instanceId,
  });
}
