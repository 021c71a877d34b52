import { attemptDeliveryId, type NotificationJob, topics } from "@apimon/events";
import { type HandlerContext, RetriableError } from "@apimon/kafka";
import { consumedMessage, handlerContext, waitFor } from "@apimon/testkit";
import { makeJob } from "../../test/fixtures";
import type { DeadLetters } from "../delivery/dead-letters";
import type { AttemptRow, DeliveryLog } from "../delivery/delivery-log";
import type { AttemptResult } from "../domain/attempt-result";
import type { NotifierMetrics } from "../metrics";
import type { ChannelInfo, ChannelSender } from "../senders/sender";
import { createNotificationJobHandler, type JobHandlerOptions } from "./notification-jobs";

const message = (job: NotificationJob, offset = "0") => consumedMessage(topics.notifications, job, offset);
const context = handlerContext(topics.notifications);

/** In-memory notification_deliveries with the real table's uniqueness rule. */
function memoryLog(): DeliveryLog & { rows: AttemptRow[] } {
  const rows: AttemptRow[] = [];
  return {
    rows,
    async progress(deliveryId, maxAttempts) {
      const ids = new Set([
        deliveryId,
        ...Array.from({ length: maxAttempts }, (_, i) => attemptDeliveryId(deliveryId, i + 1)),
      ]);
      const mine = rows.filter((r) => ids.has(r.deliveryId));
      const final = mine.find((r) => r.deliveryId === deliveryId && r.status !== "retrying");
      return {
        final: final ? (final.status as "succeeded" | "failed") : null,
        lastAttempt: Math.max(0, ...mine.map((r) => r.attempt)),
      };
    },
    async record(row) {
      if (rows.some((r) => r.deliveryId === row.deliveryId)) return false;
      rows.push(row);
      return true;
    },
    async reopen(deliveryId, attempt) {
      const final = rows.find((r) => r.deliveryId === deliveryId && r.status === "failed");
      if (final) final.deliveryId = attemptDeliveryId(deliveryId, attempt);
    },
  };
}

function setup(
  script: AttemptResult[],
  overrides: Partial<JobHandlerOptions> & { channel?: ChannelInfo | null } = {},
) {
  const sent: NotificationJob[] = [];
  const sender: ChannelSender = {
    async send({ job }) {
      sent.push(job);
      const next = script.shift();
      if (!next) throw new Error("sender called more often than scripted");
      return next;
    },
  };
  const channel =
    overrides.channel === undefined
      ? { id: 3, type: "webhook" as const, enabled: true, secret: "s" }
      : overrides.channel;
  const deliveries = memoryLog();
  const dead: Array<{ offset: string; error: string }> = [];
  const deadLetters: DeadLetters = {
    async write(m, error) {
      dead.push({ offset: m.offset, error });
    },
  };
  const outcomes: string[] = [];
  const metrics: NotifierMetrics = {
    job: (_t, outcome) => outcomes.push(outcome),
    attempt: () => {},
    deadLettered: () => {},
  };
  const delays: number[] = [];
  const handler = createNotificationJobHandler({
    channelType: "webhook",
    sender,
    channels: { get: async () => channel },
    deliveries,
    deadLetters,
    metrics,
    maxAttempts: 3,
    backoff: { baseMs: 100, capMs: 1000 },
    concurrency: 4,
    stopSignal: new AbortController().signal,
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  });
  return { handler, sent, deliveries, dead, outcomes, delays };
}

const ok: AttemptResult = { ok: true, responseCode: 200 };
const http500: AttemptResult = { ok: false, retriable: true, responseCode: 500, error: "HTTP 500" };

