import { ApiError } from "@apimon/client";
import { OPERATOR_TOKEN_PREFIX } from "@apimon/config";
import { type AppEnv, clientAddress, type GuessLimit, tooManyGuessesDetail } from "@apimon/http";
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { html } from "hono/html";
import { SESSION_COOKIE, type SessionManager, type SessionOperator } from "../session";
import { errorBox, page, warningBox } from "../views/layout";

export interface AuthDeps {
  sessions: SessionManager;
  /**
   * Whose token this is, as the keys API answers when called with it: the operator, or null for
   * the admin token; undefined when the API refuses it (wrong, or revoked). Throws when the keys
   * API cannot answer.
   */
  identify: (token: string) => Promise<{ operator: SessionOperator | null } | undefined>;
  /** Whether the token is the admin token (compared in constant time). */
  isAdminToken: (token: string) => boolean;
  /** Wrong tokens per client source and minute; past it sign-in is refused until the minute ends. */
  guesses: GuessLimit;
  /**
   * Wrong tokens passed on to the keys API per minute, every browser together. The keys API counts
   * them against the console's own address, and past its limit would refuse every page's calls
   * for the rest of the minute; this stops short of that, refusing only operators' sign-ins.
   */
  relayedGuesses: GuessLimit;
  /** Proxies of yours in front of the console: the client is then the one the outermost saw. */
  trustedProxyHops: number;
  now?: () => number;
  ttlSeconds: number;
  secureCookie: boolean;
}

/** The source `relayedGuesses` counts: the console itself, for every browser. */
const THIS_CONSOLE = "console";

/** Why a session ended, as `/sign-in?ended=…` names it; anything else says nothing. */
export const SESSION_ENDINGS = {
  token: "Your token no longer works; it may have been revoked. Sign in again.",
} as const;

/** Only a local path: `/alerts?x=1`, never `//host` or `https://…` (no open redirect). */
export function safeNext(next: string | undefined): string {
  return next && /^\/(?![/\\])/.test(next) ? next : "/alerts";
}

const WRONG_TOKEN = "That is not the admin token or a working operator token.";

/** The sign-in page; `warning` says why the last session ended. */
function signInPage(next: string, { error, warning }: { error?: string; warning?: string } = {}) {
  return page(
    { title: "Sign in" },
    html`<div class="signin card">
<h1>apimon console</h1>
${warningBox(warning)}
${errorBox(error)}
<form method="post" action="/sign-in">
  <input type="hidden" name="next" value="${next}">
  <div class="field"><label for="token">Token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus></div>
  <button type="submit">Sign in</button>
</form>
<p class="muted small">The stack's <code>ADMIN_TOKEN</code>, or an operator's token (<code>apimon_op_…</code>). It stays on the server, encrypted in your session; the browser gets a session cookie.</p>
</div>`,
  );
}

/** Sign-in (the admin token or an operator's → session cookie holding it) and sign-out. */
export function createAuthRoutes({
  sessions,
  identify,
  isAdminToken,
  guesses,
  relayedGuesses,
  trustedProxyHops,
  now = Date.now,
  ttlSeconds,
  secureCookie,
}: AuthDeps): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  routes.get("/sign-in", (c) => {
    const next = safeNext(c.req.query("next"));
    if (sessions.read(getCookie(c, SESSION_COOKIE))) return c.redirect(next, 303);
    const ended = c.req.query("ended") ?? "";
    const warning = Object.hasOwn(SESSION_ENDINGS, ended)
      ? SESSION_ENDINGS[ended as keyof typeof SESSION_ENDINGS]
      : undefined;
    return c.html(signInPage(next, { warning }));
  });

  routes.post("/sign-in", async (c) => {
    // No session yet, so no CSRF token: a cross-site form post is refused by its origin instead.
    const site = c.req.header("sec-fetch-site");
    const origin = c.req.header("origin");
    if (
      (site && site !== "same-origin" && site !== "none") ||
      (origin && origin !== new URL(c.req.url).origin)
    ) {
      return c.html(signInPage("/alerts", { error: "Sign in from the console's own page." }), 403);
    }
    const form = await c.req.parseBody();
    const next = safeNext(typeof form.next === "string" ? form.next : undefined);
    const address = clientAddress(c, trustedProxyHops);
    const wait = guesses.retryAfterSeconds(address, now());
    if (wait > 0) {
      c.header("Retry-After", String(wait));
      return c.html(signInPage(next, { error: `${tooManyGuessesDetail(wait)}.` }), 429);
    }
    const token = typeof form.token === "string" ? form.token.trim() : "";
    if (!token) return c.html(signInPage(next, { error: WRONG_TOKEN }), 401);
    /** A wrong token, counted for the browser's source and, when the keys API saw it, for the console. */
    const refuse = (relayed: boolean) => {
      guesses.failed(address, now());
      if (relayed) relayedGuesses.failed(THIS_CONSOLE, now());
      c.get("logger").warn("console sign-in refused: a wrong or revoked token");
      return c.html(signInPage(next, { error: WRONG_TOKEN }), 401);
    };
    const admin = isAdminToken(token);
    // A token that is neither the admin token nor shaped as an operator's is refused here, without
    // spending the keys API's patience with the console on it.
    if (!admin && !token.startsWith(OPERATOR_TOKEN_PREFIX)) return refuse(false);
    // The admin token is never held back: the console's own limit above still bounds its guesses.
    const relayWait = admin ? 0 : relayedGuesses.retryAfterSeconds(THIS_CONSOLE, now());
    if (relayWait > 0) {
      c.get("logger").warn("console sign-in refused: too many wrong tokens at this console this minute");
      c.header("Retry-After", String(relayWait));
      return c.html(
        signInPage(next, {
          error: `Too many wrong tokens were tried at this console. Try again in ${relayWait} seconds.`,
        }),
        429,
      );
    }
    let caller: Awaited<ReturnType<AuthDeps["identify"]>>;
    try {
      caller = await identify(token);
    } catch (err) {
      const reason = err instanceof ApiError ? err.message : String((err as Error)?.message ?? err);
      c.get("logger").error({ reason }, "console sign-in failed: the keys service did not answer");
      return c.html(
        signInPage(next, {
          error: `The token cannot be checked now: ${reason}. Try again in a moment.`,
        }),
        502,
      );
    }
    if (caller === undefined) return refuse(!admin);
    const { cookie } = sessions.create({ token, operator: caller.operator });
    setCookie(c, SESSION_COOKIE, cookie, {
      httpOnly: true,
      sameSite: "Strict",
      secure: secureCookie,
      path: "/",
      maxAge: ttlSeconds,
    });
    c.get("logger").info(
      { operatorId: caller.operator?.id ?? null, role: caller.operator?.role ?? "admin" },
      "console sign-in",
    );
    return c.redirect(next, 303);
  });

  routes.post("/sign-out", async (c) => {
    const session = sessions.read(getCookie(c, SESSION_COOKIE));
    if (session) {
      const form = await c.req.parseBody();
      if (!sessions.csrfMatches(session, typeof form._csrf === "string" ? form._csrf : undefined)) {
        return c.html(
          signInPage("/alerts", { error: "The sign-out form was stale; reload and try again." }),
          403,
        );
      }
      sessions.revoke(session);
    }
    deleteCookie(c, SESSION_COOKIE, { path: "/", secure: secureCookie });
    return c.redirect("/sign-in", 303);
  });

  return routes;
}
