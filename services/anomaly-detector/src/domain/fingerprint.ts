import { createHash } from "node:crypto";
import type { AlertSignal } from "@apimon/events";

export type AlertType = AlertSignal["type"];

/** The longest fingerprint the signal contract takes. */
export const MAX_FINGERPRINT_LENGTH = 256;

export interface FingerprintScope {
  apiKeyId?: number;
  /** Method and normalised route, e.g. `GET /users/:id`. */
  endpoint?: string;
  clientIp?: string;
  /** Rate-limit window name (minute, hour, day). */
  window?: string;
}

/**
 * A stable, readable fingerprint: the type, then each scope part that applies, in a fixed order:
 *
 *   response_time:key=7:endpoint=GET /users/:id
 *   error_rate:key=7:endpoint=POST /orders
 *   usage_spike:key=7
 *   unauthorized_access:ip=203.0.113.9
 *   unauthorized_access:key=7
 *   rate_limit_approaching:key=7:window=minute
 *
 * The same condition on the same scope always gets the same fingerprint, so the alerts service
 * keeps one alert per fingerprint. One longer than the contract allows (a very long route) keeps
 * its readable head and ends in `#` plus 16 hex digits of the full text's SHA-256.
 */
export function fingerprint(type: AlertType, scope: FingerprintScope): string {
  let text: string = type;
  if (scope.apiKeyId !== undefined) text += `:key=${scope.apiKeyId}`;
  if (scope.endpoint !== undefined) text += `:endpoint=${scope.endpoint}`;
  if (scope.clientIp !== undefined) text += `:ip=${scope.clientIp}`;
  if (scope.window !== undefined) text += `:window=${scope.window}`;
  if (text.length <= MAX_FINGERPRINT_LENGTH) return text;
  const digest = createHash("sha256").update(text).digest("hex").slice(0, 16);
  return `${text.slice(0, MAX_FINGERPRINT_LENGTH - 17)}#${digest}`;
}
