import { createHmac, randomBytes } from "node:crypto";

/** Every API key starts with this, so a leaked key is recognisable (secret scanners, logs). */
export const API_KEY_PREFIX = "ak_";
/** 192 bits of randomness; base64url keeps the key header-safe. */
const RANDOM_BYTES = 24;
/** Characters of the key kept for display: the marker plus 8 random characters. */
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;

/** A new plaintext API key. It is shown once and never stored. */
export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(RANDOM_BYTES).toString("base64url")}`;
}

/** The stored form of a key: HMAC-SHA-256 under the server secret, hex. Edge and keys service share it. */
export function hashApiKey(secret: string, plaintext: string): string {
  return createHmac("sha256", secret).update(plaintext, "utf8").digest("hex");
}

/** The short display prefix of a key (also what auth-failure events carry; never more). */
export function displayPrefix(plaintext: string): string {
  return plaintext.slice(0, DISPLAY_PREFIX_LENGTH);
}
