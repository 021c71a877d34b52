import type { DlqRecord } from "@apimon/events";
import { dlqRecordBytes, dlqSummary, truncateDlqRecord } from "./decode";

const record = (value: string | null, extra: Partial<DlqRecord> = {}): DlqRecord => ({
  sourceTopic: "usage.events.v1",
  partition: 2,
  offset: "41",
  consumerGroup: "g",
  key: "7",
  value,
  valueEncoding: "utf8",
  headers: { trace: "t-1" },
  error: "invalid JSON: Unexpected token",
  failedAt: "2026-01-01T00:00:00.000Z",
  ...extra,
});

describe("dead-letter record size", () => {
  it("leaves a record that fits unchanged", () => {
    const r = record("{not json");
    expect(truncateDlqRecord(r, 10_000)).toBe(r);
  });

  it("cuts the value of a record that does not fit, keeping where it came from and the original size", () => {
    const value = `{"a":"${"é".repeat(20_000)}`;
    const cut = truncateDlqRecord(record(value), 5_000);
    expect(dlqRecordBytes(cut)).toBeLessThanOrEqual(5_000);
    expect(value.startsWith(cut.value ?? "-")).toBe(true);
    expect(cut.value?.length).toBeGreaterThan(1_000);
    expect(cut).toMatchObject({
      offset: "41",
      partition: 2,
      key: "7",
      headers: { trace: "t-1" },
      truncated: true,
      valueBytes: Buffer.byteLength(value),
    });
  });

  it("falls back to a summary when the key or headers alone are too large", () => {
    const cut = truncateDlqRecord(
      record("x", { headers: { big: "h".repeat(50_000) }, key: "k".repeat(5_000) }),
      2_000,
    );
    expect(cut).toMatchObject({ value: null, headers: {}, truncated: true, valueBytes: 1, offset: "41" });
    expect(cut.key).toHaveLength(200);
    expect(dlqRecordBytes(cut)).toBeLessThanOrEqual(2_000);
  });

  it("measures a base64 value by its decoded bytes", () => {
    const raw = Buffer.alloc(3000, 0xff);
    const summary = dlqSummary(record(raw.toString("base64"), { valueEncoding: "base64" }));
    expect(summary.valueBytes).toBe(3000);
  });
});
