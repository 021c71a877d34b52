import { IncomingWebhook, type IncomingWebhookDefaultArguments } from "@slack/webhook";
import type { HttpAnswer, HttpClient } from "../delivery/http-client";
import { classifyHttpResponse } from "../domain/attempt-result";
import { renderSlack } from "../domain/render-slack";
import { type ChannelSender, requestFailure } from "./sender";

type FetchFunction = NonNullable<IncomingWebhookDefaultArguments["fetch"]>;
type FetchResponse = Awaited<ReturnType<FetchFunction>>;

/** @slack/webhook's fetch seam over our policy-checked client, so Slack URLs obey it too. */
function toFetchResponse(url: string, answer: HttpAnswer): FetchResponse {
  const headers = new Map(Object.entries(answer.headers));
  return {
    ok: answer.status >= 200 && answer.status < 300,
    status: answer.status,
    statusText: "",
    url,
    headers: {
      get: (name: string) => headers.get(name.toLowerCase()) ?? null,
      entries: () => headers.entries(),
    },
    arrayBuffer: async () => {
      const bytes = Buffer.from(answer.body, "utf8");
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
    json: async () => JSON.parse(answer.body) as unknown,
    text: async () => answer.body,
  };
}

/**
 * Slack channel: posts Block Kit blocks (header with the severity, the alert's facts, a link; for
 * a grouped notification, one row per alert) with @slack/webhook's IncomingWebhook. Its own
 * retries are off: ours honour Retry-After and record every attempt.
 */
export function createSlackSender({
  http,
  publicUrl,
  clock = () => new Date(),
}: {
  http: HttpClient;
  publicUrl: string;
  clock?: () => Date;
}): ChannelSender {
  return {
    async send({ job, signal }) {
      // The answer is kept here because IncomingWebhook's errors drop the response headers
      // (Retry-After) that the retry needs.
      let answer: HttpAnswer | undefined;
      const webhook = new IncomingWebhook(job.target, {
        retryConfig: { retries: 0 },
        fetch: async (url, init) => {
          answer = await http.post(String(url), {
            headers: init?.headers ?? {},
            body: typeof init?.body === "string" ? init.body : "",
            signal,
          });
          return toFetchResponse(String(url), answer);
        },
      });
      const message = renderSlack({ reason: job.reason, alert: job.alert, others: job.others, publicUrl });
      try {
        await webhook.send({ text: message.text, blocks: message.blocks as never });
      } catch (error) {
        if (!answer) return requestFailure(error);
      }
      if (!answer) return { ok: false, retriable: true, responseCode: null, error: "no answer from Slack" };
      return classifyHttpResponse(answer.status, answer.headers["retry-after"], answer.body, clock());
    },
  };
}
