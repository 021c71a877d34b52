export {
  createRedisClient,
  defineLuaScript,
  type LuaScript,
  pingRedis,
  type Redis,
  type RedisClientOptions,
} from "./client";
