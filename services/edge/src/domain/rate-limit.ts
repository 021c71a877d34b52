// The rate-limit rules of the edge, pure: no I/O, the time is always an argument (ms since epoch).
// Fixed windows aligned to the clock: a window starts at floor(now / size) * size, so every edge
// (and Redis) agrees on where a minute, an hour and a day begin and end (UTC).
import { RATE_LIMIT_WINDOWS, type RateLimitWindow, WINDOW_SECONDS } from "@apimon/config";

export type Window = RateLimitWindow;
export const WINDOWS: readonly Window[] = RATE_LIMIT_WINDOWS;

/** Requests allowed per window. */
export interface Limits {
  minute: number;
  hour: number;
  day: number;
}

/** A key's own limits; `null` or a missing field means "use the default". */
export type LimitOverrides = { [W in Window]?: number | null } | null | undefined;

export interface WindowState {
  limit: number;
  remaining: number;
  /** Whole seconds until this window resets, at least 1. */
  reset: number;
}

export interface Decision {
  allowed: boolean;
  windows: Record<Window, WindowState>;
  /** Seconds to wait; set when denied (the `Retry-After` value). */
  retryAfter?: number;
  /** The exhausted window whose reset is furthest away; set when denied by a limit. */
  blockedWindow?: Window;
  /** The limiter could not decide (Redis down and failure mode `closed`): answer 503. */
  unavailable?: boolean;
}

/** Counters of one API key, per window. */
export type WindowCounts = Record<Window, number>;

/** The per-key overrides on top of the defaults. */
export function effectiveLimits(defaults: Limits, overrides: LimitOverrides): Limits {
  return {
    minute: overrides?.minute ?? defaults.minute,
    hour: overrides?.hour ?? defaults.hour,
    day: overrides?.day ?? defaults.day,
  };
}

const MINUTE_MS = WINDOW_SECONDS.minute * 1000;
const HOUR_MS = WINDOW_SECONDS.hour * 1000;
const DAY_MS = WINDOW_SECONDS.day * 1000;

/**
 * A window's length in ms. Every request asks this for all three windows: a comparison with each
 * name stays fast where looking `window` up in a table, from call sites passing different names,
 * falls back to V8's generic (megamorphic) property lookup.
 */
function windowSizeMs(window: Window): number {
  return window === "minute" ? MINUTE_MS : window === "hour" ? HOUR_MS : DAY_MS;
}

/** Start of the window containing `nowMs`, in ms. */
export function windowStartMs(window: Window, nowMs: number): number {
  const sizeMs = windowSizeMs(window);
  return Math.floor(nowMs / sizeMs) * sizeMs;
}

/** End (exclusive) of the window containing `nowMs`, in ms: when its counter expires. */
export function windowEndMs(window: Window, nowMs: number): number {
  return windowStartMs(window, nowMs) + windowSizeMs(window);
}

/** Whole seconds until the window containing `nowMs` resets: ceil, at least 1. */
export function secondsUntilReset(window: Window, nowMs: number): number {
  return Math.max(1, Math.ceil((windowEndMs(window, nowMs) - nowMs) / 1000));
}

function windowState(window: Window, limit: number, used: number, nowMs: number): WindowState {
  return { limit, remaining: Math.max(0, limit - used), reset: secondsUntilReset(window, nowMs) };
}

/**
 * The decision for one request given the counters *before* it: allowed when every window is
 * below its limit (the request then counts in all three); a denied request consumes nothing.
 * The Redis Lua script applies the same rule atomically; this builds the answer from its counts.
 * `counted: false` is the same decision for a request that is not counted even when allowed
 * (refused for another reason): its windows show what is left without it.
 * Every request runs this, so each window is spelled out rather than looked up by name.
 */
export function decide(limits: Limits, before: WindowCounts, nowMs: number, counted = true): Decision {
  const allowed = before.minute < limits.minute && before.hour < limits.hour && before.day < limits.day;
  const step = allowed && counted ? 1 : 0;
  const windows: Record<Window, WindowState> = {
    minute: windowState("minute", limits.minute, before.minute + step, nowMs),
    hour: windowState("hour", limits.hour, before.hour + step, nowMs),
    day: windowState("day", limits.day, before.day + step, nowMs),
  };
  if (allowed) return { allowed, windows };
  const blockedWindow = furthestExhausted(limits, before, windows);
  return { allowed, windows, blockedWindow, retryAfter: windows[blockedWindow].reset };
}

/** Among the exhausted windows, the one whose reset is furthest away (a later one wins ties). */
function furthestExhausted(
  limits: Limits,
  before: WindowCounts,
  windows: Record<Window, WindowState>,
): Window {
  let blocked: Window | undefined;
  for (const w of WINDOWS) {
    if (before[w] < limits[w]) continue;
    if (blocked === undefined || windows[w].reset >= windows[blocked].reset) blocked = w;
  }
  // decide() only calls this when some window is exhausted.
  if (blocked === undefined) throw new Error("no exhausted window in a denied decision");
  return blocked;
}

