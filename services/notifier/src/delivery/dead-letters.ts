import { type DlqRecord, dlqTopic, type NotificationJob, topics } from "@apimon/events";
import type { BatchingProducer, ConsumedMessage } from "@apimon/kafka";

/** Where jobs go that could not be delivered within their attempts. */
export interface DeadLetters {
  write(message: ConsumedMessage<NotificationJob>, error: string): Promise<void>;
}

/**
 * Writes a given-up job to `notifications.v1.dlq` in the consumer runner's DLQ record format,
 * awaiting the broker's acknowledgement. The value is the validated job re-serialised (the
 * runner hands handlers parsed values, not raw bytes); to replay it, publish it again with a
 * new deliveryId, since the failed row under the old one marks it done.
 */
export function createDeadLetters({
  producer,
  consumerGroup,
  clock = () => new Date(),
}: {
  producer: Pick<BatchingProducer, "publish">;
  consumerGroup: string;
  clock?: () => Date;
}): DeadLetters {
  const topic = dlqTopic(topics.notifications);
  return {
    async write(message, error) {
      const record: DlqRecord = {
        sourceTopic: message.topic,
        partition: message.partition,
        offset: message.offset,
        consumerGroup,
        key: message.key,
        value: JSON.stringify(message.value),
        valueEncoding: "utf8",
        headers: message.headers,
        error: error.slice(0, 4000),
        failedAt: clock().toISOString(),
      };
      await producer.publish(topic, record, { key: message.key ?? message.value.deliveryId });
    },
  };
}
