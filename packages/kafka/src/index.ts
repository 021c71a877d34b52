export { createKafka, type KafkaClientOptions } from "./client";
export {
  type BatchHandler,
  type ConsumedMessage,
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
