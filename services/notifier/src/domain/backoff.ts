// Retry timing for delivery attempts: capped exponential backoff with full jitter, and the
// receiver's own Retry-After when it sends one. Pure maths; the caller sleeps.

export interface BackoffPolicy {
  /** The first retry waits up to this long. */
  baseMs: number;
  /** No wait is longer than this, Retry-After included. */
  capMs: number;
}

/**
 * "Full jitter" backoff: a uniformly random wait in [0, min(cap, base * 2^(attempt-1))]. Spreading
 * the whole interval (not just ±50 %) keeps many notifiers that failed together from retrying
 * together, which is what knocks a recovering receiver over again.
 */
export function backoffDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}

/**
 * How long to wait before the attempt after `attempt`: the jittered backoff, but never less than
 * what the receiver asked for in Retry-After, and never more than the cap (a receiver asking for
 * an hour gets the cap; the bounded number of attempts then ends the job).
 */
export function retryDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const jittered = backoffDelayMs(attempt, policy, random);
  const wanted = retryAfterMs === undefined ? jittered : Math.max(jittered, retryAfterMs);
  return Math.min(policy.capMs, wanted);
}

/**
 * Parses a Retry-After header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns
 * milliseconds from `now` (0 for a date in the past), or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only the date forms: Date.parse would also read "5" or "2026" as a date.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}
