import type { HttpClient } from "../delivery/http-client";
import { classifyHttpResponse } from "../domain/attempt-result";
import { signWebhook } from "../domain/signature";
import { type ChannelSender, requestFailure } from "./sender";

/**
 * Webhook channel: a JSON POST of `{deliveryId, reason, alert, alertUrl?, others?, sentAt}` with
 * X-Delivery-Id (the job's deliveryId, the same on every retry), X-Timestamp (unix seconds) and,
 * when the channel has a secret, X-Signature = `sha256=` + hex HMAC-SHA-256(secret, `${timestamp}.${body}`).
 * `others`, as the job carries it, lists the alerts of the same type and endpoint told of in the
 * same notification as `alert` (each with its own alertUrl); absent, the notification is about
 * `alert` alone.
 */
export function createWebhookSender({
  http,
  clock = () => new Date(),
}: {
  http: HttpClient;
  clock?: () => Date;
}): ChannelSender {
  return {
    async send({ job, channel, signal }) {
      const sentAt = clock();
      const timestamp = Math.floor(sentAt.getTime() / 1000);
      const body = JSON.stringify({
        deliveryId: job.deliveryId,
        reason: job.reason,
        alert: job.alert,
        // The alert's console page, as the alerts service named it.
        ...(job.alertUrl !== undefined && { alertUrl: job.alertUrl }),
        // The alerts told of with `alert` in the same message, each with its own alertUrl.
        ...(job.others !== undefined && { others: job.others }),
        sentAt: sentAt.toISOString(),
      });
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-delivery-id": job.deliveryId,
        "x-timestamp": String(timestamp),
      };
      if (channel.secret) headers["x-signature"] = signWebhook(channel.secret, timestamp, body);
      try {
        const answer = await http.post(job.target, { headers, body, signal });
        return classifyHttpResponse(answer.status, answer.headers["retry-after"], answer.body, clock());
      } catch (error) {
        return requestFailure(error);
      }
    },
  };
}
