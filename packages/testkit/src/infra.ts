import { createConnection } from "node:net";
import { Kafka, logLevel } from "kafkajs";
import { Client } from "pg";

/** Where the tests find their infrastructure: the same variables the services read. */
export const testInfra = {
  kafkaBrokers: (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",").map((s) => s.trim()),
  databaseUrl: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
  redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  /** 3 on a three-node cluster (`pnpm kafka cluster start`). */
  kafkaReplicationFactor: Number(process.env.KAFKA_REPLICATION_FACTOR ?? 1),
};

/** A kafkajs client for tests (quiet, quick to give up). */
export function testKafka(clientId = "apimon-test"): Kafka {
  return new Kafka({
    brokers: testInfra.kafkaBrokers,
    clientId,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 3, initialRetryTime: 100 },
  });
}

async function check(name: string, fn: () => Promise<void>): Promise<string | undefined> {
  try {
    await fn();
    return undefined;
  } catch (error) {
    return `${name}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function redisPing(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) });
    socket.setTimeout(3000, () => socket.destroy(new Error("timeout")));
    socket.once("error", reject);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      socket.destroy();
      String(data).startsWith("+PONG")
        ? resolve()
        : reject(new Error(`unexpected reply ${String(data).trim()}`));
    });
  });
}

/** Fails with one readable message when Kafka, Postgres or Redis is not there. */
export async function assertInfrastructure(): Promise<void> {
  const problems = (
    await Promise.all([
      check(`Kafka at ${testInfra.kafkaBrokers.join(",")}`, async () => {
        const admin = testKafka("apimon-test-probe").admin();
        await admin.connect();
        try {
          await admin.describeCluster();
        } finally {
          await admin.disconnect();
        }
      }),
      check("Postgres", async () => {
        const client = new Client({ connectionString: testInfra.databaseUrl, connectionTimeoutMillis: 3000 });
        await client.connect();
        await client.query("select 1");
        await client.end();
      }),
      check(`Redis at ${testInfra.redisUrl}`, () => redisPing(testInfra.redisUrl)),
    ])
  ).filter(Boolean);
  if (problems.length > 0) {
    throw new Error(
      `Integration tests need Kafka, Postgres and Redis. Start them with \`pnpm infra up\`.\n  ${problems.join("\n  ")}`,
    );
  }
}
