import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

// Sessions are stateless signed cookies: `<payload>.<mac>`, the payload holding a random session
// id and the expiry. The CSRF token is a MAC of the session id, so it needs no storage either and
// is worthless without the cookie it belongs to. Signed-out ids are remembered until they expire,
// so a copied cookie stops working at sign-out (one console process; a restart forgets them, but
// the expiry still holds).

export const SESSION_COOKIE = "apimon_session";

export interface Session {
  id: string;
  expiresAt: number;
}

export interface SessionManager {
  /** A new session and its cookie value. */
  create(): { session: Session; cookie: string };
  /** The session of a cookie value, or null when it is missing, forged, expired or signed out. */
  read(cookie: string | undefined): Session | null;
  /** The CSRF token that forms of this session carry. */
  csrfToken(session: Session): string;
  csrfMatches(session: Session, presented: string | undefined): boolean;
  revoke(session: Session): void;
}

const b64 = (buf: Buffer | string) => Buffer.from(buf).toString("base64url");

/** The session secret: the configured one, or one derived from the admin token (a new token ends every session). */
export function sessionSecret(configured: string | undefined, adminToken: string): string {
  return configured ?? createHmac("sha256", adminToken).update("apimon console sessions").digest("hex");
}

export function createSessionManager({
  secret,
  ttlSeconds,
  now = () => Date.now(),
}: {
  secret: string;
  ttlSeconds: number;
  now?: () => number;
}): SessionManager {
  const mac = (purpose: string, value: string) =>
    createHmac("sha256", secret).update(`${purpose}:${value}`).digest();
  const revoked = new Map<string, number>();
  const equal = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

  return {
    create() {
      const session = { id: b64(randomBytes(18)), expiresAt: now() + ttlSeconds * 1000 };
      const payload = b64(JSON.stringify({ sid: session.id, exp: session.expiresAt }));
      return { session, cookie: `${payload}.${b64(mac("session", payload))}` };
    },
    read(cookie) {
      if (!cookie) return null;
      const [payload, signature, extra] = cookie.split(".");
      if (!payload || !signature || extra !== undefined) return null;
      if (!equal(Buffer.from(signature, "base64url"), mac("session", payload))) return null;
      let parsed: { sid?: unknown; exp?: unknown };
      try {
        parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
      } catch {
        return null;
      }
      if (typeof parsed.sid !== "string" || typeof parsed.exp !== "number") return null;
      if (parsed.exp <= now() || revoked.has(parsed.sid)) return null;
      return { id: parsed.sid, expiresAt: parsed.exp };
    },
    csrfToken: (session) => b64(mac("csrf", session.id)),
    csrfMatches(session, presented) {
      if (!presented) return false;
      return equal(Buffer.from(presented, "base64url"), mac("csrf", session.id));
    },
    revoke(session) {
      const t = now();
      for (const [id, exp] of revoked) if (exp <= t) revoked.delete(id);
      revoked.set(session.id, session.expiresAt);
    },
  };
}
