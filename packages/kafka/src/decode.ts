import type { DlqRecord, TopicSpec } from "@apimon/events";
import type { KafkaMessage } from "kafkajs";

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Parses a message value as JSON and validates it against its topic's schema. */
export function decodeMessage<T>(spec: TopicSpec<T>, value: Buffer | null): Decoded<T> {
  let json: unknown = null;
  if (value !== null) {
    try {
      json = JSON.parse(value.toString("utf8"));
    } catch (error) {
      return { ok: false, reason: `invalid JSON: ${(error as Error).message}` };
    }
  } else if (!spec.tombstones) {
    return { ok: false, reason: "empty message value (tombstone on a topic that takes none)" };
  }
  const result = spec.schema.safeParse(json);
  if (!result.success) {
    const detail = result.error.issues
      .slice(0, 10)
      .map((i) => `${i.path.length ? i.path.join(".") : "(value)"}: ${i.message}`)
      .join("; ");
    return { ok: false, reason: `schema ${spec.name}: ${detail}` };
  }
  return { ok: true, value: result.data };
}

function rawText(buffer: Buffer | null): { value: string | null; valueEncoding: "utf8" | "base64" } {
  if (buffer === null) return { value: null, valueEncoding: "utf8" };
  const text = buffer.toString("utf8");
  // A round trip that changes the bytes means they were not valid UTF-8.
  return Buffer.from(text, "utf8").equals(buffer)
    ? { value: text, valueEncoding: "utf8" }
    : { value: buffer.toString("base64"), valueEncoding: "base64" };
}

/** The dead-letter record for a message: the raw bytes, where it came from and why it failed. */
export function dlqRecord(
  message: KafkaMessage,
  source: { topic: string; partition: number; consumerGroup: string },
  error: string,
): DlqRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value !== undefined)
      headers[name] = Array.isArray(value) ? value.map(String).join(",") : String(value);
  }
  return {
    sourceTopic: source.topic,
    partition: source.partition,
    offset: message.offset,
    consumerGroup: source.consumerGroup,
    key: message.key === null ? null : message.key.toString("utf8"),
    ...rawText(message.value),
    headers,
    error: error.slice(0, 4000),
    failedAt: new Date().toISOString(),
  };
}

/** The size of a record as the DLQ writer sends it (JSON, UTF-8). */
export function dlqRecordBytes(record: DlqRecord): number {
  return Buffer.byteLength(JSON.stringify(record));
}

/**
 * The record cut down to at most `maxBytes` of JSON: the value is shortened (halving until it
 * fits), then key and headers go too. Records that already fit come back unchanged.
 */
export function truncateDlqRecord(record: DlqRecord, maxBytes: number): DlqRecord {
  if (dlqRecordBytes(record) <= maxBytes) return record;
  const valueBytes = record.value === null ? 0 : Buffer.byteLength(record.value, record.valueEncoding);
  let cut: DlqRecord = { ...record, truncated: true, valueBytes };
  for (let chars = Math.floor((record.value?.length ?? 0) / 2); chars > 0; chars = Math.floor(chars / 2)) {
    cut = { ...cut, value: (record.value ?? "").slice(0, chars) };
    if (dlqRecordBytes(cut) <= maxBytes) return cut;
  }
  return dlqSummary(record);
}

/** The smallest useful record: where the message came from and why it failed, without its data. */
export function dlqSummary(record: DlqRecord): DlqRecord {
  return {
    ...record,
    key: record.key === null ? null : record.key.slice(0, 200),
    value: null,
    headers: {},
    error: record.error.slice(0, 500),
    truncated: true,
    valueBytes:
      record.valueBytes ??
      (record.value === null ? 0 : Buffer.byteLength(record.value, record.valueEncoding)),
  };
}