/** The answer when no limiter could decide (failure mode `closed`): deny with 503, retry soon. */
export function unavailableDecision(limits: Limits, nowMs: number, retryAfter = 1): Decision {
  const windows = {} as Record<Window, WindowState>;
  for (const w of WINDOWS) {
    windows[w] = { limit: limits[w], remaining: 0, reset: secondsUntilReset(w, nowMs) };
  }
  return { allowed: false, unavailable: true, windows, retryAfter };
}

/** The spec's 429 `detail` text, exactly. */
export function rateLimitExceededMessage(window: Window, seconds: number): string {
  return `Rate limit exceeded for ${window}. Try again in ${seconds} seconds`;
}

/** The 429 body's `detail` for a denied decision. */
export function deniedDetail(decision: Decision): string {
  if (decision.allowed || decision.blockedWindow === undefined || decision.retryAfter === undefined) {
    throw new Error("deniedDetail needs a decision denied by a rate limit");
  }
  return rateLimitExceededMessage(decision.blockedWindow, decision.retryAfter);
}

/** The window a client should watch: fewest remaining, then the furthest reset. */
export function mostConstrainedWindow(decision: Decision): Window {
  if (decision.blockedWindow !== undefined) return decision.blockedWindow;
  const { minute, hour, day } = decision.windows;
  let best: Window = "minute";
  let state = minute;
  if (hour.remaining < state.remaining || (hour.remaining === state.remaining && hour.reset > state.reset)) {
    best = "hour";
    state = hour;
  }
  if (day.remaining < state.remaining || (day.remaining === state.remaining && day.reset > state.reset)) {
    best = "day";
  }
  return best;
}

interface LimitFields {
  minute: string;
  hour: string;
  day: string;
  /** The `RateLimit-Policy` value. */
  policy: string;
}

/** The fields that depend only on the limits, for the limits last asked for. */
let lastLimitFields = { minute: 0, hour: 0, day: 0, fields: limitFieldsOf(0, 0, 0) };

/**
 * The limit fields of the three limits. They change only with a key's limits and most keys share
 * the defaults, so the last answer is kept: the policy is the longest value the edge sends, and
 * building it, and flattening it for node's check of each value, came on every request.
 */
function limitFields(minute: number, hour: number, day: number): LimitFields {
  const last = lastLimitFields;
  if (last.minute === minute && last.hour === hour && last.day === day) return last.fields;
  lastLimitFields = { minute, hour, day, fields: limitFieldsOf(minute, hour, day) };
  return lastLimitFields.fields;
}

function limitFieldsOf(minute: number, hour: number, day: number): LimitFields {
  return {
    minute: String(minute),
    hour: String(hour),
    day: String(day),
    policy:
      `"minute";q=${minute};w=${WINDOW_SECONDS.minute}, ` +
      `"hour";q=${hour};w=${WINDOW_SECONDS.hour}, ` +
      `"day";q=${day};w=${WINDOW_SECONDS.day}`,
  };
}

/**
 * Headers for every authenticated response, 429 included:
 * - the spec's `X-RateLimit-{Minute,Hour,Day}-{Limit,Remaining,Reset}` (Reset in seconds);
 * - the IETF httpapi draft "RateLimit header fields for HTTP" in its current structured-field
 *   form (draft-ietf-httpapi-ratelimit-headers-08 and later): `RateLimit-Policy` lists one named
 *   policy per window with its quota `q` and window `w` in seconds,
 *   `"minute";q=100;w=60, "hour";q=1000;w=3600, "day";q=10000;w=86400`, and `RateLimit` names the
 *   most constrained policy with its remaining quota `r` and seconds to reset `t`,
 *   `"minute";r=95;t=42`;
 * - `Retry-After` (seconds) when denied.
 */
export function rateLimitHeaders(decision: Decision): Record<string, string> {
  // One object literal with constant names (it runs on every request): V8 builds it with a fixed
  // shape instead of growing a dictionary from computed names.
  const { minute, hour, day } = decision.windows;
  const constrained = mostConstrainedWindow(decision);
  const state = constrained === "minute" ? minute : constrained === "hour" ? hour : day;
  const fixed = limitFields(minute.limit, hour.limit, day.limit);
  const headers: Record<string, string> = {
    "X-RateLimit-Minute-Limit": fixed.minute,
    "X-RateLimit-Minute-Remaining": String(minute.remaining),
    "X-RateLimit-Minute-Reset": String(minute.reset),
    "X-RateLimit-Hour-Limit": fixed.hour,
    "X-RateLimit-Hour-Remaining": String(hour.remaining),
    "X-RateLimit-Hour-Reset": String(hour.reset),
    "X-RateLimit-Day-Limit": fixed.day,
    "X-RateLimit-Day-Remaining": String(day.remaining),
    "X-RateLimit-Day-Reset": String(day.reset),
    "RateLimit-Policy": fixed.policy,
    RateLimit: `"${constrained}";r=${state.remaining};t=${state.reset}`,
  };
  if (!decision.allowed && decision.retryAfter !== undefined) {
    headers["Retry-After"] = String(decision.retryAfter);
  }
  return headers;
}
