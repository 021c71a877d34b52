import { createHash, timingSafeEqual } from "node:crypto";
import { clientSource } from "@apimon/events";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./app";
import { clientAddress } from "./client-address";
import { createGuessLimit, type GuessLimit, tooManyGuessesDetail } from "./guess-limit";

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/**
 * Compares a presented token with the expected one in constant time. Both are hashed first so
 * that the comparison always runs over 32 bytes: neither the content nor the length leaks.
 */
export function tokenMatches(expected: string, presented: string): boolean {
  return timingSafeEqual(digest(expected), digest(presented));
}

/** The token of an `Authorization: Bearer <token>` header, or undefined for any other shape. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
  return match?.[1];
}

/**
 * Admits only requests carrying `Authorization: Bearer <adminToken>`; others get 401 `Not
 * authenticated`. A client source that presented `guesses`' share of wrong tokens this minute gets
 * 429 with Retry-After, whatever it presents, until the minute ends. A request without a token
 * (a probe, a misconfigured client) does not count.
 */
export function requireAdminToken(
  adminToken: string,
  {
    guesses = createGuessLimit(),
    trustedProxyHops = 0,
    now = Date.now,
  }: {
    guesses?: GuessLimit;
    /** Proxies of yours in front: the client is then the one the outermost saw. */
    trustedProxyHops?: number;
    now?: () => number;
  } = {},
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const address = clientAddress(c, trustedProxyHops);
    const wait = guesses.retryAfterSeconds(address, now());
    if (wait > 0) {
      return c.json({ detail: tooManyGuessesDetail(wait) }, 429, { "Retry-After": String(wait) });
    }
    const token = bearerToken(c.req.header("authorization"));
    if (token === undefined || !tokenMatches(adminToken, token)) {
      if (token !== undefined && guesses.failed(address, now())) {
        c.get("logger").warn(
          { clientIp: address === undefined ? null : clientSource(address) },
          "wrong admin tokens: this client's attempts are used up until the minute ends",
        );
      }
      return c.json({ detail: "Not authenticated" }, 401, { "WWW-Authenticate": "Bearer" });
    }
    return next();
  };
}
