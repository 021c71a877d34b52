import type { KafkaSecurity } from "@apimon/config";
import type { Logger } from "@apimon/observability";
import { Kafka, type KafkaConfig, logLevel } from "kafkajs";

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** kafkajs' retry of each request (connects, sends, metadata): how many times and how far apart. */
  retry?: { retries?: number; initialRetryTimeMs?: number; maxRetryTimeMs?: number };
  /** TLS and SASL (from @apimon/config's kafkaSecurity); plaintext without it. */
  security?: KafkaSecurity;
}

/** kafkajs' `ssl` and `sasl` settings for our security settings. */
export function connectionSecurity(security: KafkaSecurity = {}): Pick<KafkaConfig, "ssl" | "sasl"> {
  const config: Pick<KafkaConfig, "ssl" | "sasl"> = {};
  if (security.ssl) {
    const { ca, cert, key } = security.ssl;
    // Without options kafkajs still verifies the broker against Node's trust store.
    config.ssl = ca === undefined && cert === undefined ? true : { ca, cert, key };
  }
  if (security.sasl) {
    const { mechanism, username, password } = security.sasl;
    // One branch per mechanism: kafkajs types SASL options as a union keyed by mechanism.
    config.sasl =
      mechanism === "plain"
        ? { mechanism, username, password }
        : mechanism === "scram-sha-256"
          ? { mechanism, username, password }
          : { mechanism, username, password };
  }
  return config;
}

const levels: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

/** A kafkajs client whose own logs go through our JSON logger (warnings and up; it is chatty). */
export function createKafka({
  brokers,
  clientId,
  logger,
  connectionTimeoutMs = 3000,
  requestTimeoutMs = 30_000,
  retry = {},
  security,
}: KafkaClientOptions): Kafka {
  const kafkaLogger = logger.child({ component: "kafkajs" });
  return new Kafka({
    brokers,
    clientId,
    ...connectionSecurity(security),
    connectionTimeout: connectionTimeoutMs,
    requestTimeout: requestTimeoutMs,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log }) => {
        const { message, timestamp: _t, logger: _l, ...extra } = log;
        kafkaLogger[levels[level] ?? "info"]({ namespace, ...extra }, message);
      },
    retry: {
      initialRetryTime: retry.initialRetryTimeMs ?? 200,
      retries: retry.retries ?? 8,
      maxRetryTime: retry.maxRetryTimeMs ?? 10_000,
    },
  });
}
