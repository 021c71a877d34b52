import { setTimeout as delay } from "node:timers/promises";
import { shouldRetryDbError } from "@apimon/db";
import { attemptDeliveryId, type NotificationJob } from "@apimon/events";
import {
  type BatchHandler,
  type ConsumedMessage,
  isMarkedRetriable,
  REPLAYED_FROM_HEADER,
  RetriableError,
} from "@apimon/kafka";
import type { Logger } from "@apimon/observability";
import type { ChannelDirectory } from "../delivery/channel-directory";
import type { DeadLetters } from "../delivery/dead-letters";
import type { DeliveryLog } from "../delivery/delivery-log";
import type { AttemptResult } from "../domain/attempt-result";
import { type BackoffPolicy, retryDelayMs } from "../domain/backoff";
import type { NotifierMetrics } from "../metrics";
import type { ChannelSender, ChannelType } from "../senders/sender";

// One channel type's consumer: every group reads the whole topic and handles only its own type,
// so a Slack outage holds back Slack jobs and nothing else.
//
// Retries happen here, in the handler, with bounded attempts and backoff: the partition's offset
// is committed only after every job of the slice has finished (delivered or given up), which
// keeps at-least-once without a delay topic. The price is that a failing job holds back the jobs
// behind it in its partition for at most the sum of its backoffs (about a minute with the
// defaults); jobs in the same slice with other keys go on concurrently, and the notifier runs
// several consumers per type so that other partitions go on too. Jobs with the same key (one
// alert's messages to one channel) stay in order.

export interface JobHandlerOptions {
  channelType: ChannelType;
  sender: ChannelSender;
  channels: ChannelDirectory;
  deliveries: DeliveryLog;
  deadLetters: DeadLetters;
  metrics: NotifierMetrics;
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** Jobs (of different keys) delivered at once within one slice. */
  concurrency: number;
  /** Aborted when the notifier stops: waits end, requests are cancelled, the slice stays uncommitted. */
  stopSignal: AbortSignal;
  heartbeatIntervalMs?: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/** Work given up mid-way (stop, rebalance): retriable, so the runner leaves the slice uncommitted. */
function interrupted(signal: AbortSignal): RetriableError {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? "aborted");
  return new RetriableError(`delivery interrupted: ${reason}`, { cause: signal.reason });
}

