import type { AuthFailure } from "@apimon/events";
import { type BatchHandler, RetriableError } from "@apimon/kafka";
import type { Detector } from "../domain/detector";
import type { StateRebuilder } from "../rebuild";
import type { SignalQueue } from "../signal-queue";
import { awaitRebuild } from "./await-rebuild";

/** auth.failures.v1 → unauthorized_access (per client IP, and per inactive key). */
export function handleAuthFailures({
  detector,
  signals,
  rebuilder,
}: {
  detector: Detector;
  signals: SignalQueue;
  rebuilder: StateRebuilder;
}): BatchHandler<AuthFailure> {
  return async (messages, context) => {
    // Only a partition assigned moments ago waits; the steady state takes no await here.
    await awaitRebuild(rebuilder.ready("auth", context.partition), context);
    signals.push(detector.applyAuth(context.partition, messages));
    try {
      await signals.flush();
    } catch (error) {
      throw new RetriableError("could not publish alert signals", { cause: error });
    }
  };
}
