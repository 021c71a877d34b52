import { isRowDataError } from "@apimon/db";
import type { UsageEvent } from "@apimon/events";
import { type BatchHandler, RetriableError } from "@apimon/kafka";
import { toUsageRow } from "../domain/usage-row";
import type { UsageWriter } from "../usage-writer";

export interface UsageEventsHandlerDeps {
  writer: UsageWriter;
}

/**
 * Handles a batch of usage.events.v1 (already validated by the consumer runner) with one bulk
 * insert. The runner commits the batch's offsets only after this returns.
 *
 * A failure that the rows caused (see isRowDataError) propagates as is: the runner then
 * retries the events one by one and dead-letters only the culprit. Every other failure is
 * retriable: the runner backs off and retries the same batch without committing, so an
 * outage pauses the partition and no offset moves past unwritten rows.
 */
export function createUsageEventsHandler({ writer }: UsageEventsHandlerDeps): BatchHandler<UsageEvent> {
  return async function handleUsageEvents(messages, context) {
    const rows = messages.map((m) => toUsageRow(m.value));
    try {
      const { inserted, duplicates } = await writer.write(rows);
      if (duplicates > 0) context.logger.debug({ inserted, duplicates }, "skipped redelivered usage events");
    } catch (error) {
      if (isRowDataError(error)) throw error;
      throw new RetriableError(`writing ${rows.length} usage rows failed`, { cause: error });
    }
  };
}
