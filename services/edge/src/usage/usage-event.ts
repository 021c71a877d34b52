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
  return (req, apiKeyId, userId, decision, statusCode, startedAt, startedMs, clientIp) => ({
    id: newEventId(),
    occurredAt: new Date(startedAt).toISOString(),
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
