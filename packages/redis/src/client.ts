import { createHash } from "node:crypto";
import { Redis, type RedisOptions } from "ioredis";
import type { ScriptRunner } from "./pipelined";

export type { Redis } from "ioredis";

export interface RedisClientOptions {
  url: string;
  /** Fails a command that has no answer after this long; the edge wants tens of ms, not seconds. */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Queue commands while disconnected (false: fail them at once, the hot path's choice). */
  offlineQueue?: boolean;
  lazyConnect?: boolean;
}

/** An ioredis client with bounded waits: a dead Redis is an error, never a hang. */
export function createRedisClient({
  url,
  commandTimeoutMs = 1000,
  connectTimeoutMs = 2000,
  offlineQueue = true,
  lazyConnect = false,
}: RedisClientOptions): Redis {
  const options: RedisOptions = {
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    enableOfflineQueue: offlineQueue,
    maxRetriesPerRequest: offlineQueue ? 1 : 0,
    lazyConnect,
    // Reconnect forever with a capped delay; callers decide what a failed command means.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
  };
  return new Redis(url, options);
}

/** A Lua script run by EVALSHA, loading it again when Redis answers NOSCRIPT (restart, flush). */
export interface LuaScript {
  readonly sha1: string;
  run(redis: ScriptRunner, keys: string[], args: (string | number)[]): Promise<unknown>;
}

/** Redis does not hold the script a command named by hash (it restarted, or its cache was flushed). */
export function isNoScriptError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}

/** Prepares a Lua script; all keys must be passed in `keys` (Redis Cluster routes by them). */
export function defineLuaScript(source: string): LuaScript {
  const sha1 = createHash("sha1").update(source).digest("hex");
  return {
    sha1,
    async run(redis, keys, args) {
      try {
        return await redis.evalsha(sha1, keys.length, ...keys, ...args);
      } catch (error) {
        if (!isNoScriptError(error)) throw error;
        return redis.eval(source, keys.length, ...keys, ...args);
      }
    },
  };
}

/** Answers whether Redis replies to PING within the client's command timeout. */
export async function pingRedis(redis: { ping(): Promise<string> }): Promise<boolean> {
  try {
    return (await redis.ping()) === "PONG";
  } catch {
    return false;
  }
}
