import { createHmac } from "node:crypto";
import { createSessionManager, type SessionManager } from "./session";

// Sessions are stateless cookies: what one holds, and every way a cookie that was not made by this
// console for this session is refused.

const SECRET = "s".repeat(40);
const TOKEN = "apimon_op_alice-viewer-token-0123456789";
const ALICE = { id: 3, name: "alice", role: "viewer" } as const;

const b64 = (value: string) => Buffer.from(value).toString("base64url");
const payloadOf = (cookie: string) =>
  JSON.parse(Buffer.from(cookie.split(".")[0] as string, "base64url").toString("utf8"));
/** A cookie signed as the console signs them, whatever its payload. */
const signed = (payload: unknown, secret = SECRET) => {
  const body = b64(JSON.stringify(payload));
  return `${body}.${createHmac("sha256", secret).update(`session:${body}`).digest("base64url")}`;
};

describe("console sessions", () => {
  let time = Date.parse("2026-12-03T12:00:00.000Z");
  let sessions: SessionManager;
  beforeEach(() => {
    time = Date.parse("2026-12-03T12:00:00.000Z");
    sessions = createSessionManager({ secret: SECRET, ttlSeconds: 3600, now: () => time });
  });

  it("reads back who signed in and their token from the cookie, the token encrypted in it", () => {
    const { session, cookie } = sessions.create({ token: TOKEN, operator: ALICE });
    expect(sessions.read(cookie)).toEqual({
      id: session.id,
      expiresAt: time + 3_600_000,
      token: TOKEN,
      operator: ALICE,
    });
    const admin = sessions.create({ token: "the-admin-token-0123456789", operator: null });
    expect(sessions.read(admin.cookie)).toMatchObject({
      token: "the-admin-token-0123456789",
      operator: null,
    });

    // The cookie shows who, not the token: neither in it nor in its decoded payload.
    const payload = payloadOf(cookie);
    expect(payload).toEqual({ sid: session.id, exp: time + 3_600_000, op: ALICE, tok: expect.any(String) });
    expect(cookie).not.toContain(TOKEN);
    expect(Buffer.from(payload.tok, "base64url").toString("latin1")).not.toContain("alice-viewer");
    // A fresh IV each time: the same token never encrypts to the same bytes.
    expect(payloadOf(sessions.create({ token: TOKEN, operator: ALICE }).cookie).tok).not.toBe(payload.tok);
  });

  it("refuses a cookie whose payload or signature was changed, or that another secret signed", () => {
    const { cookie } = sessions.create({ token: TOKEN, operator: ALICE });
    const [payload, mac] = cookie.split(".") as [string, string];
    const promoted = b64(JSON.stringify({ ...payloadOf(cookie), op: { ...ALICE, role: "admin" } }));
    expect(sessions.read(`${promoted}.${mac}`)).toBeNull();
    expect(sessions.read(`${payload}.${mac.slice(0, -2)}AA`)).toBeNull();
    expect(sessions.read(`${payload}.${mac}.x`)).toBeNull();
    expect(sessions.read(payload)).toBeNull();
    const foreign = createSessionManager({ secret: "f".repeat(40), ttlSeconds: 3600, now: () => time });
    expect(foreign.read(cookie)).toBeNull();
    expect(sessions.read(foreign.create({ token: TOKEN, operator: ALICE }).cookie)).toBeNull();
  });

  it("refuses a token sealed for another session or altered, even in a cookie signed with the secret", () => {
    const one = payloadOf(sessions.create({ token: TOKEN, operator: ALICE }).cookie);
    const other = payloadOf(
      sessions.create({ token: "apimon_op_bob-admin-0123456789", operator: null }).cookie,
    );
    // The ciphertext opens only in the session it was sealed for.
    expect(sessions.read(signed({ ...other, tok: one.tok }))).toBeNull();
    const bytes = Buffer.from(one.tok, "base64url");
    bytes[14] = (bytes[14] as number) ^ 1;
    expect(sessions.read(signed({ ...one, tok: bytes.toString("base64url") }))).toBeNull();
    expect(sessions.read(signed({ ...one, tok: "" }))).toBeNull();
    expect(sessions.read(signed({ ...one, op: { id: 3, name: "alice", role: "owner" } }))).toBeNull();
    // As made, it is read.
    expect(sessions.read(signed(one))).toMatchObject({ token: TOKEN, operator: ALICE });
  });

  it("reads a cookie made before sessions held a token as signed out", () => {
    const old = signed({ sid: "c2Vzc2lvbi1pZC0xMjM0NTY3OA", exp: time + 3_600_000 });
    expect(sessions.read(old)).toBeNull();
  });

  it("ends a session at its expiry and at sign-out, and gives each session its own CSRF token", () => {
    const { session, cookie } = sessions.create({ token: TOKEN, operator: ALICE });
    const other = sessions.create({ token: TOKEN, operator: ALICE });
    const csrf = sessions.csrfToken(session);
    expect(sessions.csrfMatches(session, csrf)).toBe(true);
    expect(sessions.csrfMatches(other.session, csrf)).toBe(false);
    expect(sessions.csrfMatches(session, undefined)).toBe(false);

    sessions.revoke(session);
    expect(sessions.read(cookie)).toBeNull();
    expect(sessions.read(other.cookie)).not.toBeNull();
    time += 3_600_000;
    expect(sessions.read(other.cookie)).toBeNull();
  });
});
