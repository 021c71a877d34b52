import { shouldRetryDbError } from "@apimon/db";
import type { AlertSignal } from "@apimon/events";
import { type BatchHandler, RetriableError } from "@apimon/kafka";
import type { SignalProcessor } from "../signals";

/**
 * Handles a batch of alerts.signals.v1 messages of one partition, in order (signals are keyed
 * by fingerprint, so a fingerprint's signals arrive in order). Each signal commits on its own;
 * a database outage pauses the partition (RetriableError) and the batch is replayed, which is
 * harmless: each signal commits with its offset, and an applied offset is skipped.
 */
export function createAlertSignalHandler({
  processor,
  groupId,
  onJobsQueued,
}: {
  processor: SignalProcessor;
  /** The consumer group: its applied offsets are stored under this name. */
  groupId: string;
  /** Called once per batch that queued notification jobs (wakes the outbox relay). */
  onJobsQueued?: () => void;
}): BatchHandler<AlertSignal> {
  return async (messages, context) => {
    let queued = false;
    try {
      for (const message of messages) {
        const outcome = await processor.apply(message.value, {
          groupId,
          topic: message.topic,
          partition: message.partition,
          offset: message.offset,
        });
        if (outcome.channelIds.length > 0) queued = true;
      }
    } catch (error) {
      if (shouldRetryDbError(error)) throw new RetriableError("database unavailable", { cause: error });
      throw error;
    } finally {
      if (queued) onJobsQueued?.();
    }
    context.logger.debug({ signals: messages.length }, "alert signals applied");
  };
}
