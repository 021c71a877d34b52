import { Partitioners } from "kafkajs";

const partitioner = Partitioners.DefaultPartitioner();

/**
 * The partition, of `count`, that a message with this key goes to: the one every producer here
 * picks (kafkajs' default, the Java client's murmur2). For tests and tools that must know which
 * messages share a partition.
 */
export function partitionOf(key: string, count: number): number {
  return partitioner({
    topic: "",
    partitionMetadata: Array.from({ length: count }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    })),
    message: { key, value: null },
  });
}
