// The shared limiter: one Redis round trip per decision.
//
// Keys: `<prefix>{ak:<apiKeyId>}:<window>:<windowStartSeconds>`. The hash tag `{ak:<id>}` puts
// the three counters of a key in one Redis Cluster slot, so one script may touch them all.
// The window start in the name means a new window is a new key: no reset logic, and an old
// counter simply expires when its window ends.
//
// The window a request counts in comes from the edge's clock (`clock`), which tests can move;
// how long a counter lives is relative (PEXPIRE, the time left in its window by that same clock),
// so Redis's own clock never enters. An absolute expiry would mix the two clocks: an edge running
// late would set expiry times already past on Redis's clock, its counters would vanish as soon
// as they were written, and its keys would go unlimited for as long as the skew. With relative
// expiry a skewed edge still counts every request; edges whose clocks disagree near a boundary
// may briefly count into different windows (a key can get up to one extra window's worth of
// requests around the boundary), which NTP-synchronised hosts make negligible.

import { WINDOW_SECONDS } from "@apimon/config";
import {
  type CommandArgs,
  defineLuaScript,
  type EncodedArgs,
  encodeArgs,
  isNoScriptError,
  type LuaScript,
  type ScriptRunner,
} from "@apimon/redis";
import {
  type Decision,
  decide,
  type Limits,
  WINDOWS,
  type Window,
  type WindowCounts,
  windowEndMs,
  windowStartMs,
} from "../domain/rate-limit";
import type { CheckOptions, Clock, Limiter } from "./limiter";

/**
 * KEYS: minute, hour, day counters. ARGV: the three limits, the ms left in each window, then
 * 1 to count or 0 not to. Reads all three counters; when every one is below its limit (and
 * counting), increments all three and sets each to expire when its window ends; otherwise
 * changes nothing. Returns
 * {allowed (1|0), minute, hour, day} with the counts *before* this request.
 */
export const CHECK_AND_INCREMENT_LUA = `
local counts = redis.call('MGET', KEYS[1], KEYS[2], KEYS[3])
local allowed = 1
for i = 1, 3 do
  counts[i] = tonumber(counts[i]) or 0
  if counts[i] >= tonumber(ARGV[i]) then allowed = 0 end
end
if allowed == 1 and ARGV[7] == '1' then
  for i = 1, 3 do
    redis.call('INCR', KEYS[i])
    redis.call('PEXPIRE', KEYS[i], ARGV[i + 3])
  end
end
return {allowed, counts[1], counts[2], counts[3]}
`;

/**
 * The sliding-window variant (the "sliding window counter" of Cloudflare and others): a window's
 * count is the current fixed window's counter plus the previous one's, weighted by how much of
 * the previous window still lies inside the sliding window ending now. That smooths the burst a
 * fixed window allows at its boundary (up to 2x the limit within one window's length), at the
 * cost of one more counter per window.
 *
 * KEYS: for each of minute, hour, day: the current then the previous window's counter (6 keys,
 * one hash tag). ARGV: the three limits, the ms each current counter must live, the three weights
 * of the previous windows (0..1), then 1 to count or 0 not to. A current counter lives until the end of the window after its
 * own, where it serves as "previous". Returns {allowed, minute, hour, day}: the estimates before
 * this request, rounded down.
 */
export const SLIDING_CHECK_AND_INCREMENT_LUA = `
local counts = redis.call('MGET', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
local estimates = {}
local allowed = 1
for i = 1, 3 do
  local current = tonumber(counts[2 * i - 1]) or 0
  local previous = tonumber(counts[2 * i]) or 0
  estimates[i] = math.floor(previous * tonumber(ARGV[i + 6]) + current)
  if estimates[i] >= tonumber(ARGV[i]) then allowed = 0 end
end
if allowed == 1 and ARGV[10] == '1' then
  for i = 1, 3 do
    redis.call('INCR', KEYS[2 * i - 1])
    redis.call('PEXPIRE', KEYS[2 * i - 1], ARGV[i + 3])
  end
end
return {allowed, estimates[1], estimates[2], estimates[3]}
`;

const script: LuaScript = defineLuaScript(CHECK_AND_INCREMENT_LUA);
const slidingScript: LuaScript = defineLuaScript(SLIDING_CHECK_AND_INCREMENT_LUA);

/** `fixed`: windows aligned to the clock (the default); `sliding`: the sliding window counter. */
export type RateLimitAlgorithm = "fixed" | "sliding";

/** The edge's pipelined connection: it takes commands whose leading arguments are encoded once. */
interface EncodedCommandRunner extends ScriptRunner {
  sendEncoded(args: CommandArgs): Promise<unknown>;
}

export interface RedisLimiterOptions {
  /** ioredis, or the edge's pipelined connection. */
  redis: ScriptRunner | EncodedCommandRunner;
  /** Prepended to every key, e.g. `apimon:rl:`; must not contain `{` or `}`. */
  keyPrefix: string;
  algorithm?: RateLimitAlgorithm;
  clock?: Clock;
}

/** The Redis key of one API key's counter for the window starting at `windowStartMs`. */
export function counterKey(keyPrefix: string, apiKeyId: string, window: Window, startMs: number): string {
  return `${keyPrefix}{ak:${apiKeyId}}:${window}:${Math.floor(startMs / 1000)}`;
}

