import {
  adminEnv,
  DEFAULT_PORTS,
  envTypes,
  keyChangesEnv,
  parseServiceEnv,
  rateLimitEnv,
} from "@apimon/config";
import { z } from "zod";
import { MAX_GRACE_SECONDS } from "./domain/key-policy";

/** The keys service's settings. Secrets are in here: never log this object. */
export function loadConfig(env = process.env) {
  const { settings, raw } = parseServiceEnv(
    {
      prefix: "KEYS",
      port: DEFAULT_PORTS.keys,
      database: true,
      kafka: true,
      // The rate limits are the defaults reported as a key's effective limits; the edge reads the same variables.
      shared: { ...keyChangesEnv, ...adminEnv, ...rateLimitEnv },
    },
    {
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
    ...settings,
    adminToken: raw.ADMIN_TOKEN,
    trustedProxyHops: raw.ADMIN_TRUSTED_PROXY_HOPS,
    keyHashSecret: raw.KEY_HASH_SECRET,
    /** Signs every key change the relay publishes; unset publishes them unsigned (with a warning). */
    keyChangesSigningSecret: raw.KEY_CHANGES_SIGNING_SECRET,
    graceSeconds: raw.KEY_ROTATION_GRACE_SECONDS,
    outboxPollMs: raw.OUTBOX_POLL_MS,
    defaults: { minute: raw.RATE_LIMIT_MINUTE, hour: raw.RATE_LIMIT_HOUR, day: raw.RATE_LIMIT_DAY },
  };
}

export type Config = ReturnType<typeof loadConfig>;
