import { readFileSync } from "node:fs";
import { z } from "zod";
import { RATE_LIMITS } from "./defaults";
import { ConfigError, envTypes } from "./env";

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
  /** TLS to the brokers; the CA file is optional (the system's trust store when unset). */
  KAFKA_SSL: envTypes.boolean(false),
  KAFKA_SSL_CA_FILE: z.string().optional(),
  /** A client certificate and its key (PEM), for brokers that ask for one. */
  KAFKA_SSL_CERT_FILE: z.string().optional(),
  KAFKA_SSL_KEY_FILE: z.string().optional(),
  KAFKA_SASL_MECHANISM: z.enum(["plain", "scram-sha-256", "scram-sha-512"]).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
};

type KafkaEnv = z.output<z.ZodObject<typeof kafkaEnv>>;

/** How a Kafka client proves who it is and protects the connection; secrets are in here. */
export interface KafkaSecurity {
  /** TLS with these PEM contents (each optional: no CA means the system's trust store). */
  ssl?: { ca?: string; cert?: string; key?: string };
  sasl?: { mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; username: string; password: string };
}

/**
 * The TLS and SASL settings from parsed {@link kafkaEnv} variables, checked together and with
 * the PEM files read now, so a typo fails at startup rather than at the first connection.
 * Throws a ConfigError naming every bad variable.
 */
export function kafkaSecurity(
  raw: Pick<
    KafkaEnv,
    | "KAFKA_SSL"
    | "KAFKA_SSL_CA_FILE"
    | "KAFKA_SSL_CERT_FILE"
    | "KAFKA_SSL_KEY_FILE"
    | "KAFKA_SASL_MECHANISM"
    | "KAFKA_SASL_USERNAME"
    | "KAFKA_SASL_PASSWORD"
  >,
  readFile: (path: string) => string = (path) => readFileSync(path, "utf8"),
): KafkaSecurity {
  const issues: { variable: string; message: string }[] = [];
  const pem = (variable: "KAFKA_SSL_CA_FILE" | "KAFKA_SSL_CERT_FILE" | "KAFKA_SSL_KEY_FILE") => {
    const path = raw[variable];
    if (path === undefined) return undefined;
    if (!raw.KAFKA_SSL) {
      issues.push({ variable, message: "set only with KAFKA_SSL=true" });
      return undefined;
    }
    try {
      const text = readFile(path);
      if (!text.includes("-----BEGIN ")) issues.push({ variable, message: `${path} is not a PEM file` });
      return text;
    } catch (error) {
      issues.push({
        variable,
        message: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      });
      return undefined;
    }
  };
  const ca = pem("KAFKA_SSL_CA_FILE");
  const cert = pem("KAFKA_SSL_CERT_FILE");
  const key = pem("KAFKA_SSL_KEY_FILE");
  if ((raw.KAFKA_SSL_CERT_FILE === undefined) !== (raw.KAFKA_SSL_KEY_FILE === undefined)) {
    const missing = raw.KAFKA_SSL_CERT_FILE === undefined ? "KAFKA_SSL_CERT_FILE" : "KAFKA_SSL_KEY_FILE";
    issues.push({
      variable: missing,
      message: "a client certificate needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE",
    });
  }
  const mechanism = raw.KAFKA_SASL_MECHANISM;
  const { KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = raw;
  if (mechanism !== undefined) {
    if (username === undefined)
      issues.push({
        variable: "KAFKA_SASL_USERNAME",
        message: `required with KAFKA_SASL_MECHANISM=${mechanism}`,
      });
    if (password === undefined)
      issues.push({
        variable: "KAFKA_SASL_PASSWORD",
        message: `required with KAFKA_SASL_MECHANISM=${mechanism}`,
      });
    // PLAIN sends the password as it is: only over TLS.
    if (mechanism === "plain" && !raw.KAFKA_SSL) {
      issues.push({
        variable: "KAFKA_SASL_MECHANISM",
        message: "plain sends the password in clear text: set KAFKA_SSL=true",
      });
    }
  } else {
    for (const variable of ["KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"] as const) {
      if (raw[variable] !== undefined)
        issues.push({ variable, message: "set only with KAFKA_SASL_MECHANISM" });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  const security: KafkaSecurity = {};
  if (raw.KAFKA_SSL) {
    security.ssl = {};
    if (ca !== undefined) security.ssl.ca = ca;
    if (cert !== undefined) security.ssl.cert = cert;
    if (key !== undefined) security.ssl.key = key;
  }
  if (mechanism !== undefined && username !== undefined && password !== undefined) {
    security.sasl = { mechanism, username, password };
  }
  return security;
}

export const databaseEnv = {
  DATABASE_URL: envTypes.url("postgresql://postgres@127.0.0.1:5432/apimon"),
  DATABASE_SCHEMA: z.string().optional(),
};

type LoggingEnv = z.output<z.ZodObject<typeof loggingEnv>>;
type DatabaseEnv = z.output<z.ZodObject<typeof databaseEnv>>;

/** The logging and shutdown settings of parsed {@link loggingEnv} variables. */
export function loggingConfig(raw: LoggingEnv) {
  return { logLevel: raw.LOG_LEVEL, shutdownTimeoutMs: raw.SHUTDOWN_TIMEOUT_MS };
}

/** The database of parsed {@link databaseEnv} variables; the url may hold a password. */
export function databaseConfig(raw: DatabaseEnv) {
  return { url: raw.DATABASE_URL, schema: raw.DATABASE_SCHEMA };
}

/** The Kafka client settings of parsed {@link kafkaEnv} variables (see {@link kafkaSecurity}). */
export function kafkaConfig(raw: KafkaEnv) {
  return {
    brokers: raw.KAFKA_BROKERS,
    clientId: raw.KAFKA_CLIENT_ID,
    security: kafkaSecurity(raw),
    topicPrefix: raw.KAFKA_TOPIC_PREFIX,
  };
}

export const redisEnv = {
  REDIS_URL: envTypes.url("redis://127.0.0.1:6379"),
};

/**
 * The HMAC secret of keys.changes.v1 messages, shared by the keys service (signs) and the edge
 * (drops a change whose signature fails). Optional so that a deployment upgrades without
 * downtime; each service warns at startup while it is unset.
 */
export const keyChangesEnv = {
  KEY_CHANGES_SIGNING_SECRET: envTypes.secret(32).optional(),
};

export const adminEnv = {
  /** Required: admin endpoints have no default credential. */
  ADMIN_TOKEN: envTypes.secret(16),
  /**
   * Proxies of yours in front of the admin APIs and the console: the client whose wrong tokens
   * count is then the one the outermost of them saw (X-Forwarded-For), not the proxy itself.
   */
  ADMIN_TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(16).default(0),
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
