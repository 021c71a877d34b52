import type { UsageEvent } from "@apimon/events";
import { type BatchHandler, RetriableError } from "@apimon/kafka";
import type { Detector } from "../domain/detector";
import type { StateRebuilder } from "../rebuild";
import type { SignalQueue } from "../signal-queue";
import { awaitRebuild } from "./await-rebuild";

/**
 * usage.events.v1 → response_time, error_rate, usage_spike and rate_limit_approaching. The
 * signals a batch causes are published before its offsets are committed; a failed publish is
 * retried (the detector skips offsets it already applied, so state is not counted twice).
 */
export function handleUsageEvents({
  detector,
  signals,
  rebuilder,
}: {
  detector: Detector;
  signals: SignalQueue;
  rebuilder: StateRebuilder;
}): BatchHandler<UsageEvent> {
  return async (messages, context) => {
    // Only a partition assigned moments ago waits; the steady state takes no await here.
    await awaitRebuild(rebuilder.ready("usage", context.partition), context);
    signals.push(detector.applyUsage(context.partition, messages));
    try {
      await signals.flush();
    } catch (error) {
      throw new RetriableError("could not publish alert signals", { cause: error });
    }
  };
}
