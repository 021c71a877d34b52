import type { Logger } from "@apimon/observability";
import { type Kafka, Partitioners, type Producer, type ProducerBatch, type RecordMetadata } from "kafkajs";

/** Sends record batches with an idempotent kafkajs producer, one request in flight. */
export interface IdempotentSender {
  connect(): Promise<void>;
  sendBatch(batch: Omit<ProducerBatch, "acks">): Promise<RecordMetadata[]>;
  disconnect(): Promise<void>;
}

/**
 * An idempotent producer (acks=all, one request in flight): the broker drops a retried batch it
 * already wrote, by producer id and sequence number, so a lost produce response does not
 * duplicate messages.
 *
 * kafkajs retries a send up to the client's limit and then gives up. A batch that failed for
 * good may still have been written, and kafkajs hands its sequence numbers to the next batch;
 * the broker would then drop that batch as a duplicate or refuse it as out of order. So after a
 * failed send the producer is replaced: the next batch starts under a fresh producer id.
 */
export function createIdempotentSender(kafka: Kafka, logger: Logger): IdempotentSender {
  const make = (): Producer =>
    kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // kafkajs 2's default (Java-compatible murmur2); named so kafkajs stops warning about it.
      createPartitioner: Partitioners.DefaultPartitioner,
      // Not kafkajs' unbounded default for idempotent producers: callers (the edge's spool, the
      // outbox relay's backoff) must learn that the brokers are gone. An empty object keeps the
      // client's bounded retry; the replacement above keeps a give-up safe.
      retry: {},
    });
  let producer = make();
  let connected: Promise<void> | undefined;

  const connect = (): Promise<void> => {
    connected ??= producer.connect().catch((error) => {
      connected = undefined;
      throw error;
    });
    return connected;
  };

  return {
    connect,
    async sendBatch(batch) {
      await connect();
      try {
        return await producer.sendBatch({ ...batch, acks: -1 });
      } catch (error) {
        const failed = producer;
        producer = make();
        connected = undefined;
        await failed.disconnect().catch((err) => logger.warn({ err }, "closing a failed producer"));
        throw error;
      }
    },
    async disconnect() {
      if (connected) await producer.disconnect();
      connected = undefined;
    },
  };
}