/** Database and Kafka hiccups retry the slice (rows already written make the rerun skip ahead). */
function asHandlerError(error: unknown): unknown {
  if (error instanceof RetriableError) return error;
  if (isMarkedRetriable(error) || shouldRetryDbError(error)) {
    return new RetriableError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  return error;
}

/** Runs `work` over `items` with at most `limit` in flight; never rejects. */
async function settleAll<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  const results: PromiseSettledResult<void>[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        await work(items[index] as T);
        results[index] = { status: "fulfilled", value: undefined };
      } catch (reason) {
        results[index] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function byKey(messages: ConsumedMessage<NotificationJob>[]): ConsumedMessage<NotificationJob>[][] {
  const groups = new Map<string, ConsumedMessage<NotificationJob>[]>();
  for (const m of messages) {
    const key = m.key ?? m.value.deliveryId;
    const group = groups.get(key);
    if (group) group.push(m);
    else groups.set(key, [m]);
  }
  return [...groups.values()];
}

/** The batch handler of one channel type's consumer group. */
export function createNotificationJobHandler(options: JobHandlerOptions): BatchHandler<NotificationJob> {
  const {
    channelType,
    sender,
    channels,
    deliveries,
    deadLetters,
    metrics,
    maxAttempts,
    backoff,
    concurrency,
    stopSignal,
    heartbeatIntervalMs = 1000,
    sleep = (ms, signal) => delay(ms, undefined, { signal }),
    random = Math.random,
    now = () => performance.now(),
  } = options;

  function attemptOutcome(result: AttemptResult) {
    return result.ok ? "succeeded" : result.retriable ? "retriable_error" : "permanent_error";
  }

  async function deliver(message: ConsumedMessage<NotificationJob>, signal: AbortSignal, logger: Logger) {
    const job = message.value;
    const log = logger.child({
      offset: message.offset,
      deliveryId: job.deliveryId,
      alertId: job.alert.id,
      channelId: job.channel.id,
      channelType,
      reason: job.reason,
    });
    const otherAlertIds = (job.others ?? []).flatMap((other) => (other.id === null ? [] : [other.id]));
    const progress = await deliveries.progress(job.deliveryId, maxAttempts);
    // The last attempt this run may make: the job's budget, or, for a dead letter an operator
    // replayed (`apimon dlq replay`), a fresh budget after the attempts already made.
    let lastAllowed = maxAttempts;
    const replayedFrom = message.headers[REPLAYED_FROM_HEADER];
    if (progress.final === "failed" && replayedFrom !== undefined) {
      await deliveries.reopen(job.deliveryId, progress.lastAttempt);
      lastAllowed = progress.lastAttempt + maxAttempts;
      log.info(
        { replayedFrom, attempts: progress.lastAttempt },
        "failed delivery replayed; delivering it again",
      );
    } else if (progress.final) {
      metrics.job(channelType, "duplicate");
      log.info({ status: progress.final }, "delivery already finished; redelivered job skipped");
      return;
    }
    let attempt = Math.max(job.attempt, progress.lastAttempt + 1);
    for (;;) {
      if (signal.aborted) throw interrupted(signal);
      const channel = await channels.get(job.channel.id);
      if (!channel) {
        // No row can say so: notification_deliveries.channel_id must name an existing channel.
        metrics.job(channelType, "dropped");
        log.warn("channel no longer exists; delivery dropped without retry");
        return;
      }
      // A test is how one checks a channel before enabling it: it goes out regardless.
      if (!channel.enabled && job.reason !== "test") {
        await deliveries.record({
          deliveryId: job.deliveryId,
          alertId: job.alert.id,
          otherAlertIds,
          channelId: channel.id,
          attempt,
          status: "failed",
          responseCode: null,
          error: `channel ${channel.id} is disabled`,
          latencyMs: null,
        });
        metrics.job(channelType, "failed");
        log.warn("channel is disabled; delivery marked failed without retry");
        return;
      }

      const started = now();
      const result = await sender.send({ job, channel, signal });
      const latencyMs = Math.round(now() - started);
      // An attempt cut short by a stop is not an attempt: the next owner makes it again.
      if (signal.aborted) throw interrupted(signal);
      metrics.attempt(channelType, attemptOutcome(result), latencyMs);

      const final = result.ok || !result.retriable || attempt >= lastAllowed;
      if (!result.ok && final) {
        // Before the failed row: if the process dies in between, the rerun tries once more and
        // dead-letters again, rather than finding the job done and never dead-lettering it.
        try {
          await deadLetters.write(message, `delivery failed after ${attempt} attempt(s): ${result.error}`);
        } catch (error) {
          throw new RetriableError(`dead-letter write failed: ${(error as Error).message}`, { cause: error });
        }
        metrics.deadLettered(channelType);
      }
      await deliveries.record({
        deliveryId: final ? job.deliveryId : attemptDeliveryId(job.deliveryId, attempt),
        alertId: job.alert.id,
        otherAlertIds,
        channelId: channel.id,
        attempt,
        status: result.ok ? "succeeded" : final ? "failed" : "retrying",
        responseCode: result.responseCode,
        error: result.ok ? (result.note ?? null) : result.error,
        latencyMs,
      });
      if (result.ok) {
        metrics.job(channelType, "succeeded");
        log.info({ attempt, responseCode: result.responseCode, latencyMs }, "notification delivered");
        return;
      }
      if (final) {
        metrics.job(channelType, "failed");
        log.warn(
          { attempt, responseCode: result.responseCode, error: result.error, retriable: result.retriable },
          "delivery failed; job sent to the DLQ",
        );
        return;
      }
      const waitMs = retryDelayMs(attempt, backoff, result.retryAfterMs, random);
      log.info(
        { attempt, responseCode: result.responseCode, error: result.error, delayMs: waitMs },
        "delivery attempt failed; retrying",
      );
      try {
        await sleep(waitMs, signal);
      } catch {
        throw interrupted(signal);
      }
      attempt++;
    }
  }

  return async (messages, context) => {
    const mine = messages.filter((m) => m.value.channel.type === channelType);
    if (mine.length === 0) return;
    const batch = new AbortController();
    const signal = AbortSignal.any([stopSignal, batch.signal]);
    // Backoff waits can outlast the session timeout: keep the group membership alive, and give
    // up the slice (uncommitted) when the group is rebalancing, since kafkajs can only rejoin
    // once the handler returns.
    const ticker = setInterval(() => {
      context.heartbeat().catch((error: unknown) => batch.abort(error));
    }, heartbeatIntervalMs);
    try {
      const results = await settleAll(byKey(mine), concurrency, async (group) => {
        for (const message of group) await deliver(message, signal, context.logger);
      });
      if (signal.aborted) throw interrupted(signal);
      const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failure) throw asHandlerError(failure.reason);
    } finally {
      clearInterval(ticker);
    }
  };
}
