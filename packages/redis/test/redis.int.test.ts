import { testInfra, uniqueName } from "@apimon/testkit";
import { createRedisClient, defineLuaScript, pingRedis, type Redis } from "../src";

// Increments every key only when all of them stay within their limit: the shape of the edge's
// three-window check, small enough to show that scripts run atomically through ioredis.
const incrementAllOrNone = defineLuaScript(`
for i, key in ipairs(KEYS) do
  local current = tonumber(redis.call('GET', key) or '0')
  if current + 1 > tonumber(ARGV[i]) then return {0, i} end
end
for i, key in ipairs(KEYS) do
  redis.call('INCR', key)
  redis.call('EXPIRE', key, 60)
end
return {1, 0}
`);

describe("redis package on a real Redis", () => {
  let redis: Redis;
  const prefix = uniqueName("redis-test");
  const keys = [`{${prefix}}:a`, `{${prefix}}:b`];

  beforeAll(() => {
    // The client's default (1 s, for the edge's hot path) is about timing; these tests are not, and
    // a loaded CI machine has stalled a test process for longer than that.
    redis = createRedisClient({ url: testInfra.redisUrl, commandTimeoutMs: 10_000 });
  });

  afterAll(async () => {
    await redis.del(...keys);
    redis.disconnect();
  });

  it("runs a Lua script atomically through ioredis: all keys move or none", async () => {
    expect(await incrementAllOrNone.run(redis, keys, [5, 2])).toEqual([1, 0]);
    expect(await incrementAllOrNone.run(redis, keys, [5, 2])).toEqual([1, 0]);
    // The second key is at its limit: nothing moves, and the script says which key refused.
    expect(await incrementAllOrNone.run(redis, keys, [5, 2])).toEqual([0, 2]);
    expect(await redis.mget(...keys)).toEqual(["2", "2"]);
  });

  it("survives a script cache flush by loading the script again", async () => {
    await redis.script("FLUSH");
    expect(await redis.script("EXISTS", incrementAllOrNone.sha1)).toEqual([0]);
    expect(await incrementAllOrNone.run(redis, keys, [5, 5])).toEqual([1, 0]);
    expect(await redis.mget(...keys)).toEqual(["3", "3"]);
  });

  it("runs the script under concurrency without exceeding the limit", async () => {
    const key = [`{${prefix}}:c`];
    keys.push(key[0] as string);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => incrementAllOrNone.run(redis, key, [20])),
    );
    expect(results.filter((r) => (r as number[])[0] === 1)).toHaveLength(20);
    expect(await redis.get(key[0] as string)).toBe("20");
  });

  it("answers a failed ping, not a hang, when Redis is unreachable", async () => {
    // A port nothing listens on: the client must give up within its bounds.
    const dead = createRedisClient({
      url: "redis://127.0.0.1:1",
      offlineQueue: false,
      connectTimeoutMs: 100,
      commandTimeoutMs: 50,
    });
    expect(await pingRedis(dead)).toBe(false);
    dead.disconnect();
    expect(await pingRedis(redis)).toBe(true);
  });
});
