import { createHash, timingSafeEqual } from "node:crypto";
import type { OperatorRole } from "@apimon/config";
import { clientSource } from "@apimon/events";
import type { Context, MiddlewareHandler } from "hono";
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

/** An operator: someone with a token of their own (see the operators API of the keys service). */
export interface Operator {
  id: number;
  name: string;
  role: OperatorRole;
}

/** Finds the operator a token belongs to: null for a token that is no operator's, or revoked. */
export interface OperatorDirectory {
  find(token: string): Promise<Operator | null>;
}

/** Whether the request carries a viewer's token: answers may hold nothing a viewer should not. */
export function readsOnly(c: Context<AppEnv>): boolean {
  return c.get("operator")?.role === "viewer";
}

/** The methods a viewer's token may use. */
const READS = new Set(["GET", "HEAD"]);

/**
 * Admits only requests carrying `Authorization: Bearer <token>` where the token is the admin
 * token or an operator's (when `operators` is given); others get 401 `Not authenticated`. A
 * viewer's token gets 403 for anything but a read. The caller is kept as the request's
 * `operator`: the operator, or null for the admin token.
 *
 * A client source that presented `guesses`' share of wrong tokens this minute gets 429 with
 * Retry-After, whatever it presents, until the minute ends. A request without a token (a probe,
 * a misconfigured client) does not count.
 */
export function requireAdminToken(
  adminToken: string,
  {
    operators,
    guesses = createGuessLimit(),
    trustedProxyHops = 0,
    now = Date.now,
  }: {
    operators?: OperatorDirectory;
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
    const operator =
      token === undefined || tokenMatches(adminToken, token)
        ? null
        : ((await operators?.find(token)) ?? undefined);
    if (token === undefined || operator === undefined) {
      if (token !== undefined && guesses.failed(address, now())) {
        c.get("logger").warn(
          { clientIp: address === undefined ? null : clientSource(address) },
          "wrong admin tokens: this client's attempts are used up until the minute ends",
        );
      }
      return c.json({ detail: "Not authenticated" }, 401, { "WWW-Authenticate": "Bearer" });
    }
    if (operator !== null && operator.role === "viewer" && !READS.has(c.req.method)) {
      return c.json(
        { detail: `Operator "${operator.name}" is a viewer: its token may read, not change anything` },
        403,
      );
    }
    c.set("operator", operator);
    // The service's log lines of this request name the operator, as its audit row does.
    if (operator !== null) c.set("logger", c.get("logger").child({ operatorId: operator.id }));
    return next();
  };
}
