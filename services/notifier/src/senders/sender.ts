import type { NotificationJob } from "@apimon/events";
import { TargetRefusedError } from "../delivery/http-client";
import type { AttemptResult } from "../domain/attempt-result";

export type ChannelType = NotificationJob["channel"]["type"];
export const CHANNEL_TYPES: readonly ChannelType[] = ["email", "slack", "webhook"];

/** What the notifier knows of a channel besides the job: read from notification_channels. */
export interface ChannelInfo {
  id: number;
  type: ChannelType;
  enabled: boolean;
  /** Webhook signing secret; never logged. */
  secret: string | null;
}

export interface DeliveryRequest {
  job: NotificationJob;
  channel: ChannelInfo;
  /** Aborted when the notifier stops or loses the partition: the attempt is then not recorded. */
  signal: AbortSignal;
}

/** Delivers one attempt over one channel type. Returns the outcome; throws only on abort. */
export interface ChannelSender {
  send(request: DeliveryRequest): Promise<AttemptResult>;
}

/** The message of a failed request, without stack, for the delivery row (no URL: it may hold a token). */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return [...new Set(error.errors.map((e) => describeError(e)))].join("; ");
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const message = error.message || error.name;
    return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return String(error);
}

/** A request that got no HTTP answer: refused by policy (permanent) or a network failure (retriable). */
export function requestFailure(error: unknown): AttemptResult {
  let cause: unknown = error;
  for (let depth = 0; cause && depth < 5; depth++) {
    if (cause instanceof TargetRefusedError) {
      return { ok: false, retriable: false, responseCode: null, error: cause.message };
    }
    cause =
      (cause as { cause?: unknown; original?: unknown }).original ?? (cause as { cause?: unknown }).cause;
  }
  return { ok: false, retriable: true, responseCode: null, error: describeError(error) };
}
