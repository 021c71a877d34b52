import {
  type AlertThresholdSettings,
  type EndpointThresholds,
  endpointThresholdResolver,
  RATE_LIMIT_WINDOWS,
  type RateLimitWindow,
  WINDOW_SECONDS,
} from "@apimon/config";
import type { AlertSignal, UsageEvent } from "@apimon/events";
import { Condition, type ConditionSettings, checkQuiet, evaluate, isIdle, type Verdict } from "./condition";
import { type AlertType, fingerprint } from "./fingerprint";
import { judgeErrorRate, judgeRateLimit, judgeResponseTime, judgeUsageSpike } from "./rules";
import { SlidingCounter } from "./sliding-counter";
import { SpikeBaseline } from "./spike-baseline";

interface EndpointState {
  /** `GET /users/:id` */
  label: string;
  method: string;
  path: string;
  subject: string;
  /** This endpoint's thresholds, resolved once per settings in force. */
  thresholds?: { of: RuleSettings; value: EndpointThresholds };
  requests: SlidingCounter;
  responseTime?: Condition;
  errorRate?: Condition;
  /** occurredAt of its latest event: the least recent go first when the table is full. */
  lastSeen: number;
}

interface KeyState {
  id: number;
  subject: string;
  endpoints: Map<string, EndpointState>;
  spike?: SpikeBaseline;
  usageSpike?: Condition;
  rateLimit: Partial<Record<RateLimitWindow, Condition>>;
}

/** Rule settings resolved for one evaluation pass. */
export interface RuleSettings {
  thresholds: AlertThresholdSettings;
  condition: ConditionSettings;
  /** The response_time and error_rate thresholds of one key's endpoint, overrides applied. */
  endpointThresholds: (apiKeyId: number, method: string, path: string) => EndpointThresholds;
}

export function ruleSettings(thresholds: AlertThresholdSettings, updateIntervalMs?: number): RuleSettings {
  return {
    thresholds,
    endpointThresholds: endpointThresholdResolver(thresholds),
    condition: {
      consecutiveEvaluations: thresholds.consecutiveEvaluations,
      quietPeriodMs: thresholds.quietPeriodSeconds * 1000,
      ...(updateIntervalMs !== undefined && { updateIntervalMs }),
    },
  };
}

/**
 * The usage-event rules' state for the keys of one partition of usage.events.v1 (keyed by API
 * key, so a key's whole state lives here): per key and endpoint a sliding request/5xx counter
 * and the response_time and error_rate conditions; per key the spike baseline and the
 * usage_spike and rate_limit_approaching conditions.
 */
/** Endpoints (of all keys) tracked per partition unless the detector is told otherwise. */
export const DEFAULT_MAX_TRACKED_ENDPOINTS = 20_000;

export class UsagePartitionState {
  private readonly keys = new Map<number, KeyState>();
  /** Conditions that fire or are on their way to (damping); the tick looks only at these. */
  private readonly active = new Set<Condition>();
  /** Endpoints tracked over all keys. */
  private endpoints = 0;
  /** Endpoints forgotten to make room, since the state was made. */
  evicted = 0;

  /**
   * `maxEndpoints` bounds the per-endpoint table (about a kilobyte each): a client calling paths
   * with a name in them (`/api/users/alice`, which the edge cannot tell from a route) would
   * otherwise grow it with every new name for as long as the error-rate window lasts. Past it,
   * the least recently called endpoints without an open condition are forgotten, a tenth of the
   * table at a time; a forgotten endpoint that is called again starts its window from zero.
   */
  constructor(private readonly maxEndpoints = DEFAULT_MAX_TRACKED_ENDPOINTS) {}

