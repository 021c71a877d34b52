import { createTcpProxy, type TcpProxy, testInfra, uniqueName, waitFor } from "@apimon/testkit";
import {
  createPipelinedRedis,
  createRedisClient,
  defineLuaScript,
  encodeArgs,
  type PipelinedRedis,
  pingRedis,
  RedisCommandTimeoutError,
  RedisUnavailableError,
} from "../src";

const incrementBy = defineLuaScript("return redis.call('INCRBY', KEYS[1], ARGV[1])");

const redisTarget = () => {
  const url = new URL(testInfra.redisUrl);
  return { host: url.hostname, port: Number(url.port || 6379) };
};

/** Resolves once the client takes commands. */
const ready = (client: PipelinedRedis) =>
  waitFor(() => client.status === "ready", { what: "the pipelined connection to be ready" });

describe("pipelined Redis connection on a real Redis", () => {
  const prefix = uniqueName("pipelined");
  const clients: PipelinedRedis[] = [];
  const open = (url = testInfra.redisUrl, commandTimeoutMs = 1000) => {
    const client = createPipelinedRedis({
      url,
      commandTimeoutMs,
      connectTimeoutMs: 500,
      retryDelayMs: () => 50,
    });
    clients.push(client);
    return client;
  };

  afterAll(async () => {
    const admin = createRedisClient({ url: testInfra.redisUrl, commandTimeoutMs: 10_000 });
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    admin.disconnect();
    for (const client of clients) client.disconnect();
  });

  it("answers many commands of one turn in the order they were sent", async () => {
    const redis = open();
    await ready(redis);
    const key = `${prefix}:order`;
    const replies = await Promise.all(Array.from({ length: 500 }, () => redis.call("INCR", key)));
    expect(replies).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(await redis.ping()).toBe("PONG");
    expect(await pingRedis(redis)).toBe(true);
  });

  it("sends every kind of argument as Redis reads it, many commands to a write", async () => {
    const redis = open();
    await ready(redis);
    const texts = [
      "",
      "plain",
      "é€😀",
      "ascii until é",
      "line\r\nbreak",
      "$3\r\nnot a header",
      "x".repeat(70_000),
    ];
    const numbers = [0, 7, -1, 1.5, -0.25, 10, 99, 100, 12_345_678_901_234, 1e21, Number.MAX_SAFE_INTEGER];
    const echoed = await Promise.all([
      ...texts.map((text) => redis.call("ECHO", text)),
      ...numbers.map((n) => redis.call("ECHO", n)),
      ...texts.map((text, i) => redis.call("SET", `${prefix}:arg:${i}`, text)),
      ...texts.map((_, i) => redis.call("GET", `${prefix}:arg:${i}`)),
    ]);
    expect(echoed).toEqual([...texts, ...numbers.map(String), ...texts.map(() => "OK"), ...texts]);
  });

  it("sends commands that start with arguments encoded once, beside others of the same turn", async () => {
    const redis = open();
    await ready(redis);
    const key = `${prefix}:encoded`;
    const setHead = encodeArgs(["SET", key]);
    const echoHead = encodeArgs(["ECHO"]);
    const rpushHead = encodeArgs(["RPUSH", `${key}:list`, "é€😀", 1.5, ""]);
    expect(rpushHead.count).toBe(5);
    const replies = await Promise.all([
      redis.sendEncoded([setHead, "first"]),
      redis.call("GET", key),
      redis.sendEncoded([echoHead, "x".repeat(70_000)]),
      redis.sendEncoded([rpushHead, -1, "tail"]),
      redis.sendEncoded([encodeArgs(["LRANGE"]), `${key}:list`, 0, -1]),
      redis.sendEncoded([encodeArgs(["PING"])]),
    ]);
    expect(replies).toEqual([
      "OK",
      "first",
      "x".repeat(70_000),
      5,
      ["é€😀", "1.5", "", "-1", "tail"],
      "PONG",
    ]);
  });

  it("fails only the command Redis refuses; the ones around it are answered", async () => {
    const redis = open();
    await ready(redis);
    const key = `${prefix}:errors`;
    const results = await Promise.allSettled([
      redis.call("SET", key, "text"),
      redis.call("INCR", key),
      redis.call("GET", key),
    ]);
    expect(results[0]).toEqual({ status: "fulfilled", value: "OK" });
    expect(results[1]).toMatchObject({
      status: "rejected",
      reason: { message: expect.stringMatching(/not an integer/) },
    });
    expect(results[2]).toEqual({ status: "fulfilled", value: "text" });
  });

  it("runs scripts by hash and loads them again after a script cache flush", async () => {
    const redis = open();
    await ready(redis);
    const key = `{${prefix}}:script`;
    expect(await incrementBy.run(redis, [key], [2])).toBe(2);
    await redis.call("SCRIPT", "FLUSH");
    expect(await incrementBy.run(redis, [key], [3])).toBe(5);
    expect(await redis.evalsha(incrementBy.sha1, 1, key, 1)).toBe(6);
  });

  it("selects the database the URL names", async () => {
    const redis = open(`${testInfra.redisUrl.replace(/\/\d*$/, "")}/3`);
    await ready(redis);
    const key = `${prefix}:db3`;
    await redis.call("SET", key, "in three");
    const admin = createRedisClient({
      url: `${testInfra.redisUrl.replace(/\/\d*$/, "")}/3`,
      commandTimeoutMs: 10_000,
    });
    try {
      expect(await admin.get(key)).toBe("in three");
      await admin.del(key);
    } finally {
      admin.disconnect();
    }
  });

  it("refuses commands at once while Redis is away, and reconnects when it is back", async () => {
    const proxy: TcpProxy = await createTcpProxy(redisTarget());
    try {
      const redis = open(`redis://${proxy.address}`);
      await ready(redis);
      const key = `${prefix}:outage`;
      expect(await redis.call("INCR", key)).toBe(1);

      await proxy.interrupt();
      await waitFor(() => redis.status !== "ready", { what: "the client to see the cut" });
      // Refused as unavailable, not queued until it times out.
      await expect(redis.call("INCR", key)).rejects.toBeInstanceOf(RedisUnavailableError);
      expect(await pingRedis(redis)).toBe(false);

      await proxy.resume();
      await ready(redis);
      expect(await redis.call("INCR", key)).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it("fails a command whose reply does not come in time, and keeps later replies in step", async () => {
    const proxy: TcpProxy = await createTcpProxy(redisTarget());
    try {
      const redis = open(`redis://${proxy.address}`, 200);
      await ready(redis);
      const key = `${prefix}:held`;
      proxy.holdResponses();
      await expect(redis.call("INCR", key)).rejects.toBeInstanceOf(RedisCommandTimeoutError);
      // The held reply is lost with the connection; a new one answers in order again.
      await proxy.interrupt();
      await waitFor(() => redis.status !== "ready", { what: "the client to see the cut" });
      await proxy.resume();
      await ready(redis);
      expect(await redis.call("INCR", key)).toBe(2);
      expect(await redis.call("GET", key)).toBe("2");
    } finally {
      await proxy.close();
    }
  });

  it("gives up on an address nothing listens on without hanging, and retries", async () => {
    const redis = open("redis://127.0.0.1:1");
    await expect(redis.ping()).rejects.toBeInstanceOf(RedisUnavailableError);
    expect(await pingRedis(redis)).toBe(false);
    expect(redis.status).not.toBe("ready");
  });

  it("does not take a Redis that refuses the URL's password", async () => {
    const url = new URL(testInfra.redisUrl);
    url.password = "not-the-password";
    const errors: Error[] = [];
    const redis = createPipelinedRedis({
      url: url.toString(),
      retryDelayMs: () => 50,
      onError: (e) => errors.push(e),
    });
    clients.push(redis);
    await waitFor(() => errors.length > 0, { what: "the refused AUTH" });
    expect(errors[0]?.message).toMatch(/AUTH|password/i);
    expect(redis.status).not.toBe("ready");
    await expect(redis.ping()).rejects.toBeInstanceOf(RedisUnavailableError);
  });

  it("refuses URLs it cannot speak to", () => {
    expect(() => createPipelinedRedis({ url: "http://127.0.0.1:6379" })).toThrow(/scheme/);
    expect(() => createPipelinedRedis({ url: "redis://127.0.0.1:6379/x" })).toThrow(/database/);
  });
});
