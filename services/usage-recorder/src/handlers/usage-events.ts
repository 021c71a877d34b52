import type { UsageEvent } from "@apimon/events";
import type { BatchHandler } from "@apimon/kafka";
import { toUsageRow } from "../domain/usage-row";
import type { UsageWriter } from "../usage-writer";

export interface UsageEventsHandlerDeps {
  writer: UsageWriter;
}

/**
 * Handles a batch of usage.events.v1 (already validated by the consumer runner) with one bulk
 * insert. The runner commits the batch's offsets only after this returns.
 *
 * A failure propagates as is, for the runner's retry policy (`shouldRetryDbError`): a database
 * that does not answer as it should (down, a table missing, a privilege revoked) pauses the
 * partition and the same batch is retried, so no offset moves past unwritten rows; a row the
 * database refuses (a data exception, a constraint) is isolated and dead-lettered alone.
 */
export function createUsageEventsHandler({ writer }: UsageEventsHandlerDeps): BatchHandler<UsageEvent> {
  return async function handleUsageEvents(messages, context) {
    const rows = messages.map((m) => toUsageRow(m.value));
    const { inserted, duplicates } = await writer.write(rows);
    if (duplicates > 0) context.logger.debug({ inserted, duplicates }, "skipped redelivered usage events");
  };
}