describe("notification job handling", () => {
  it("retries 500, 500 then succeeds: three rows, the final one under the job's delivery id", async () => {
    const job = makeJob();
    const { handler, deliveries, dead, outcomes, delays } = setup([http500, http500, ok]);
    await handler([message(job)], context);
    expect(deliveries.rows.map((r) => [r.deliveryId, r.attempt, r.status, r.responseCode])).toEqual([
      [attemptDeliveryId(job.deliveryId, 1), 1, "retrying", 500],
      [attemptDeliveryId(job.deliveryId, 2), 2, "retrying", 500],
      [job.deliveryId, 3, "succeeded", 200],
    ]);
    expect(delays).toEqual([50, 100]);
    expect(dead).toEqual([]);
    expect(outcomes).toEqual(["succeeded"]);
  });

  it("dead-letters the job after the last failed attempt and marks the delivery failed", async () => {
    const job = makeJob();
    const { handler, deliveries, dead, outcomes } = setup([http500, http500, http500]);
    await handler([message(job, "41")], context);
    expect(deliveries.rows.map((r) => r.status)).toEqual(["retrying", "retrying", "failed"]);
    expect(deliveries.rows[2]).toMatchObject({ deliveryId: job.deliveryId, attempt: 3, error: "HTTP 500" });
    expect(dead).toEqual([{ offset: "41", error: "delivery failed after 3 attempt(s): HTTP 500" }]);
    expect(outcomes).toEqual(["failed"]);
  });

  it("delivers a failed job again when its dead letter is replayed, and never one that succeeded", async () => {
    const job = makeJob();
    const { handler, deliveries, dead, outcomes } = setup([http500, http500, http500, http500, ok]);
    await handler([message(job, "41")], context);
    // Redelivered as it was (a rebalance): done already.
    await handler([message(job, "42")], context);
    const replayed = {
      ...message(job, "43"),
      headers: { "apimon-replayed-from": "notifications.v1.dlq/0/7" },
    };
    await handler([replayed], context);
    expect(deliveries.rows.map((r) => [r.deliveryId, r.attempt, r.status])).toEqual([
      [attemptDeliveryId(job.deliveryId, 1), 1, "retrying"],
      [attemptDeliveryId(job.deliveryId, 2), 2, "retrying"],
      [attemptDeliveryId(job.deliveryId, 3), 3, "failed"],
      [attemptDeliveryId(job.deliveryId, 4), 4, "retrying"],
      [job.deliveryId, 5, "succeeded"],
    ]);
    await handler([{ ...replayed, offset: "44" }], context);
    expect(outcomes).toEqual(["failed", "duplicate", "succeeded", "duplicate"]);
    expect(dead).toHaveLength(1);
  });

  it("gives up at once on a permanent failure", async () => {
    const { handler, deliveries, dead } = setup([
      { ok: false, retriable: false, responseCode: 404, error: "HTTP 404" },
    ]);
    await handler([message(makeJob())], context);
    expect(deliveries.rows.map((r) => [r.attempt, r.status])).toEqual([[1, "failed"]]);
    expect(dead).toHaveLength(1);
  });

  it("honours Retry-After up to the cap", async () => {
    const { handler, delays } = setup([
      { ok: false, retriable: true, responseCode: 429, error: "HTTP 429", retryAfterMs: 700 },
      { ok: false, retriable: true, responseCode: 429, error: "HTTP 429", retryAfterMs: 60_000 },
      ok,
    ]);
    await handler([message(makeJob())], context);
    expect(delays).toEqual([700, 1000]);
  });

  it("skips a job whose delivery already finished, and resumes one that was part-way", async () => {
    const done = makeJob();
    const partWay = makeJob({
      deliveryId: "0190b2c4-8f1e-7a3b-9c2d-000000000002",
      alert: { ...makeJob().alert, id: 13 },
    });
    const { handler, deliveries, sent, outcomes } = setup([ok]);
    deliveries.rows.push(
      {
        deliveryId: done.deliveryId,
        alertId: 12,
        channelId: 3,
        attempt: 1,
        status: "succeeded",
        responseCode: 200,
        error: null,
        latencyMs: 5,
      },
      {
        deliveryId: attemptDeliveryId(partWay.deliveryId, 1),
        alertId: 13,
        channelId: 3,
        attempt: 1,
        status: "retrying",
        responseCode: 500,
        error: "HTTP 500",
        latencyMs: 5,
      },
    );
    await handler([message(done, "1"), message(partWay, "2")], context);
    expect(sent.map((j) => j.deliveryId)).toEqual([partWay.deliveryId]);
    expect(deliveries.rows.at(-1)).toMatchObject({
      deliveryId: partWay.deliveryId,
      attempt: 2,
      status: "succeeded",
    });
    expect(outcomes.sort()).toEqual(["duplicate", "succeeded"]);
  });

  it("marks the delivery failed without sending when the channel is disabled", async () => {
    const { handler, deliveries, sent, dead } = setup([], {
      channel: { id: 3, type: "webhook", enabled: false, secret: null },
    });
    await handler([message(makeJob())], context);
    expect(sent).toEqual([]);
    expect(dead).toEqual([]);
    expect(deliveries.rows).toEqual([
      expect.objectContaining({
        attempt: 1,
        status: "failed",
        error: "channel 3 is disabled",
        responseCode: null,
      }),
    ]);
  });

  it("drops the job without sending or retrying when the channel was deleted", async () => {
    const { handler, deliveries, sent, outcomes } = setup([], { channel: null });
    await handler([message(makeJob())], context);
    expect(sent).toEqual([]);
    expect(deliveries.rows).toEqual([]);
    expect(outcomes).toEqual(["dropped"]);
  });

  it("handles only its own channel type", async () => {
    const { handler, sent } = setup([ok]);
    await handler(
      [message(makeJob({ channel: { id: 5, type: "email" } }), "1"), message(makeJob(), "2")],
      context,
    );
    expect(sent.map((j) => j.channel.type)).toEqual(["webhook"]);
  });

  it("keeps jobs of one alert in order while other alerts go on concurrently", async () => {
    const order: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const sender: ChannelSender = {
      async send({ job }) {
        order.push(`start ${job.deliveryId.slice(-1)}`);
        if (job.deliveryId.endsWith("1")) await gate;
        order.push(`end ${job.deliveryId.slice(-1)}`);
        return ok;
      },
    };
    const a = makeJob({ deliveryId: "0190b2c4-8f1e-7a3b-9c2d-000000000001" });
    const b = makeJob({ deliveryId: "0190b2c4-8f1e-7a3b-9c2d-000000000002" });
    const other = makeJob({
      deliveryId: "0190b2c4-8f1e-7a3b-9c2d-000000000003",
      alert: { ...a.alert, id: 99 },
    });
    const { handler } = setup([], { sender });
    const running = handler([message(a, "1"), message(b, "2"), message(other, "3")], context);
    await waitFor(() => order.includes("end 3"), { what: "alert 99's job", intervalMs: 5 });
    // Alert 99 finished while alert 12's first job is still held; its second job has not started.
    expect(order).toEqual(["start 1", "start 3", "end 3"]);
    release();
    await running;
    expect(order).toEqual(["start 1", "start 3", "end 3", "end 1", "start 2", "end 2"]);
  });

  it("leaves the slice uncommitted (retriable error) when stopped during a backoff wait", async () => {
    const stop = new AbortController();
    const { handler, deliveries } = setup([http500], {
      stopSignal: stop.signal,
      sleep: (_ms, signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener("abort", () => reject(signal.reason));
          stop.abort(new Error("notifier stopping"));
        }),
    });
    const outcome = handler([message(makeJob())], context);
    await expect(outcome).rejects.toBeInstanceOf(RetriableError);
    await expect(outcome).rejects.toThrow("delivery interrupted: notifier stopping");
    expect(deliveries.rows.map((r) => r.status)).toEqual(["retrying"]);
  });

  it("gives up the slice when the group rebalances during a long wait", async () => {
    const rebalancing: HandlerContext = {
      ...context,
      heartbeat: async () => {
        throw new Error("The group is rebalancing, so a rejoin is needed");
      },
    };
    const { handler } = setup([http500], {
      heartbeatIntervalMs: 5,
      sleep: (_ms, signal) =>
        new Promise((_r, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
    });
    await expect(handler([message(makeJob())], rebalancing)).rejects.toBeInstanceOf(RetriableError);
  });

  it("retries the slice when the database is unreachable", async () => {
    const { handler, deliveries } = setup([ok]);
    deliveries.progress = async () => {
      throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    };
    await expect(handler([message(makeJob())], context)).rejects.toBeInstanceOf(RetriableError);
  });
});
