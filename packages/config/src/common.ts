import { z } from "zod";
import { RATE_LIMITS } from "./defaults";
import { envTypes } from "./env";

/** Variables every service reads. Compose a service's own shape from these. */
export const loggingEnv = {
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SHUTDOWN_TIMEOUT_MS: envTypes.positiveInt(10_000),
};

export const kafkaEnv = {
  KAFKA_BROKERS: envTypes.list(["127.0.0.1:9092"]),
  KAFKA_CLIENT_ID: z.string().default("apimon"),
  /** Prepended to every topic name; tests use it to give each run its own topics. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, "only letters, digits, '.', '_' and '-'")
    .default(""),
  KAFKA_REPLICATION_FACTOR: envTypes.positiveInt(1),
};

export const databaseEnv = {
  DATABASE_URL: envTypes.url("postgresql://postgres@127.0.0.1:5432/apimon"),
  DATABASE_SCHEMA: z.string().optional(),
};

export const redisEnv = {
  REDIS_URL: envTypes.url("redis://127.0.0.1:6379"),
};

export const adminEnv = {
  /** Required: admin endpoints have no default credential. */
  ADMIN_TOKEN: envTypes.secret(16),
};

/** `RATE_LIMIT_MINUTE` / `_HOUR` / `_DAY` override the spec's `RATE_LIMITS` defaults. */
export const rateLimitEnv = {
  RATE_LIMIT_MINUTE: envTypes.positiveInt(RATE_LIMITS.minute),
  RATE_LIMIT_HOUR: envTypes.positiveInt(RATE_LIMITS.hour),
  RATE_LIMIT_DAY: envTypes.positiveInt(RATE_LIMITS.day),
};

/** Replaces the password of a connection URL so it can be logged. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "[unparseable url]";
  }
}
