import pino, { type Logger } from "pino";

export type { Logger } from "pino";

/**
 * Paths whose values never reach a log line: API keys, admin tokens, signing secrets,
 * passwords. Header names are lower-case in Node and in Hono.
 */
export const REDACTED_PATHS = [
  'req.headers["x-api-key"]',
  "req.headers.authorization",
  "req.headers.cookie",
  'headers["x-api-key"]',
  "headers.authorization",
  "headers.cookie",
  "apiKey",
  "key",
  "plaintextKey",
  "token",
  "adminToken",
  "secret",
  "password",
  "*.apiKey",
  "*.key",
  "*.plaintextKey",
  "*.token",
  "*.adminToken",
  "*.secret",
  "*.password",
  "config.ADMIN_TOKEN",
  "config.KEY_HASH_SECRET",
  "config.DATABASE_URL",
  "config.SMTP_URL",
  "config.KAFKA_SASL_PASSWORD",
  "config.KEY_CHANGES_SIGNING_SECRET",
  "signingSecret",
  "*.signingSecret",
  // Kafka credentials and client TLS keys (a config's kafka.security, a client's sasl).
  "security",
  "*.security",
  "*.*.security",
  "sasl",
  "*.sasl",
  "*.*.sasl",
];

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where lines go; stdout by default. Tests pass a stream to read them back. */
  destination?: pino.DestinationStream;
}

/** A JSON logger on stdout with secrets redacted; one per process, children per request or message. */
export function createLogger({ service, level = "info", destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    // Synchronous on purpose (pino's default): an async destination on the non-blocking socket
    // a parent process gives as stdout reordered lines, and it loses the last ones on a crash.
    // Services log events, not every request, so the blocking cost stays off the hot path.
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}
