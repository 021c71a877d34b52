import type { AlertSignal } from "@apimon/events";
import { type BatchHandler, type ConsumedMessage, RetriableError } from "@apimon/kafka";
import type { Detector, StreamKind } from "../domain/detector";
import type { StateRebuilder } from "../rebuild";
import type { SignalQueue } from "../signal-queue";
import { awaitRebuild } from "./await-rebuild";

export interface DetectorHandlerDeps {
  detector: Detector;
  signals: SignalQueue;
  rebuilder: StateRebuilder;
}

/**
 * One stream's batches through the detector. The signals a batch causes are published before
 * its offsets are committed; a failed publish is retried (the detector skips offsets it already
 * applied, so state is not counted twice).
 */
export function detectorBatchHandler<T>(
  kind: StreamKind,
  apply: (partition: number, messages: ConsumedMessage<T>[]) => AlertSignal[],
  { signals, rebuilder }: Omit<DetectorHandlerDeps, "detector">,
): BatchHandler<T> {
  return async (messages, context) => {
    // Only a partition assigned moments ago waits; the steady state takes no await here.
    await awaitRebuild(rebuilder.ready(kind, context.partition), context);
    signals.push(apply(context.partition, messages));
    try {
      await signals.flush();
    } catch (error) {
      throw new RetriableError("could not publish alert signals", { cause: error });
    }
  };
}
