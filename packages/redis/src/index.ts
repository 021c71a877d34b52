export {
  createRedisClient,
  defineLuaScript,
  isNoScriptError,
  type LuaScript,
  pingRedis,
  type Redis,
  type RedisClientOptions,
} from "./client";
export {
  type CommandArgs,
  createPipelinedRedis,
  EncodedArgs,
  encodeArgs,
  type PipelinedRedis,
  type PipelinedRedisOptions,
  type RedisArg,
  RedisCommandTimeoutError,
  RedisUnavailableError,
  type ScriptRunner,
} from "./pipelined";