  /** Applies one event at its occurredAt; pushes the signals it causes onto `out`. */
  apply(event: UsageEvent, s: RuleSettings, out: AlertSignal[]): void {
    const t = s.thresholds;
    const at = Date.parse(event.occurredAt);
    let key = this.keys.get(event.apiKeyId);
    if (key === undefined) {
      key = { id: event.apiKeyId, subject: `key ${event.apiKeyId}`, endpoints: new Map(), rateLimit: {} };
      this.keys.set(event.apiKeyId, key);
    }
    const label = `${event.method} ${event.endpoint}`;
    let endpoint = key.endpoints.get(label);
    if (endpoint === undefined) {
      if (this.endpoints >= this.maxEndpoints) this.evictLeastRecent();
      endpoint = {
        label,
        method: event.method,
        path: event.endpoint,
        subject: `key ${key.id}, ${label}`,
        requests: new SlidingCounter(t.error_rate.windowSeconds * 1000, bucketMs(t.error_rate.windowSeconds)),
        lastSeen: at,
      };
      key.endpoints.set(label, endpoint);
      this.endpoints++;
    } else if (at > endpoint.lastSeen) {
      endpoint.lastSeen = at;
    }

    if (endpoint.thresholds?.of !== s) {
      endpoint.thresholds = { of: s, value: s.endpointThresholds(key.id, endpoint.method, endpoint.path) };
    }
    const own = endpoint.thresholds.value;

    // response_time: every request is an evaluation.
    const slow = judgeResponseTime(
      event.responseTimeMs,
      own.response_time,
      endpoint.subject,
      own.responseTimeSetFor,
    );
    if (slow !== null || endpoint.responseTime !== undefined) {
      endpoint.responseTime ??= this.condition("response_time", key.id, endpoint);
      this.run(endpoint.responseTime, slow, at, s, out);
    }

    // error_rate: the window's share of 5xx after counting this request.
    endpoint.requests.resize(t.error_rate.windowSeconds * 1000);
    endpoint.requests.add(at, event.statusCode >= 500);
    const failing = judgeErrorRate(
      endpoint.requests.total,
      endpoint.requests.hits,
      own.error_rate,
      endpoint.subject,
      own.errorRateSetFor,
    );
    if (failing !== null || endpoint.errorRate !== undefined) {
      endpoint.errorRate ??= this.condition("error_rate", key.id, endpoint);
      this.run(endpoint.errorRate, failing, at, s, out);
    }

    // usage_spike: the current window against the baseline of the previous ones.
    const spikeSettings = t.usage_spike;
    if (
      key.spike === undefined ||
      key.spike.settings.windowSeconds !== spikeSettings.windowSeconds ||
      key.spike.settings.baselineSeconds !== spikeSettings.baselineSeconds
    ) {
      // New windows cannot be derived from old ones: the baseline starts over.
      key.spike = new SpikeBaseline(at, {
        windowSeconds: spikeSettings.windowSeconds,
        baselineSeconds: spikeSettings.baselineSeconds,
      });
    }
    if (key.spike.add(at)) {
      const spike = judgeUsageSpike(key.spike.current, key.spike.baseline, spikeSettings, key.subject);
      if (spike !== null || key.usageSpike !== undefined) {
        key.usageSpike ??= this.condition("usage_spike", key.id);
        this.run(key.usageSpike, spike, at, s, out);
      }
    }

    // rate_limit_approaching: each window the edge reported, once per window instance.
    for (const window of RATE_LIMIT_WINDOWS) {
      const state = event.limits[window];
      const windowEnd = at + state.reset * 1000;
      let condition = key.rateLimit[window];
      if (
        condition?.resolveAt !== undefined &&
        windowEnd - condition.resolveAt > (WINDOW_SECONDS[window] * 1000) / 2
      ) {
        // This event belongs to a later window: the one that fired has reset.
        this.push(out, checkQuiet(condition, condition.resolveAt, s.condition));
      }
      const verdict: Verdict | null = judgeRateLimit(
        state.limit,
        state.remaining,
        state.reset,
        t.rate_limit_approaching,
        `key ${key.id}, ${window} window`,
      );
      if (verdict === null && condition === undefined) continue;
      if (condition === undefined) {
        condition = new Condition(
          "rate_limit_approaching",
          fingerprint("rate_limit_approaching", { apiKeyId: key.id, window }),
          { apiKeyId: key.id },
          `key ${key.id}, ${window} window`,
        );
        key.rateLimit[window] = condition;
      }
      this.run(condition, verdict, at, s, out);
      if (condition.firing !== null && condition.resolveAt === undefined) condition.resolveAt = windowEnd;
    }
  }

  /** Resolves and de-escalates what went quiet by `nowMs`; pushes the signals onto `out`. */
  tick(nowMs: number, s: RuleSettings, out: AlertSignal[]): void {
    for (const condition of this.active) {
      this.push(out, checkQuiet(condition, nowMs, s.condition));
      if (isIdle(condition, nowMs, s.condition)) this.active.delete(condition);
    }
  }

