import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";
import { type OperatorRole, operatorRoles } from "@apimon/config";

// Sessions are stateless signed cookies: `<payload>.<mac>`, the payload holding a random session
// id, the expiry, who signed in, and the token the console calls the APIs with for them. The
// token is encrypted (AES-256-GCM under a key of its own, derived from the secret), so that the
// cookie never shows it: a browser's cookie store, a proxy's log or a screenshot of the developer
// tools then hold only ciphertext. The CSRF token is a MAC of the session id, so it needs no
// storage either and is worthless without the cookie it belongs to. Signed-out ids are remembered
// until they expire, so a copied cookie stops working at sign-out (one console process; a restart
// forgets them, but the expiry still holds).

export const SESSION_COOKIE = "apimon_session";

/** An operator as a session shows them. */
export interface SessionOperator {
  id: number;
  name: string;
  role: OperatorRole;
}

/** Who signed in: the token the APIs took, and whose it is. */
export interface SignIn {
  /** The admin token or an operator's: every API call of the session's pages carries it. Never log it. */
  token: string;
  /** The operator whose token it is, or null for the admin token. */
  operator: SessionOperator | null;
}

export interface Session extends SignIn {
  id: string;
  expiresAt: number;
}

export interface SessionManager {
  /** A new session for who signed in, and its cookie value. */
  create(signIn: SignIn): { session: Session; cookie: string };
  /**
   * The session of a cookie value, or null when it is missing, forged, expired, signed out, or
   * holds no token (a cookie made before sessions held one).
   */
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

/** GCM's nonce and tag sizes, in bytes. */
const IV_BYTES = 12;
const TAG_BYTES = 16;

const isOperator = (value: unknown): value is SessionOperator => {
  const op = value as Partial<SessionOperator> | null;
  return (
    typeof op === "object" &&
    op !== null &&
    Number.isSafeInteger(op.id) &&
    typeof op.name === "string" &&
    (operatorRoles as readonly unknown[]).includes(op.role)
  );
};

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
  // A key of its own for the token, under a label no MAC uses: the cookie's MAC and the token's
  // encryption never share a key.
  const tokenKey = Buffer.from(hkdfSync("sha256", secret, "", "apimon console session token", 32));
  const revoked = new Map<string, number>();
  const equal = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

  // The session id is the additional data: the ciphertext opens only in its own session.
  const seal = (sessionId: string, token: string) => {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", tokenKey, iv);
    cipher.setAAD(Buffer.from(sessionId));
    const sealed = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
    return b64(Buffer.concat([iv, sealed, cipher.getAuthTag()]));
  };
  const open = (sessionId: string, text: string): string | null => {
    const bytes = Buffer.from(text, "base64url");
    if (bytes.length <= IV_BYTES + TAG_BYTES) return null;
    try {
      const decipher = createDecipheriv("aes-256-gcm", tokenKey, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(sessionId));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return plain.toString("utf8");
    } catch {
      return null;
    }
  };

  return {
    create({ token, operator }) {
      const session: Session = {
        id: b64(randomBytes(18)),
        expiresAt: now() + ttlSeconds * 1000,
        token,
        operator,
      };
      const payload = b64(
        JSON.stringify({
          sid: session.id,
          exp: session.expiresAt,
          op: operator,
          tok: seal(session.id, token),
        }),
      );
      return { session, cookie: `${payload}.${b64(mac("session", payload))}` };
    },
    read(cookie) {
      if (!cookie) return null;
      const [payload, signature, extra] = cookie.split(".");
      if (!payload || !signature || extra !== undefined) return null;
      if (!equal(Buffer.from(signature, "base64url"), mac("session", payload))) return null;
      let parsed: { sid?: unknown; exp?: unknown; op?: unknown; tok?: unknown };
      try {
        parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
      } catch {
        return null;
      }
      if (typeof parsed.sid !== "string" || typeof parsed.exp !== "number") return null;
      if (parsed.exp <= now() || revoked.has(parsed.sid)) return null;
      if (typeof parsed.tok !== "string" || !(parsed.op === null || isOperator(parsed.op))) return null;
      const token = open(parsed.sid, parsed.tok);
      if (token === null) return null;
      const operator = parsed.op && { id: parsed.op.id, name: parsed.op.name, role: parsed.op.role };
      return { id: parsed.sid, expiresAt: parsed.exp, token, operator };
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
