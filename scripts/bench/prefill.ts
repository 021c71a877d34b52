// Fills a bench run's usage topic before the measured phase, in publish rounds small enough
// to keep the producer's queue bounded.
import { topics, type UsageEvent } from "@apimon/events";
import { createBatchingProducer, type KafkaClient } from "@apimon/kafka";
import type { Logger } from "@apimon/observability";

export async function prefillUsageTopic(options: {
  kafka: KafkaClient;
  logger: Logger;
  prefix: string;
  events: Iterable<UsageEvent>;
}): Promise<void> {
  const round = 20_000;
  const producer = createBatchingProducer({
    kafka: options.kafka,
    logger: options.logger,
    topicPrefix: options.prefix,
    maxBatchMessages: 5000,
    maxQueuedMessages: round + 1,
  });
  let pending: Promise<void>[] = [];
  for (const event of options.events) {
    pending.push(producer.publish(topics.usageEvents, event));
    if (pending.length === round) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  await producer.disconnect();
}
