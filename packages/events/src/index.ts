export { clientSource } from "./client-source";
export { attemptDeliveryId, uuidV5 } from "./delivery-ids";
export { newEventId } from "./ids";
export {
  canonicalJson,
  KEY_CHANGE_SIGNATURE_HEADER,
  type KeyChangeSignatureCheck,
  keyChangeSigner,
  signKeyChange,
  verifyKeyChange,
} from "./key-change-signature";
export {
  type AlertSignal,
  type AuthFailure,
  alertSeverities,
  alertSignalSchema,
  alertTypes,
  authFailureSchema,
  type DlqRecord,
  dlqRecordSchema,
  type KeyChange,
  keyChangeSchema,
  MAX_GROUPED_ALERTS,
  type NotificationJob,
  notificationJobSchema,
  type UsageEvent,
  usageEventSchema,
} from "./schemas";
export { allTopics, dlqTopic, type TopicName, type TopicSpec, topics } from "./topics";
export { usageEventJson } from "./usage-event-json";
