import type { Decision, Limits } from "../domain/rate-limit";

/** Milliseconds since the epoch; injected so that tests move time and every edge agrees. */
export type Clock = () => number;

/** Decides one request of one API key and, when allowed, counts it in every window. */
export interface Limiter {
  check(apiKeyId: string, limits: Limits): Promise<Decision>;
}
