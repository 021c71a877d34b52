import type { TopicSpec } from "@apimon/events";
import type { ConsumedMessage, HandlerContext } from "@apimon/kafka";
import { testLogger } from "./logger";

/** A message as the consumer runner hands it to a batch handler: partition 0, keyed as the topic keys it. */
export function consumedMessage<T>(
  topic: TopicSpec<T>,
  value: T,
  offset: number | string,
): ConsumedMessage<T> {
  return {
    topic: topic.name,
    partition: 0,
    offset: String(offset),
    key: topic.key(value),
    headers: {},
    timestamp: "0",
    value,
  };
}

/** What a batch handler is given beside partition 0's messages; the logger is testLogger's. */
export function handlerContext(topic: TopicSpec<unknown>, logger = testLogger()): HandlerContext {
  return { topic: topic.name, partition: 0, logger, heartbeat: async () => {} };
}
