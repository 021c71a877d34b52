import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./app";

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

/** Admits only requests carrying `Authorization: Bearer <adminToken>`; others get 401 `Not authenticated`. */
export function requireAdminToken(adminToken: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    if (token === undefined || !tokenMatches(adminToken, token)) {
      return c.json({ detail: "Not authenticated" }, 401, { "WWW-Authenticate": "Bearer" });
    }
    return next();
  };
}
