import { type AlertSignal, type AuthFailure, clientSource } from "@apimon/events";
import { Condition, checkQuiet, evaluate, isIdle, type Verdict } from "./condition";
import { fingerprint } from "./fingerprint";
import { judgeUnauthorized } from "./rules";
import { SlidingCounter } from "./sliding-counter";
import { bucketMs, type RuleSettings } from "./usage-state";

interface Counted {
  failures: SlidingCounter;
  condition?: Condition;
}

interface KeyFailures {
  /** Failures against the key, per partition of auth.failures.v1 they were read from. */
  byPartition: Map<number, SlidingCounter>;
  condition?: Condition;
}

/**
 * unauthorized_access state. auth.failures.v1 is keyed by client IP, so an IP's count lives with
 * its partition. Failures against one inactive key may come from many IPs, hence from several
 * partitions: they are counted per partition and summed over the partitions this instance owns
 * (exact with one detector instance; with several, each sees its own share).
 */
/** Client IPs tracked per partition unless the detector is told otherwise. */
export const DEFAULT_MAX_TRACKED_IPS = 100_000;

export class AuthFailureState {
  private readonly ips = new Map<number, Map<string, Counted>>();

  /**
   * `maxIpsPerPartition` bounds the per-IP table of each partition: past it, the least recently
   * failing IP without an open condition is forgotten, so a flood from many addresses cannot grow
   * the detector without bound (a forgotten IP starts counting from zero if it comes back).
   */
  constructor(private readonly maxIpsPerPartition = DEFAULT_MAX_TRACKED_IPS) {}
  private readonly keys = new Map<number, KeyFailures>();
  private readonly activeByPartition = new Map<number, Set<Condition>>();
  private readonly activeKeys = new Set<Condition>();

  apply(partition: number, failure: AuthFailure, s: RuleSettings, out: AlertSignal[]): void {
    const t = s.thresholds.unauthorized_access;
    const windowMs = t.windowSeconds * 1000;
    const at = Date.parse(failure.occurredAt);

    let ips = this.ips.get(partition);
    if (ips === undefined) {
      ips = new Map();
      this.ips.set(partition, ips);
    }
    // An IPv6 client can take a new address of its /64 for every attempt: they count together.
    const source = clientSource(failure.clientIp);
    let ip = ips.get(source);
    if (ip === undefined) {
      ip = { failures: new SlidingCounter(windowMs, bucketMs(t.windowSeconds)) };
      this.evictLeastRecent(ips);
    } else {
      ips.delete(source); // re-inserted below: the Map's order is the order of last failure
    }
    ips.set(source, ip);
    ip.failures.resize(windowMs);
    ip.failures.add(at, false, failure.count ?? 1);
    const fromIp = judgeUnauthorized(ip.failures.total, t, `client ${source}`);
    if (fromIp !== null || ip.condition !== undefined) {
      ip.condition ??= new Condition(
        "unauthorized_access",
        fingerprint("unauthorized_access", { clientIp: source }),
        { clientIp: source },
        `client ${source}`,
      );
      this.run(this.activeFor(partition), ip.condition, fromIp, at, s, out);
    }

    if (failure.reason !== "inactive" || failure.apiKeyId === undefined) return;
    const apiKeyId = failure.apiKeyId;
    let key = this.keys.get(apiKeyId);
    if (key === undefined) {
      key = { byPartition: new Map() };
      this.keys.set(apiKeyId, key);
    }
    let counter = key.byPartition.get(partition);
    if (counter === undefined) {
      counter = new SlidingCounter(windowMs, bucketMs(t.windowSeconds));
      key.byPartition.set(partition, counter);
    }
    counter.resize(windowMs);
    counter.add(at, false, failure.count ?? 1);
    let total = 0;
    for (const c of key.byPartition.values()) {
      c.advance(at);
      total += c.total;
    }
    const againstKey = judgeUnauthorized(total, t, `inactive key ${apiKeyId}`);
    if (againstKey !== null || key.condition !== undefined) {
      key.condition ??= new Condition(
        "unauthorized_access",
        fingerprint("unauthorized_access", { apiKeyId }),
        { apiKeyId },
        `inactive key ${apiKeyId}`,
      );
      this.run(this.activeKeys, key.condition, againstKey, at, s, out);
    }
  }

