// What the benches need of the infrastructure: a check that it is up, with the command that
// starts it, and the removal of the Redis keys a run wrote.
import { envTypes, kafkaEnv, parseEnv, redisEnv } from "@apimon/config";
import type { KafkaClient } from "@apimon/kafka";
import type { Redis } from "@apimon/redis";

export async function checkInfrastructure(
  kafka: KafkaClient,
  redis: Redis,
  config: { redisUrl: string; brokers: string[] },
) {
  const checkRedis = async () => {
    try {
      if ((await redis.ping()) !== "PONG") return `Redis at ${config.redisUrl} did not answer PING`;
    } catch (error) {
      return `Redis is not reachable at ${config.redisUrl} (${(error as Error).message})`;
    }
    return undefined;
  };
  const checkKafka = async () => {
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
    } catch (error) {
      return `Kafka is not reachable at ${config.brokers.join(",")} (${(error as Error).message})`;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    return undefined;
  };
  const problems = (await Promise.all([checkRedis(), checkKafka()])).filter((p) => p !== undefined);
  if (problems.length > 0) {
    throw new Error(`${problems.join("\n")}\nStart the infrastructure with \`pnpm infra up\` and run again.`);
  }
}

export async function deleteRedisKeys(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== "0");
  return deleted;
}

/**
 * What every HTTP bench reads from the environment: the infrastructure, and the load of each
 * run (BENCH_DURATION_S measured after BENCH_WARMUP_S, BENCH_CONNECTIONS, BENCH_ROUNDS
 * interleaved rounds whose figures are medians), with the bench's own defaults.
 */
export function loadHttpBenchConfig(defaults: { durationS: number; rounds: number }, env = process.env) {
  const raw = parseEnv(
    {
      ...kafkaEnv,
      ...redisEnv,
      BENCH_DURATION_S: envTypes.positiveInt(defaults.durationS),
      BENCH_WARMUP_S: envTypes.nonNegativeInt(3),
      BENCH_CONNECTIONS: envTypes.positiveInt(50),
      BENCH_ROUNDS: envTypes.positiveInt(defaults.rounds),
    },
    env,
  );
  return {
    brokers: raw.KAFKA_BROKERS,
    redisUrl: raw.REDIS_URL,
    durationS: raw.BENCH_DURATION_S,
    warmupS: raw.BENCH_WARMUP_S,
    connections: raw.BENCH_CONNECTIONS,
    rounds: raw.BENCH_ROUNDS,
  };
}