export function createRedisLimiter({
  redis,
  keyPrefix,
  algorithm = "fixed",
  clock = Date.now,
}: RedisLimiterOptions): Limiter {
  if (/[{}]/.test(keyPrefix)) throw new Error("keyPrefix must not contain '{' or '}' (hash tag)");
  if (algorithm === "sliding") {
    return {
      async check(apiKeyId: string, limits: Limits, { count = true }: CheckOptions = {}): Promise<Decision> {
        const nowMs = clock();
        const keys: string[] = [];
        const weights: number[] = [];
        for (const w of WINDOWS) {
          const start = windowStartMs(w, nowMs);
          const sizeMs = WINDOW_SECONDS[w] * 1000;
          keys.push(
            counterKey(keyPrefix, apiKeyId, w, start),
            counterKey(keyPrefix, apiKeyId, w, start - sizeMs),
          );
          weights.push(1 - (nowMs - start) / sizeMs);
        }
        const args = [
          ...WINDOWS.map((w) => limits[w]),
          // Kept one window longer: the next window reads it as its "previous".
          ...WINDOWS.map((w) => windowEndMs(w, nowMs) + WINDOW_SECONDS[w] * 1000 - nowMs),
          ...weights.map((x) => x.toFixed(6)),
          count ? 1 : 0,
        ];
        const reply = await slidingScript.run(redis, keys, args);
        return decide(limits, parseCounts(reply), nowMs, count);
      },
    };
  }
  const counterKeys = (apiKeyId: string, nowMs: number): string[] => [
    counterKey(keyPrefix, apiKeyId, "minute", windowStartMs("minute", nowMs)),
    counterKey(keyPrefix, apiKeyId, "hour", windowStartMs("hour", nowMs)),
    counterKey(keyPrefix, apiKeyId, "day", windowStartMs("day", nowMs)),
  ];
  const scriptArgs = (limits: Limits, nowMs: number, count: boolean): number[] => [
    limits.minute,
    limits.hour,
    limits.day,
    windowEndMs("minute", nowMs) - nowMs,
    windowEndMs("hour", nowMs) - nowMs,
    windowEndMs("day", nowMs) - nowMs,
    count ? 1 : 0,
  ];
  if (!("sendEncoded" in redis)) {
    return {
      async check(apiKeyId: string, limits: Limits, options?: CheckOptions): Promise<Decision> {
        const count = options?.count ?? true;
        const nowMs = clock();
        const reply = await script.run(redis, counterKeys(apiKeyId, nowMs), scriptArgs(limits, nowMs, count));
        return decide(limits, parseCounts(reply), nowMs, count);
      },
    };
  }
  const heads = createCommandHeads((apiKeyId, limits, nowMs) =>
    encodeArgs([
      "EVALSHA",
      script.sha1,
      3,
      ...counterKeys(apiKeyId, nowMs),
      limits.minute,
      limits.hour,
      limits.day,
    ]),
  );
  return {
    // Every request runs this: within a minute a key's command differs only in the times left in
    // its windows, so the rest is encoded once per key and minute.
    async check(apiKeyId: string, limits: Limits, options?: CheckOptions): Promise<Decision> {
      const count = options?.count ?? true;
      const nowMs = clock();
      let reply: unknown;
      try {
        reply = await redis.sendEncoded([
          heads.get(apiKeyId, limits, nowMs),
          windowEndMs("minute", nowMs) - nowMs,
          windowEndMs("hour", nowMs) - nowMs,
          windowEndMs("day", nowMs) - nowMs,
          count ? 1 : 0,
        ]);
      } catch (error) {
        // Redis restarted or its script cache was flushed: EVAL runs the script and loads it again.
        if (!isNoScriptError(error)) throw error;
        reply = await redis.eval(
          CHECK_AND_INCREMENT_LUA,
          3,
          ...counterKeys(apiKeyId, nowMs),
          ...scriptArgs(limits, nowMs, count),
        );
      }
      return decide(limits, parseCounts(reply), nowMs, count);
    },
  };
}

/** Keys whose encoded command is kept at once (each about 400 bytes). */
const MAX_COMMAND_HEADS = 50_000;

/**
 * The encoded head of each key's command for the current minute. Every entry is dropped when the
 * minute turns (its counter keys name the old window), so the map holds only the keys seen in one
 * minute, and at most MAX_COMMAND_HEADS of them: past that it starts over.
 */
export function createCommandHeads(
  encode: (apiKeyId: string, limits: Limits, nowMs: number) => EncodedArgs,
  maxEntries = MAX_COMMAND_HEADS,
) {
  let minuteStartMs = Number.NaN;
  const heads = new Map<string, { limits: Limits; head: EncodedArgs }>();
  return {
    get(apiKeyId: string, limits: Limits, nowMs: number): EncodedArgs {
      const minute = windowStartMs("minute", nowMs);
      if (minute !== minuteStartMs) {
        heads.clear();
        minuteStartMs = minute;
      }
      const kept = heads.get(apiKeyId);
      if (
        kept !== undefined &&
        kept.limits.minute === limits.minute &&
        kept.limits.hour === limits.hour &&
        kept.limits.day === limits.day
      ) {
        return kept.head;
      }
      const head = encode(apiKeyId, limits, nowMs);
      if (kept === undefined && heads.size >= maxEntries) heads.clear();
      heads.set(apiKeyId, { limits: { minute: limits.minute, hour: limits.hour, day: limits.day }, head });
      return head;
    },
  };
}

function parseCounts(reply: unknown): WindowCounts {
  // Indexed, not destructured or checked with a callback: every request reads a reply.
  if (Array.isArray(reply) && reply.length === 4) {
    const minute: unknown = reply[1];
    const hour: unknown = reply[2];
    const day: unknown = reply[3];
    if (
      typeof reply[0] === "number" &&
      typeof minute === "number" &&
      typeof hour === "number" &&
      typeof day === "number"
    ) {
      return { minute, hour, day };
    }
  }
  throw new Error(`unexpected rate-limit script reply: ${JSON.stringify(reply)}`);
}
