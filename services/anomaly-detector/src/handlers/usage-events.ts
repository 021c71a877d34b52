import type { UsageEvent } from "@apimon/events";
import type { BatchHandler } from "@apimon/kafka";
import { type DetectorHandlerDeps, detectorBatchHandler } from "./detector-batch";

/** usage.events.v1 → response_time, error_rate, usage_spike and rate_limit_approaching. */
export function handleUsageEvents({ detector, ...deps }: DetectorHandlerDeps): BatchHandler<UsageEvent> {
  return detectorBatchHandler(
    "usage",
    (partition, messages) => detector.applyUsage(partition, messages),
    deps,
  );
}
