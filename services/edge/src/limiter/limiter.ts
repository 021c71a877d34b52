import type { Decision, Limits } from "../domain/rate-limit";

/** Milliseconds since the epoch; injected so that tests move time and every edge agrees. */
export type Clock = () => number;

export interface CheckOptions {
  /**
   * False: decide as for any request but count nothing, for a request the edge refuses for
   * another reason (the in-flight cap) that still answers with the windows. Default true.
   */
  count?: boolean;
}

/** Decides one request of one API key and, when allowed, counts it in every window. */
export interface Limiter {
  check(apiKeyId: string, limits: Limits, options?: CheckOptions): Promise<Decision>;
}
