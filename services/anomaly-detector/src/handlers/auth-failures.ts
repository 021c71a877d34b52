import type { AuthFailure } from "@apimon/events";
import type { BatchHandler } from "@apimon/kafka";
import { type DetectorHandlerDeps, detectorBatchHandler } from "./detector-batch";

/** auth.failures.v1 → unauthorized_access (per client IP, and per inactive key). */
export function handleAuthFailures({ detector, ...deps }: DetectorHandlerDeps): BatchHandler<AuthFailure> {
  return detectorBatchHandler("auth", (partition, messages) => detector.applyAuth(partition, messages), deps);
}
