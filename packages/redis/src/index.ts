export {
  createRedisClient,
  defineLuaScript,
  type LuaScript,
  pingRedis,
  type Redis,
  type RedisClientOptions,
} from "./client";
export {
  createPipelinedRedis,
  type PipelinedRedis,
  type PipelinedRedisOptions,
  type RedisArg,
  RedisCommandTimeoutError,
  RedisUnavailableError,
  type ScriptRunner,
} from "./pipelined";
