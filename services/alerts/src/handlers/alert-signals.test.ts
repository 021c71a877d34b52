import { topics } from "@apimon/events";
import { isMarkedRetriable } from "@apimon/kafka";
import { consumedMessage, handlerContext, makeAlertSignal } from "@apimon/testkit";
import type { SignalOutcome, SignalProcessor } from "../signals";
import { createAlertSignalHandler } from "./alert-signals";

const context = handlerContext(topics.alertSignals);

const message = (offset: number) =>
  consumedMessage(
    topics.alertSignals,
    makeAlertSignal({ fingerprint: "fp", observedAt: new Date(offset * 1000).toISOString() }),
    offset,
  );

const outcome = (channelIds: number[]): SignalOutcome => ({
  decision: { kind: "open" },
  alert: null,
  channelIds,
});

describe("the alert signal handler", () => {
  it("applies a partition's signals in order and wakes the relay once when jobs were queued", async () => {
    const seen: unknown[] = [];
    const processor: SignalProcessor = {
      apply: async (signal, position) => {
        seen.push([signal.observedAt, position]);
        return outcome(seen.length === 2 ? [1, 2] : []);
      },
    };
    let nudges = 0;
    await createAlertSignalHandler({ processor, groupId: "alerts", onJobsQueued: () => nudges++ })(
      [message(1), message(2), message(3)],
      context,
    );
    // Each with its position, so that a redelivered one is recognised.
    expect(seen).toEqual(
      [1, 2, 3].map((offset) => [
        message(offset).value.observedAt,
        { groupId: "alerts", topic: "alerts.signals.v1", partition: 0, offset: String(offset) },
      ]),
    );
    expect(nudges).toBe(1);
  });

  it("turns a database outage into a retriable error, so the consumer pauses instead of dead-lettering", async () => {
    const outage = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    const processor: SignalProcessor = { apply: () => Promise.reject(outage) };
    const error = await createAlertSignalHandler({ processor, groupId: "alerts" })(
      [message(1)],
      context,
    ).catch((e: unknown) => e);
    expect(isMarkedRetriable(error)).toBe(true);
    expect((error as Error).cause).toBe(outage);
  });

  it("lets other errors through as they are (the runner dead-letters the culprit)", async () => {
    const bug = new Error("constraint violated");
    const processor: SignalProcessor = { apply: () => Promise.reject(bug) };
    await expect(
      createAlertSignalHandler({ processor, groupId: "alerts" })([message(1)], context),
    ).rejects.toBe(bug);
  });
});
