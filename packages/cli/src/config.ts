import { DEFAULT_PORTS, envTypes, kafkaEnv, kafkaSecurity, loggingEnv, parseEnv } from "@apimon/config";
import { z } from "zod";

/** Where the keys and alerts APIs are, with the same variables and defaults as the console. */
export function loadApiConfig(env: NodeJS.ProcessEnv) {
  const raw = parseEnv(
    {
      // The services judge it (and answer 401); here only that it can go in an HTTP header at all,
      // so that a token pasted with its neighbouring line is a usage error, not a fetch failure.
      ADMIN_TOKEN: z
        .string({ error: "is not set" })
        .regex(/^[\x21-\x7e]+$/, "must be one word of printable ASCII (no spaces or line breaks)"),
      KEYS_URL: envTypes.url(`http://127.0.0.1:${DEFAULT_PORTS.keys}`),
      ALERTS_URL: envTypes.url(`http://127.0.0.1:${DEFAULT_PORTS.alerts}`),
    },
    env,
  );
  return { adminToken: raw.ADMIN_TOKEN, keysUrl: raw.KEYS_URL, alertsUrl: raw.ALERTS_URL };
}

/** The brokers for `apimon dlq`: the services' Kafka variables. */
export function loadKafkaConfig(env: NodeJS.ProcessEnv) {
  // The CLI reports a failure in one line of its own; kafkajs' logs only when asked for.
  const raw = parseEnv(
    { ...kafkaEnv, LOG_LEVEL: loggingEnv.LOG_LEVEL.removeDefault().default("fatal") },
    env,
  );
  return {
    brokers: raw.KAFKA_BROKERS,
    clientId: raw.KAFKA_CLIENT_ID,
    topicPrefix: raw.KAFKA_TOPIC_PREFIX,
    security: kafkaSecurity(raw),
    logLevel: raw.LOG_LEVEL,
  };
}
