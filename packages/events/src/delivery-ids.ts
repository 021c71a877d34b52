import { createHash } from "node:crypto";

// notification_deliveries.delivery_id is unique per row, and a job is one delivery of several
// attempts. The final attempt's row (succeeded or failed) carries the job's deliveryId, which is
// what the alerts service waits for; earlier attempts carry an id derived from it. Derived ids
// are deterministic (uuid v5 with the deliveryId as namespace), so a redelivered job computes
// the same ids and ON CONFLICT keeps each attempt logged once.

function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replaceAll("-", "");
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a uuid: ${uuid}`);
  return Buffer.from(hex, "hex");
}

function formatUuid(bytes: Buffer): string {
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** RFC 9562 uuid v5 (SHA-1, name-based) of `name` in `namespace`. */
export function uuidV5(namespace: string, name: string): string {
  const hash = createHash("sha1").update(uuidBytes(namespace)).update(name, "utf8").digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  return formatUuid(bytes);
}

/** The delivery_id of a non-final attempt of a job. */
export function attemptDeliveryId(deliveryId: string, attempt: number): string {
  return uuidV5(deliveryId, `attempt:${attempt}`);
}
