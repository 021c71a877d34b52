/** The client type other packages hold (built by createKafka), so that none of them imports kafkajs. */
export type { Kafka as KafkaClient } from "kafkajs";
export { applyServiceAcls, SERVICE_ACCESS, type ServiceAccess, serviceAclEntries } from "./acls";
export {
  deleteConsumerGroups,
  fetchConsumerLag,
  fetchEndOffsets,
  type PartitionLag,
  type PartitionOffsets,
} from "./admin";
export { connectionSecurity, createKafka, type KafkaClientOptions } from "./client";
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
export {
  type DeadLetter,
  type DeadLetterOptions,
  type DeadLetterReplay,
  type DeadLetterSummary,
  deadLetterReplayGroup,
  REPLAYED_FROM_HEADER,
  readDeadLetters,
  replayDeadLetters,
  summarizeDeadLetters,
} from "./dead-letters";
export { decodeMessage, dlqRecord } from "./decode";
export {
  isMarkedRetriable,
  isRecordTooLarge,
  ProducerClosedError,
  ProducerQueueFullError,
  RetriableError,
} from "./errors";
export { partitionOf } from "./partition";
export {
  type BatchingProducer,
  type BatchingProducerOptions,
  createBatchingProducer,
  type PublishAllOptions,
  type PublisherDeps,
  type PublishOptions,
} from "./producer";
export {
  fetchCommittedOffsets,
  fetchOffsetsByTimestamp,
  type ReplayOptions,
  type ReplayRange,
  replayPartitions,
} from "./replay";
export { type SecureBrokerAccess, secureBrokerAccess } from "./secure-broker";
export { ensureTopics, topicName } from "./topics";
