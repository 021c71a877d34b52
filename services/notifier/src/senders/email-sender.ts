import { createTransport, type Transporter } from "nodemailer";
import { renderEmail } from "../domain/render-email";
import { type ChannelSender, describeError } from "./sender";

/** The part of a nodemailer transport the sender uses (a seam for unit tests). */
export type MailTransport = Pick<Transporter, "sendMail">;

/** A pooled SMTP transport whose connection, greeting and socket waits all end after `timeoutMs`. */
export function createSmtpTransport(url: string, timeoutMs: number): Transporter {
  return createTransport({
    url,
    pool: true,
    maxConnections: 4,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
}

/** Splits a channel's comma-separated address list. */
export function recipients(target: string): string[] {
  return target
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function replyCode(response: unknown): number | null {
  const match = typeof response === "string" ? /^(\d{3})\b/.exec(response) : null;
  return match ? Number(match[1]) : null;
}

/**
 * Email channel: one message to the channel's address list over SMTP (nodemailer, SMTP_URL), with
 * text and HTML bodies. SMTP 5xx refusals are permanent, 4xx and connection failures retriable;
 * the delivery row's response_code is the SMTP reply code.
 */
export function createEmailSender({
  transport,
  from,
  publicUrl,
}: {
  transport: MailTransport;
  from: string;
  publicUrl: string;
}): ChannelSender {
  return {
    async send({ job, signal }) {
      const to = recipients(job.target);
      if (to.length === 0)
        return { ok: false, retriable: false, responseCode: null, error: "no recipient address" };
      const content = renderEmail({ reason: job.reason, alert: job.alert, others: job.others, publicUrl });
      try {
        const info = await transport.sendMail({
          from,
          to,
          subject: content.subject,
          text: content.text,
          html: content.html,
          headers: { "X-Apimon-Delivery-Id": job.deliveryId },
          signal,
        });
        const rejected = (info.rejected ?? []).map(String);
        const accepted = (info.accepted ?? []).map(String);
        const code = replyCode(info.response);
        if (accepted.length === 0) {
          return {
            ok: false,
            retriable: false,
            responseCode: code,
            error: `every recipient refused: ${rejected.join(", ")}`,
          };
        }
        return rejected.length > 0
          ? { ok: true, responseCode: code, note: `refused recipients: ${rejected.join(", ")}` }
          : { ok: true, responseCode: code };
      } catch (error) {
        const { responseCode, permanent } = error as { responseCode?: unknown; permanent?: unknown };
        return {
          ok: false,
          retriable: permanent !== true,
          responseCode: typeof responseCode === "number" ? responseCode : null,
          error: describeError(error),
        };
      }
    },
  };
}
