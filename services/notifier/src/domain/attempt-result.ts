import { parseRetryAfter } from "./backoff";

/** What one delivery attempt came to. Senders return it; they do not throw for a failed delivery. */
export type AttemptResult =
  | {
      ok: true;
      /** HTTP status, or the SMTP reply code of the accepted message. */
      responseCode: number | null;
      /** Something worth keeping in the delivery row although it went through. */
      note?: string;
    }
  | {
      ok: false;
      /** Whether the same attempt may succeed later (5xx, 429, timeouts, refused connections). */
      retriable: boolean;
      responseCode: number | null;
      error: string;
      /** The receiver's Retry-After, in milliseconds. */
      retryAfterMs?: number;
    };

/** Statuses after which trying again may work; any other non-2xx is a permanent refusal. */
const RETRIABLE_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Longest receiver body kept in an error. */
const MAX_BODY_IN_ERROR = 200;

function snippet(body: string): string {
  const oneLine = body.replace(/\s+/g, " ").trim();
  return oneLine.length > MAX_BODY_IN_ERROR ? `${oneLine.slice(0, MAX_BODY_IN_ERROR)}…` : oneLine;
}

/**
 * Classifies an HTTP answer: 2xx delivered; 429, 408, 425 and 5xx (but 501 and 505, which will
 * not change) retriable, with Retry-After honoured; every other status (3xx included: redirects
 * are not followed, a moved webhook is a configuration error) is permanent.
 */
export function classifyHttpResponse(
  status: number,
  retryAfter: string | null | undefined,
  body: string,
  now: Date,
): AttemptResult {
  if (status >= 200 && status < 300) return { ok: true, responseCode: status };
  const text = snippet(body);
  const error = `HTTP ${status}${text ? `: ${text}` : ""}`;
  const retriable = RETRIABLE_STATUSES.has(status) || (status >= 500 && status !== 501 && status !== 505);
  if (!retriable) return { ok: false, retriable: false, responseCode: status, error };
  const retryAfterMs = parseRetryAfter(retryAfter, now);
  return {
    ok: false,
    retriable: true,
    responseCode: status,
    error,
    ...(retryAfterMs !== undefined && { retryAfterMs }),
  };
}
