// @apimon/outbox: messages written to the database in the transaction that decides them, and
// the relay that publishes them to Kafka. A message is neither lost when Kafka is down at
// commit time nor sent for a change that rolled back; per key, Kafka sees commit order.
export { type BatchPlan, backoffMs, type OutboxRow, planBatch } from "./batch";
export {
  createOutboxRelay,
  OUTBOX_RELAY_LOCK_KEY,
  type OutboxDatabase,
  type OutboxRelay,
  type OutboxRelayOptions,
  type OutboxSqlClient,
} from "./relay";
export { type OutboxMessage, type OutboxTx, writeOutbox } from "./writer";
