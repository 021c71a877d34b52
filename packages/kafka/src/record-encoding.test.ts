// kafkajs writes uncompressed produce requests through a one-pass encoder of ours, checksums
// them with a slicing-by-8 CRC-32C and frames every request in one buffer of its exact size
// (patches/kafkajs@2.2.4.patch). These tests hold them to the bytes of kafkajs' general encoder,
// which every broker accepted before, for every shape of message a producer may send, and the
// checksum to CRC-32C's definition.

interface KafkajsEncoder {
  buffer: Buffer;
  size(): number;
  writeInt16(value: number): KafkajsEncoder;
  writeInt32(value: number): KafkajsEncoder;
  writeString(value: string | null): KafkajsEncoder;
  writeArray(values: KafkajsEncoder[]): KafkajsEncoder;
  writeEncoder(value: KafkajsEncoder): KafkajsEncoder;
}
type Long = { readonly value: bigint };
type Bytes = string | Buffer | null;
interface TestMessage {
  key?: Bytes;
  value: Bytes | number;
  headers?: Record<string, string | Buffer | (string | Buffer)[]>;
  timestamp?: string | number;
}
interface PartitionArgs {
  partition: number;
  messages: TestMessage[];
  transactionalId: string | null;
  firstSequence?: number;
  producerId: Long;
  producerEpoch: number;
}

import { seededRandom } from "@apimon/testkit";

const internal = (path: string) => require(`kafkajs/src/${path}`);
const Encoder: new () => KafkajsEncoder = internal("protocol/encoder");
const LongType: { fromValue(value: number | string): Long; fromNumber(value: number): Long } =
  internal("utils/long");
const Record: (args: object) => KafkajsEncoder = internal("protocol/recordBatch/record/v0");
const { RecordBatch }: { RecordBatch: (args: object) => Promise<KafkajsEncoder> } =
  internal("protocol/recordBatch/v0");
const encodePartitionData: (args: object) => KafkajsEncoder | undefined = internal(
  "protocol/recordBatch/v0/partitionData",
);
const produceRequest: (args: object) => { encode(): Promise<KafkajsEncoder> } = internal(
  "protocol/requests/produce/v3/request",
);
const frameRequest: (args: {
  correlationId: number;
  clientId: string | null;
  request: { apiKey: number; apiVersion: number; encode(): Promise<KafkajsEncoder> };
}) => Promise<KafkajsEncoder> = internal("protocol/request");
const crc32C: (buffer: Buffer) => number = internal("protocol/recordBatch/crc32C");

/** CRC-32C bit by bit (reflected, polynomial 0x82F63B78): the definition, not a table. */
function crc32CBitwise(buffer: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of buffer) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** One partition's data as kafkajs' general path writes it (Record and RecordBatch). */
async function generalPartitionData(args: PartitionArgs, dateNow: number) {
  const { partition, messages } = args;
  const given = messages
    .map((m) => m.timestamp)
    .filter((t) => t != null)
    .sort();
  const timestamps = given.length === 0 ? [dateNow] : given;
  const firstTimestamp = timestamps[0];
  const maxTimestamp = timestamps[timestamps.length - 1];
  const records = messages.map((message, i) =>
    Record({
      ...message,
      offsetDelta: i,
      timestampDelta: Number(message.timestamp || dateNow) - Number(firstTimestamp),
    }),
  );
  const batch = await RecordBatch({
    compression: 0,
    records,
    firstTimestamp,
    maxTimestamp,
    producerId: args.producerId,
    producerEpoch: args.producerEpoch,
    firstSequence: args.firstSequence,
    transactional: !!args.transactionalId,
    lastOffsetDelta: records.length - 1,
  });
  const encoded = new Encoder().writeInt32(partition).writeInt32(batch.size()).writeEncoder(batch);
  return { encoded, firstTimestamp, maxTimestamp };
}

/** A deterministic source of messages of every shape. */
function randomSource(seed: number) {
  const next = seededRandom(seed);
  const int = (n: number) => Math.floor(next() * n);
  const text = () => {
    const pieces = ["a", "é", "€", "😀", "{", '"', "0", "\\"];
    const length = int(3) === 0 ? int(400) : int(20);
    let out = "";
    for (let i = 0; i < length; i++) out += pieces[int(pieces.length)];
    return out;
  };
  const bytes = (): Bytes => [null, Buffer.from(text()), text(), text()][int(4)] ?? null;
  const message = (now: number): TestMessage => {
    const m: TestMessage = { key: bytes(), value: bytes() };
    const headers = int(3);
    if (headers === 1) m.headers = {};
    if (headers === 2) m.headers = { a: text(), "b€": [text(), Buffer.from(text())], c: Buffer.from("x") };
    const timestamp = int(6);
    if (timestamp === 1) m.timestamp = String(now - int(100_000) + int(200_000));
    if (timestamp === 2) m.timestamp = now - int(1e12);
    return m;
  };
  const partitionArgs = (now: number, maxMessages: number): PartitionArgs => ({
    partition: int(100),
    messages: Array.from({ length: 1 + int(maxMessages) }, () => message(now)),
    transactionalId: int(2) ? null : "tx-1",
    firstSequence: int(2) ? undefined : int(2 ** 31),
    producerId: int(2) ? LongType.fromValue(-1) : LongType.fromNumber(int(2 ** 50)),
    producerEpoch: int(3) ? 0 : int(32_767),
  });
  return { int, partitionArgs };
}

const NOW = Date.parse("2026-12-04T10:00:00.000Z");

