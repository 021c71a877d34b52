import { createHmac, timingSafeEqual } from "node:crypto";

// Webhook signing. A receiver recomputes HMAC-SHA-256 over `${X-Timestamp}.${raw body}` with the
// channel's secret and compares it with X-Signature; the timestamp inside the MAC lets it refuse
// replays older than its tolerance, and X-Delivery-Id (stable across retries) deduplicates.

/** The X-Signature value: `sha256=` and the hex HMAC-SHA-256 of `${timestamp}.${body}`. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/**
 * What a receiver does: true when `signature` is the body's signature at `timestamp` and the
 * timestamp is within `toleranceSeconds` of `now`. Constant-time comparison.
 */
export function verifyWebhookSignature({
  secret,
  timestamp,
  body,
  signature,
  now = new Date(),
  toleranceSeconds = 300,
}: {
  secret: string;
  timestamp: string | number;
  body: string;
  signature: string;
  now?: Date;
  toleranceSeconds?: number;
}): boolean {
  const ts = typeof timestamp === "number" ? timestamp : Number(timestamp);
  if (!Number.isInteger(ts)) return false;
  if (Math.abs(now.getTime() / 1000 - ts) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, ts, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