  /**
   * Resolves what went quiet. `nowFor` gives each partition's resolution time, or null to skip it
   * (its state is being rebuilt); `keysNow` that of the per-key conditions (null: skip them).
   */
  tick(
    s: RuleSettings,
    out: AlertSignal[],
    nowFor: (partition: number) => number | null,
    keysNow: number | null,
  ): void {
    for (const [partition, active] of this.activeByPartition) {
      const now = nowFor(partition);
      if (now !== null) this.tickSet(active, now, s, out);
    }
    if (keysNow !== null) this.tickSet(this.activeKeys, keysNow, s, out);
  }

  /** Tick for one partition only (during its replay, at replayed event time). */
  tickPartition(partition: number, nowMs: number, s: RuleSettings, out: AlertSignal[]): void {
    const active = this.activeByPartition.get(partition);
    if (active) this.tickSet(active, nowMs, s, out);
  }

  sweep(nowMs: number, s: RuleSettings): void {
    for (const ips of this.ips.values()) {
      for (const [address, ip] of ips) {
        ip.failures.advance(nowMs);
        if (ip.condition && isIdle(ip.condition, nowMs, s.condition)) ip.condition = undefined;
        if (ip.failures.isEmpty() && ip.condition === undefined) ips.delete(address);
      }
    }
    for (const [apiKeyId, key] of this.keys) {
      for (const [partition, counter] of key.byPartition) {
        counter.advance(nowMs);
        if (counter.isEmpty()) key.byPartition.delete(partition);
      }
      if (key.condition && isIdle(key.condition, nowMs, s.condition)) {
        this.activeKeys.delete(key.condition);
        key.condition = undefined;
      }
      if (key.byPartition.size === 0 && key.condition === undefined) this.keys.delete(apiKeyId);
    }
  }

  /** Forgets a partition that was revoked (or is about to be rebuilt), without signalling. */
  dropPartition(partition: number): void {
    this.ips.delete(partition);
    this.activeByPartition.delete(partition);
    for (const key of this.keys.values()) key.byPartition.delete(partition);
  }

  conditions(): Condition[] {
    return [...this.activeKeys, ...[...this.activeByPartition.values()].flatMap((set) => [...set])];
  }

  /** IPs tracked in a partition. */
  trackedIps(partition: number): number {
    return this.ips.get(partition)?.size ?? 0;
  }

  /** Makes room for one more IP: drops the least recently failing one without an open condition. */
  private evictLeastRecent(ips: Map<string, Counted>): void {
    if (ips.size < this.maxIpsPerPartition) return;
    for (const [address, ip] of ips) {
      if (ip.condition === undefined) {
        ips.delete(address);
        return;
      }
    }
  }

  private activeFor(partition: number): Set<Condition> {
    let active = this.activeByPartition.get(partition);
    if (active === undefined) {
      active = new Set();
      this.activeByPartition.set(partition, active);
    }
    return active;
  }

  private tickSet(active: Set<Condition>, nowMs: number, s: RuleSettings, out: AlertSignal[]): void {
    for (const condition of active) {
      const signal = checkQuiet(condition, nowMs, s.condition);
      if (signal !== null) out.push(signal);
      if (isIdle(condition, nowMs, s.condition)) active.delete(condition);
    }
  }

  private run(
    active: Set<Condition>,
    condition: Condition,
    verdict: Verdict | null,
    at: number,
    s: RuleSettings,
    out: AlertSignal[],
  ): void {
    if (verdict !== null) active.add(condition);
    const signal = evaluate(condition, verdict, at, s.condition);
    if (signal !== null) out.push(signal);
  }
}
