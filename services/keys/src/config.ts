import {
  adminEnv,
  DEFAULT_PORTS,
  databaseConfig,
  databaseEnv,
  envTypes,
  kafkaConfig,
  kafkaEnv,
  keyChangesEnv,
  loggingConfig,
  loggingEnv,
  parseEnv,
  rateLimitEnv,
} from "@apimon/config";
import { z } from "zod";
import { MAX_GRACE_SECONDS } from "./domain/key-policy";

/** The keys service's settings. Secrets are in here: never log this object. */
export function loadConfig(env = process.env) {
  const raw = parseEnv(
    {
      ...loggingEnv,
      ...databaseEnv,
      ...kafkaEnv,
      ...keyChangesEnv,
      ...adminEnv,
      // The defaults reported as a key's effective limits; the edge reads the same variables.
      ...rateLimitEnv,
      KEYS_PORT: envTypes.port(DEFAULT_PORTS.keys),
      KEYS_HOST: z.string().default("0.0.0.0"),
      /** HMAC secret for key hashes; the edge must hold the same one. */
      KEY_HASH_SECRET: envTypes.secret(32),
      /** How long a rotated key keeps working unless the rotation asks for another period. */
      KEY_ROTATION_GRACE_SECONDS: z.coerce.number().int().min(0).max(MAX_GRACE_SECONDS).default(86_400),
      /** How often the outbox relay looks for unpublished changes. */
      OUTBOX_POLL_MS: envTypes.positiveInt(100),
    },
    env,
  );
  return {
    port: raw.KEYS_PORT,
    host: raw.KEYS_HOST,
    adminToken: raw.ADMIN_TOKEN,
    keyHashSecret: raw.KEY_HASH_SECRET,
    /** Signs every key change the relay publishes; unset publishes them unsigned (with a warning). */
    keyChangesSigningSecret: raw.KEY_CHANGES_SIGNING_SECRET,
    graceSeconds: raw.KEY_ROTATION_GRACE_SECONDS,
    outboxPollMs: raw.OUTBOX_POLL_MS,
    defaults: { minute: raw.RATE_LIMIT_MINUTE, hour: raw.RATE_LIMIT_HOUR, day: raw.RATE_LIMIT_DAY },
    database: databaseConfig(raw),
    kafka: kafkaConfig(raw),
    ...loggingConfig(raw),
  };
}

export type Config = ReturnType<typeof loadConfig>;
