import { createHmac, timingSafeEqual } from "node:crypto";
import { topics } from "./topics";

/** The message header that carries a keys.changes.v1 message's signature. */
export const KEY_CHANGE_SIGNATURE_HEADER = "apimon-signature";

const VERSION = "v1=";

/**
 * JSON with object keys sorted at every level (undefined members left out, as JSON.stringify
 * does): the form a signature covers, so neither the writer's key order nor a reader's schema
 * version changes what is signed.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  const members = Object.keys(value)
    .sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${members.join(",")}}`;
}

function mac(secret: string, key: string, canonicalValue: string): Buffer {
  // The topic name binds a signature to this topic; the key to this key hash (a tombstone's
  // value is null, so without the key one signed deletion would delete any key).
  return createHmac("sha256", secret).update(`${topics.keyChanges.name}\n${key}\n${canonicalValue}`).digest();
}

/** The signature header value of a key change (null value: a tombstone). */
export function signKeyChange(secret: string, key: string, value: unknown): string {
  return `${VERSION}${mac(secret, key, canonicalJson(value)).toString("hex")}`;
}

export type KeyChangeSignatureCheck = "valid" | "missing" | "invalid";

/**
 * Checks a consumed key change against its signature header. `rawValue` is the message value
 * as it arrived (null for a tombstone): verifying the bytes' meaning rather than a parsed copy
 * keeps fields that this reader's schema does not know inside the signature.
 */
export function verifyKeyChange(
  secret: string,
  key: string,
  rawValue: string | null,
  header: string | undefined,
): KeyChangeSignatureCheck {
  if (header === undefined || header === "") return "missing";
  if (!header.startsWith(VERSION)) return "invalid";
  const given = Buffer.from(header.slice(VERSION.length), "hex");
  let canonical: string;
  try {
    canonical = rawValue === null ? "null" : canonicalJson(JSON.parse(rawValue));
  } catch {
    return "invalid";
  }
  const expected = mac(secret, key, canonical);
  return given.length === expected.length && timingSafeEqual(given, expected) ? "valid" : "invalid";
}

/**
 * The outbox relay's signing hook for the keys service: signs keys.changes.v1 messages and
 * leaves other topics' messages as they are.
 */
export function keyChangeSigner(
  secret: string,
): (message: { topic: { name: string }; key: string; value: unknown }) => Record<string, string> | undefined {
  return ({ topic, key, value }) =>
    topic.name === topics.keyChanges.name
      ? { [KEY_CHANGE_SIGNATURE_HEADER]: signKeyChange(secret, key, value) }
      : undefined;
}