  /** Forgets state that can no longer matter at `nowMs`: idle conditions, empty windows, stale keys. */
  sweep(nowMs: number, s: RuleSettings): void {
    for (const [id, key] of this.keys) {
      for (const [label, endpoint] of key.endpoints) {
        endpoint.requests.advance(nowMs);
        if (endpoint.responseTime && this.forgettable(endpoint.responseTime, nowMs, s))
          endpoint.responseTime = undefined;
        if (endpoint.errorRate && this.forgettable(endpoint.errorRate, nowMs, s))
          endpoint.errorRate = undefined;
        if (endpoint.requests.isEmpty() && !endpoint.responseTime && !endpoint.errorRate) {
          key.endpoints.delete(label);
          this.endpoints--;
        }
      }
      if (key.usageSpike && this.forgettable(key.usageSpike, nowMs, s)) key.usageSpike = undefined;
      for (const window of RATE_LIMIT_WINDOWS) {
        const condition = key.rateLimit[window];
        if (condition && this.forgettable(condition, nowMs, s)) delete key.rateLimit[window];
      }
      if (key.spike?.isStale(nowMs)) key.spike = undefined;
      if (
        key.endpoints.size === 0 &&
        key.spike === undefined &&
        key.usageSpike === undefined &&
        Object.keys(key.rateLimit).length === 0
      ) {
        this.keys.delete(id);
      }
    }
  }

  /** Conditions currently firing or pending. */
  conditions(): Condition[] {
    return [...this.active];
  }

  keyCount(): number {
    return this.keys.size;
  }

  /** Endpoints tracked, over all keys. */
  endpointCount(): number {
    return this.endpoints;
  }

  /** Forgets the least recently called tenth of the table, sparing endpoints with a condition. */
  private evictLeastRecent(): void {
    const candidates: { key: KeyState; endpoint: EndpointState }[] = [];
    for (const key of this.keys.values())
      for (const endpoint of key.endpoints.values())
        if (!endpoint.responseTime && !endpoint.errorRate) candidates.push({ key, endpoint });
    candidates.sort((a, b) => a.endpoint.lastSeen - b.endpoint.lastSeen);
    for (const { key, endpoint } of candidates.slice(0, Math.max(1, Math.ceil(this.maxEndpoints / 10)))) {
      key.endpoints.delete(endpoint.label);
      this.endpoints--;
      this.evicted++;
    }
  }

  /** The spike baseline of a key, for inspection. */
  baselineOf(apiKeyId: number): { current: number; baseline: number | null } | undefined {
    const spike = this.keys.get(apiKeyId)?.spike;
    return spike && { current: spike.current, baseline: spike.baseline };
  }

  private forgettable(condition: Condition, nowMs: number, s: RuleSettings): boolean {
    if (!isIdle(condition, nowMs, s.condition)) return false;
    this.active.delete(condition);
    return true;
  }

  private condition(type: AlertType, apiKeyId: number, endpoint?: EndpointState): Condition {
    const condition = endpoint
      ? new Condition(
          type,
          fingerprint(type, { apiKeyId, endpoint: endpoint.label }),
          { apiKeyId, endpoint: endpoint.label.slice(0, 512) },
          endpoint.subject,
        )
      : new Condition(type, fingerprint(type, { apiKeyId }), { apiKeyId }, `key ${apiKeyId}`);
    return condition;
  }

  private run(
    condition: Condition,
    verdict: Verdict | null,
    at: number,
    s: RuleSettings,
    out: AlertSignal[],
  ) {
    // A match (re)activates the condition, so the tick will resolve it.
    if (verdict !== null) this.active.add(condition);
    this.push(out, evaluate(condition, verdict, at, s.condition));
  }

  private push(out: AlertSignal[], signal: AlertSignal | null): void {
    if (signal !== null) out.push(signal);
  }
}

/** Bucket length of a sliding window: 1 s up to 5 minutes, then a 300th of the window. */
export function bucketMs(windowSeconds: number): number {
  return Math.max(1000, Math.ceil(windowSeconds / 300) * 1000);
}
