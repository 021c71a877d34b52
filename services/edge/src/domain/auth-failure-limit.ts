// Failed authentications per client IP and minute. An IP that used up its failures for the
// minute is refused before its key is hashed, and its refusals are counted rather than each sent
// as an event: one summary per IP and minute goes out once the minute has ended. An "IP" is a
// client source: an IPv4 address or an IPv6 /64, whose addresses a client can change at will.
// The table is bounded: past `maxIps` the least recently failing IP is forgotten (its summary, if
// any, is kept).

import { clientSource } from "@apimon/events";

const MINUTE_MS = 60_000;

interface IpFailures {
  minute: number;
  failures: number;
  refused: number;
  /** The first refused request's path and method, for the summary. */
  path: string;
  method: string;
}

/** Refusals of one IP in one minute, reported once the minute has ended. */
export interface RefusalSummary {
  /** The source: an IPv4 address, or an IPv6 /64 such as `2001:db8:0:12::/64`. */
  clientIp: string;
  minuteStartMs: number;
  refused: number;
  /** The raw path of the minute's first refused request. */
  path: string;
  method: string;
}

export interface AuthFailureLimit {
  /** True when the address' source has no failures left this minute; the refusal is counted. */
  refuses(address: string, nowMs: number, path: string, method: string): boolean;
  /** Counts one failed authentication of the address' source. */
  failed(address: string, nowMs: number): void;
  /** Summaries of the minutes that ended before `nowMs`, each once; forgets those minutes. */
  takeEnded(nowMs: number): RefusalSummary[];
  /** IPs tracked (bounded by `maxIps`). */
  size(): number;
}

export function createAuthFailureLimit({
  perMinute,
  maxIps = 100_000,
}: {
  perMinute: number;
  maxIps?: number;
}): AuthFailureLimit {
  const ips = new Map<string, IpFailures>();
  let evicted: RefusalSummary[] = [];

  const summary = (ip: string, state: IpFailures): RefusalSummary => ({
    clientIp: ip,
    minuteStartMs: state.minute * MINUTE_MS,
    refused: state.refused,
    path: state.path,
    method: state.method,
  });

  return {
    refuses(address, nowMs, path, method) {
      const state = ips.get(clientSource(address));
      if (state === undefined || state.minute !== Math.floor(nowMs / MINUTE_MS)) return false;
      if (state.failures < perMinute) return false;
      if (state.refused === 0) {
        state.path = path;
        state.method = method;
      }
      state.refused += 1;
      return true;
    },
    failed(address, nowMs) {
      const ip = clientSource(address);
      const minute = Math.floor(nowMs / MINUTE_MS);
      let state = ips.get(ip);
      if (state !== undefined && state.minute !== minute) {
        if (state.refused > 0) evicted.push(summary(ip, state));
        state = undefined;
      }
      if (state === undefined) {
        state = { minute, failures: 0, refused: 0, path: "", method: "" };
      } else {
        ips.delete(ip); // re-inserted below: the Map's order is the order of last failure
      }
      state.failures += 1;
      ips.set(ip, state);
      if (ips.size > maxIps) {
        const [oldestIp, oldest] = ips.entries().next().value as [string, IpFailures];
        ips.delete(oldestIp);
        if (oldest.refused > 0) evicted.push(summary(oldestIp, oldest));
      }
    },
    takeEnded(nowMs) {
      const minute = Math.floor(nowMs / MINUTE_MS);
      const ended = evicted;
      evicted = [];
      for (const [ip, state] of ips) {
        if (state.minute >= minute) continue;
        ips.delete(ip);
        if (state.refused > 0) ended.push(summary(ip, state));
      }
      return ended;
    },
    size: () => ips.size,
  };
}
