export { newEventId } from "./ids";
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
  type NotificationJob,
  notificationJobSchema,
  type UsageEvent,
  usageEventSchema,
} from "./schemas";
export { allTopics, dlqTopic, type TopicName, type TopicSpec, topics } from "./topics";
