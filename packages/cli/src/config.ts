import { DEFAULT_PORTS, envTypes, kafkaEnv, kafkaSecurity, loggingEnv, parseEnv } from "@apimon/config";
import { z } from "zod";

/** Where the keys and alerts APIs are, with the same variables and defaults as the console. */
export function loadApiConfig(env: NodeJS.ProcessEnv) {
  const raw = parseEnv(
    {
      // Only sent, never checked here: the services judge it (and answer 401).
      ADMIN_TOKEN: z.string({ error: "is not set" }),
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
