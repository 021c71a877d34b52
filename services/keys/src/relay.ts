// The keys service publishes its outbox with the shared relay (also used by the alerts service):
// per-key order, a row marked only after Kafka acknowledged it, one publisher at a time across
// replicas (advisory transaction lock).
export {
  createOutboxRelay,
  OUTBOX_RELAY_LOCK_KEY,
  type OutboxRelay,
  type OutboxRelayOptions,
} from "@apimon/kafka";
