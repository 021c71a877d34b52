import { clientSource } from "@apimon/events";
import { counter, type Registry } from "@apimon/observability";

// Wrong admin tokens per client source (an IPv4 address or an IPv6 /64) and minute. A source that
// used up its attempts is refused, right token or wrong, until the minute ends: otherwise an
// answer would still tell a guess that hit from one that missed. The limit is per process, and a
// source is whatever connects, or behind trusted proxies the client the outermost one saw
// (clientAddress). A request without an address (not from a socket, or one already closed) is
// not counted.

const MINUTE_MS = 60_000;

/** Wrong admin tokens a client source may present in a minute before it is refused. */
export const ADMIN_TOKEN_GUESSES_PER_MINUTE = 20;

export interface GuessLimit {
  /** Seconds until the address' source may try again, counted as a refusal; 0 when it may now. */
  retryAfterSeconds(address: string | undefined, nowMs: number): number;
  /** Counts a wrong token from the address' source; true when that used up its minute's attempts. */
  failed(address: string | undefined, nowMs: number): boolean;
}

export function createGuessLimit({
  perMinute = ADMIN_TOKEN_GUESSES_PER_MINUTE,
  maxSources = 10_000,
  registry,
}: {
  perMinute?: number;
  /** Sources tracked at most; past it the one that failed least recently is forgotten. */
  maxSources?: number;
  /** Where `admin_token_refusals_total` is counted. */
  registry?: Registry;
} = {}): GuessLimit {
  const sources = new Map<string, { minute: number; failures: number }>();
  const refusals = counter(
    registry,
    "admin_token_refusals_total",
    "Admin requests and sign-ins refused: a wrong token (wrong_token), or a client source past its wrong tokens for the minute (too_many)",
    ["reason"],
  );

  return {
    retryAfterSeconds(address, nowMs) {
      if (address === undefined) return 0;
      const state = sources.get(clientSource(address));
      const minute = Math.floor(nowMs / MINUTE_MS);
      if (state === undefined || state.minute !== minute || state.failures < perMinute) return 0;
      refusals.inc({ reason: "too_many" });
      return Math.max(1, Math.ceil(((minute + 1) * MINUTE_MS - nowMs) / 1000));
    },
    failed(address, nowMs) {
      refusals.inc({ reason: "wrong_token" });
      if (address === undefined) return false;
      const source = clientSource(address);
      const minute = Math.floor(nowMs / MINUTE_MS);
      const state = sources.get(source);
      // Deleted and set again, so the map's order stays least recently failing first.
      sources.delete(source);
      const failures = state !== undefined && state.minute === minute ? state.failures + 1 : 1;
      sources.set(source, { minute, failures });
      if (sources.size > maxSources) sources.delete(sources.keys().next().value as string);
      return failures === perMinute;
    },
  };
}

/** The spec's wording for a limit, for wrong tokens: "… Try again in 42 seconds". */
export function tooManyGuessesDetail(seconds: number): string {
  return `Too many wrong admin tokens from this address. Try again in ${seconds} seconds`;
}
