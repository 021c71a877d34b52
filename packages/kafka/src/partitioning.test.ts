// kafkajs' default partitioning (patched in patches/kafkajs@2.2.4.patch): murmur2 in 32-bit
// arithmetic instead of a Long object per step, the partitions with a leader looked up only for
// keyless messages, and a batch grouped by partition in one pass. A message must land on the
// partition the Java client picks for its key, or one key's events would be split over two
// partitions between producers, and order per key would be lost.

import { partitionOf } from "./partition";

type Message = { key?: string | Buffer | null; value: string; partition?: number };
type PartitionMetadata = { partitionId: number; leader: number };
type Partitioner = (args: {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  message: Message;
}) => number;

const internal = (path: string) => require(`kafkajs/src/${path}`);
const murmur2: (key: string | Buffer) => number = internal("producer/partitioners/default/murmur2");
const createDefaultPartitioner: () => Partitioner = internal("producer/partitioners/default");
const groupMessagesPerPartition: (args: {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  messages: Message[];
  partitioner: Partitioner;
}) => Record<string, Message[]> = internal("producer/groupMessagesPerPartition");

/** Java's Utils.murmur2 in BigInt: int multiplication and unsigned shifts, masked to 32 bits. */
function javaMurmur2(data: Buffer): number {
  const M = 0x5bd1e995n;
  const mask = 0xffffffffn;
  let h = (0x9747b28cn ^ BigInt(data.length)) & mask;
  const whole = data.length - (data.length % 4);
  for (let i = 0; i < whole; i += 4) {
    let k = BigInt(data.readUInt32LE(i));
    k = (k * M) & mask;
    k ^= k >> 24n;
    k = (k * M) & mask;
    h = ((h * M) & mask) ^ k;
  }
  const rest = data.length % 4;
  if (rest >= 3) h ^= BigInt(data[whole + 2] as number) << 16n;
  if (rest >= 2) h ^= BigInt(data[whole + 1] as number) << 8n;
  if (rest >= 1) h = ((h ^ BigInt(data[whole] as number)) * M) & mask;
  h ^= h >> 13n;
  h = (h * M) & mask;
  h ^= h >> 15n;
  return Number(BigInt.asIntN(32, h));
}

const metadata = (count: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 0,
  }));

describe("kafkajs default partitioning", () => {
  it("hashes keys as the Java client does", () => {
    // Kafka's own test vectors (UtilsTest.testMurmur2).
    const vectors: [string | Buffer, number][] = [
      ["21", -973932308],
      ["foobar", -790332482],
      ["a-little-bit-long-string", -985981536],
      ["a-little-bit-longer-string", -1486304829],
      ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
      [Buffer.from("abc"), 479470107],
    ];
    for (const [key, hash] of vectors) expect(murmur2(key)).toBe(hash);

    // Every length modulo 4, and bytes with the high bit set (negative as Java bytes).
    let seed = 7;
    const nextByte = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      return (seed >>> 16) & 0xff;
    };
    for (let length = 0; length < 200; length++) {
      const key = Buffer.from(Array.from({ length }, nextByte));
      expect(murmur2(key)).toBe(javaMurmur2(key));
      const text = key.toString("base64");
      expect(murmur2(text)).toBe(javaMurmur2(Buffer.from(text)));
    }
  });

  it("puts a keyed message on murmur2(key) modulo the partition count, leader or not", () => {
    const partitioner = createDefaultPartitioner();
    const partitionMetadata = metadata(6, [1, 2, 3, 4, 5]);
    for (const key of ["1", "42", "user-7", "é€😀"]) {
      const expected = (javaMurmur2(Buffer.from(key)) & 0x7fffffff) % 6;
      expect(partitioner({ topic: "t", partitionMetadata, message: { key, value: "v" } })).toBe(expected);
    }
    expect(
      partitioner({ topic: "t", partitionMetadata, message: { key: "k", value: "v", partition: 4 } }),
    ).toBe(4);
  });

  it("names the partition a key goes to, as the producers pick it", () => {
    for (const key of ["1", "42", "user-7", "é€😀", "17:3"])
      expect(partitionOf(key, 6)).toBe((javaMurmur2(Buffer.from(key)) & 0x7fffffff) % 6);
  });

  it("spreads keyless messages over the partitions that have a leader", () => {
    const partitioner = createDefaultPartitioner();
    const partitionMetadata = metadata(4, [1]);
    const chosen = new Set<number>();
    for (let i = 0; i < 30; i++) {
      chosen.add(partitioner({ topic: "t", partitionMetadata, message: { key: null, value: "v" } }));
    }
    expect([...chosen].sort()).toEqual([0, 2, 3]);
  });

  it("groups a batch by partition, each partition's messages in batch order", () => {
    const partitioner = createDefaultPartitioner();
    const messages: Message[] = Array.from({ length: 2000 }, (_, i) => ({
      key: String(i % 37),
      value: `m${i}`,
    }));
    const grouped = groupMessagesPerPartition({
      topic: "t",
      partitionMetadata: metadata(5),
      messages,
      partitioner,
    });
    const expected: Record<string, Message[]> = {};
    for (const message of messages) {
      const partition = String((javaMurmur2(Buffer.from(message.key as string)) & 0x7fffffff) % 5);
      const list = expected[partition] ?? [];
      list.push(message);
      expected[partition] = list;
    }
    expect(grouped).toEqual(expected);
    expect(Object.values(grouped).reduce((n, list) => n + list.length, 0)).toBe(messages.length);
    expect(groupMessagesPerPartition({ topic: "t", partitionMetadata: [], messages, partitioner })).toEqual(
      {},
    );
  });
});
