import type { Logger } from "@apimon/observability";
import { Kafka, logLevel } from "kafkajs";

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** kafkajs' retry of each request (connects, sends, metadata): how many times and how far apart. */
  retry?: { retries?: number; initialRetryTimeMs?: number; maxRetryTimeMs?: number };
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
}: KafkaClientOptions): Kafka {
  const kafkaLogger = logger.child({ component: "kafkajs" });
  return new Kafka({
    brokers,
    clientId,
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
