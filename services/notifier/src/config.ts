import { DEFAULT_PORTS, envTypes, parseServiceEnv } from "@apimon/config";
import { z } from "zod";
import { parseTargetRules } from "./domain/target-policy";
import { CHANNEL_TYPES, type ChannelType } from "./senders/sender";

const optionalList = z
  .string()
  .transform((v) =>
    v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .optional()
  .transform((v) => v ?? []);

/** A list of CIDRs, addresses and host names, refused at startup when an entry is none of these. */
const targetList = optionalList.superRefine((entries, ctx) => {
  try {
    parseTargetRules(entries);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
});

/** The notifier's settings. SMTP_URL may hold a password: log it only through redactUrl. */
export function loadConfig(env = process.env) {
  const { settings, raw } = parseServiceEnv(
    { prefix: "NOTIFIER", port: DEFAULT_PORTS.notifier, database: true, kafka: true },
    {
      /** Consumer groups are `<prefix>-email`, `<prefix>-slack`, `<prefix>-webhook`. */
      NOTIFIER_GROUP_PREFIX: z
        .string()
        .regex(/^[a-zA-Z0-9._-]+$/, "only letters, digits, '.', '_' and '-'")
        .default("notifier"),
      /** Which channel types this process delivers (one per process, if an operator wants). */
      NOTIFIER_CHANNEL_TYPES: envTypes
        .list([...CHANNEL_TYPES])
        .pipe(z.array(z.enum(CHANNEL_TYPES as [ChannelType, ...ChannelType[]])))
        .transform((types) => [...new Set(types)]),
      /** Attempts per job, the first included; then the DLQ and a failed row. */
      NOTIFIER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
      NOTIFIER_BACKOFF_BASE_MS: envTypes.positiveInt(500),
      NOTIFIER_BACKOFF_CAP_MS: envTypes.positiveInt(30_000),
      /** Whole-request deadline of a webhook or Slack POST, and the SMTP timeouts. */
      NOTIFIER_HTTP_TIMEOUT_MS: envTypes.positiveInt(10_000),
      /** Development only: let webhooks and Slack URLs reach loopback and private addresses. */
      NOTIFIER_ALLOW_PRIVATE_TARGETS: envTypes.boolean(false),
      NOTIFIER_TARGET_ALLOWLIST: targetList,
      NOTIFIER_TARGET_DENYLIST: targetList,
      /** How long a channel's row (secret, enabled) is cached. */
      NOTIFIER_CHANNEL_CACHE_MS: envTypes.nonNegativeInt(5000),
      /** Jobs delivered at once per partition slice (different alerts only). */
      NOTIFIER_CONCURRENCY: envTypes.positiveInt(8),
      /** Partitions each channel type's consumer works on at once. */
      NOTIFIER_PARTITIONS_CONCURRENCY: envTypes.positiveInt(3),
      /**
       * Consumers of each channel type's group in this process. Each fetches on its own, so a
       * delivery stuck in its retries holds back only the partitions of its consumer; as many as
       * notifications.v1 has partitions, each holds back one.
       */
      NOTIFIER_CONSUMERS_PER_TYPE: z.coerce.number().int().min(1).max(64).default(6),
      SMTP_URL: envTypes.url("smtp://localhost:1025"),
      NOTIFIER_EMAIL_FROM: z.string().min(3).default("apimon <alerts@apimon.local>"),
      /** The operator console: alert links in messages point to its alert pages. */
      CONSOLE_PUBLIC_URL: envTypes.url("http://localhost:8087"),
    },
    env,
  );
  return {
    ...settings,
    groupPrefix: raw.NOTIFIER_GROUP_PREFIX,
    channelTypes: raw.NOTIFIER_CHANNEL_TYPES,
    maxAttempts: raw.NOTIFIER_MAX_ATTEMPTS,
    backoff: { baseMs: raw.NOTIFIER_BACKOFF_BASE_MS, capMs: raw.NOTIFIER_BACKOFF_CAP_MS },
    httpTimeoutMs: raw.NOTIFIER_HTTP_TIMEOUT_MS,
    targets: {
      allowPrivate: raw.NOTIFIER_ALLOW_PRIVATE_TARGETS,
      allowlist: raw.NOTIFIER_TARGET_ALLOWLIST,
      denylist: raw.NOTIFIER_TARGET_DENYLIST,
    },
    channelCacheMs: raw.NOTIFIER_CHANNEL_CACHE_MS,
    concurrency: raw.NOTIFIER_CONCURRENCY,
    partitionsConcurrency: raw.NOTIFIER_PARTITIONS_CONCURRENCY,
    consumersPerType: raw.NOTIFIER_CONSUMERS_PER_TYPE,
    smtpUrl: raw.SMTP_URL,
    emailFrom: raw.NOTIFIER_EMAIL_FROM,
    consolePublicUrl: raw.CONSOLE_PUBLIC_URL,
  };
}

export type Config = ReturnType<typeof loadConfig>;