describe("kafkajs produce encoding", () => {
  afterEach(() => jest.restoreAllMocks());

  it("writes one partition's records byte for byte as kafkajs' general encoder does", async () => {
    const source = randomSource(20261204);
    for (let run = 0; run < 300; run++) {
      const args = partitionArgs(source, run);
      const general = await generalPartitionData(args, NOW);
      const onePass = encodePartitionData({
        ...args,
        firstTimestamp: general.firstTimestamp,
        maxTimestamp: general.maxTimestamp,
        dateNow: NOW,
      });
      expect(onePass?.buffer.toString("hex")).toBe(general.encoded.buffer.toString("hex"));
    }
  });

  it("is what a produce request writes, for several topics and partitions", async () => {
    jest.spyOn(Date, "now").mockReturnValue(NOW);
    const source = randomSource(42);
    for (let run = 0; run < 50; run++) {
      const topics = Array.from({ length: 1 + source.int(3) }, (_, t) => ({
        topic: `topic-${t}`,
        partitions: Array.from({ length: 1 + source.int(4) }, (_, p) => ({
          ...source.partitionArgs(NOW, 30),
          partition: p,
        })),
      }));
      const shared = { transactionalId: null, producerId: LongType.fromNumber(7), producerEpoch: 1 };
      const request = produceRequest({
        acks: -1,
        timeout: 30_000,
        compression: 0,
        ...shared,
        topicData: topics.map(({ topic, partitions }) => ({
          topic,
          partitions: partitions.map(({ partition, messages, firstSequence }) => ({
            partition,
            messages,
            firstSequence,
          })),
        })),
      });
      const expected = new Encoder().writeString(null).writeInt16(-1).writeInt32(30_000);
      const encodedTopics: KafkajsEncoder[] = [];
      for (const { topic, partitions } of topics) {
        const encodedPartitions: KafkajsEncoder[] = [];
        for (const p of partitions) {
          encodedPartitions.push((await generalPartitionData({ ...p, ...shared }, NOW)).encoded);
        }
        encodedTopics.push(new Encoder().writeString(topic).writeArray(encodedPartitions));
      }
      expected.writeArray(encodedTopics);
      expect((await request.encode()).buffer.toString("hex")).toBe(expected.buffer.toString("hex"));
      // The body, kept as its parts, framed as a whole request: the same bytes as the encoder's.
      const frame = (encode: () => Promise<KafkajsEncoder>) =>
        frameRequest({
          correlationId: run,
          clientId: "apimon",
          request: { apiKey: 0, apiVersion: 3, encode },
        });
      const framed = await frame(() => request.encode());
      expect(framed.buffer.toString("hex")).toBe((await frame(async () => expected)).buffer.toString("hex"));
    }
  });

  it("checksums record batches with CRC-32C", () => {
    expect(crc32C(Buffer.from("123456789"))).toBe(0xe3069283);
    const data = Buffer.from(Array.from({ length: 1100 }, (_, i) => (i * 131 + (i >> 3)) & 0xff));
    // Every length around the eight-byte steps, from offsets that are not eight-byte aligned.
    for (let start = 0; start < 9; start++) {
      for (let length = 0; length < 1090; length += length < 40 ? 1 : 37) {
        const slice = data.subarray(start, start + length);
        expect(crc32C(slice)).toBe(crc32CBitwise(slice));
      }
    }
  });

  it("frames a request (size, api key and version, correlation id, client id) around its payload", async () => {
    const payload = new Encoder().writeString("payload €").writeInt32(7);
    for (const clientId of ["apimon-edge-usage", "é€😀", "", null]) {
      const framed = await frameRequest({
        correlationId: 123_456,
        clientId,
        request: { apiKey: 0, apiVersion: 7, encode: async () => payload },
      });
      const header = new Encoder()
        .writeInt16(0)
        .writeInt16(7)
        .writeInt32(123_456)
        .writeString(clientId)
        .writeEncoder(payload);
      const expected = new Encoder().writeInt32(header.size()).writeEncoder(header);
      expect(framed.buffer.toString("hex")).toBe(expected.buffer.toString("hex"));
      expect(framed.size()).toBe(expected.size());
    }
  });

  it("leaves what it does not take to the general encoder", async () => {
    const base = {
      partition: 0,
      transactionalId: null,
      producerId: LongType.fromValue(-1),
      producerEpoch: 0,
      firstTimestamp: NOW,
      maxTimestamp: NOW,
      dateNow: NOW,
    };
    expect(encodePartitionData({ ...base, messages: [] })).toBeUndefined();
    expect(encodePartitionData({ ...base, messages: [{ key: "k", value: 12 }] })).toBeUndefined();
    expect(
      encodePartitionData({ ...base, messages: [{ key: "k", value: "v", headers: { h: null } }] }),
    ).toBeUndefined();
    expect(encodePartitionData({ ...base, messages: [{ value: "v", timestamp: "soon" }] })).toBeUndefined();

    // Through the request, such a message fails as it always did.
    jest.spyOn(Date, "now").mockReturnValue(NOW);
    const request = produceRequest({
      acks: -1,
      timeout: 30_000,
      compression: 0,
      topicData: [{ topic: "t", partitions: [{ partition: 0, messages: [{ key: "k", value: 12 }] }] }],
    });
    await expect(request.encode()).rejects.toThrow(/must be of type string/);
  });
});

function partitionArgs(source: ReturnType<typeof randomSource>, run: number): PartitionArgs {
  // Every tenth batch is large, as a busy producer's are.
  return source.partitionArgs(NOW, run % 10 === 0 ? 500 : 8);
}
