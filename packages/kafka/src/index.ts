/** The client type other packages hold (built by createKafka), so that none of them imports kafkajs. */
export type { Kafka as KafkaClient } from "kafkajs";
export { deleteConsumerGroups, fetchEndOffsets, type PartitionOffsets } from "./admin";
export { createKafka, type KafkaClientOptions } from "./client";
export {
  type BatchHandler,
  type ConsumedMessage,
  type ConsumerProgress,
  type ConsumerRunner,
  type ConsumerRunnerOptions,
  createConsumerRunner,
  type HandlerContext,
  type Subscription,
  subscription,
} from "./consumer";
export { decodeMessage, dlqRecord } from "./decode";
export { isMarkedRetriable, ProducerClosedError, ProducerQueueFullError, RetriableError } from "./errors";
export {
  type BatchingProducer,
  type BatchingProducerOptions,
  createBatchingProducer,
  type PublishOptions,
} from "./producer";
export { ensureTopics, topicName } from "./topics";
