import { type AppEnv, clientAddress, type GuessLimit, tooManyGuessesDetail } from "@apimon/http";
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { html } from "hono/html";
import { SESSION_COOKIE, type SessionManager } from "../session";
import { errorBox, page } from "../views/layout";

export interface AuthDeps {
  sessions: SessionManager;
  verify: (token: string) => boolean;
  /** Wrong tokens per client source and minute; past it sign-in is refused until the minute ends. */
  guesses: GuessLimit;
  /** Proxies of yours in front of the console: the client is then the one the outermost saw. */
  trustedProxyHops: number;
  now?: () => number;
  ttlSeconds: number;
  secureCookie: boolean;
}

/** Only a local path: `/alerts?x=1`, never `//host` or `https://…` (no open redirect). */
export function safeNext(next: string | undefined): string {
  return next && /^\/(?![/\\])/.test(next) ? next : "/alerts";
}

function signInPage(next: string, error?: string) {
  return page(
    { title: "Sign in" },
    html`<div class="signin card">
<h1>apimon console</h1>
${errorBox(error)}
<form method="post" action="/sign-in">
  <input type="hidden" name="next" value="${next}">
  <div class="field"><label for="token">Admin token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus></div>
  <button type="submit">Sign in</button>
</form>
<p class="muted small">The token is the stack's <code>ADMIN_TOKEN</code>. It stays on the server; the browser gets a session cookie.</p>
</div>`,
  );
}

/** Sign-in (admin token → signed session cookie) and sign-out. */
export function createAuthRoutes({
  sessions,
  verify,
  guesses,
  trustedProxyHops,
  now = Date.now,
  ttlSeconds,
  secureCookie,
}: AuthDeps): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  routes.get("/sign-in", (c) => {
    const next = safeNext(c.req.query("next"));
    if (sessions.read(getCookie(c, SESSION_COOKIE))) return c.redirect(next, 303);
    return c.html(signInPage(next));
  });

  routes.post("/sign-in", async (c) => {
    // No session yet, so no CSRF token: a cross-site form post is refused by its origin instead.
    const site = c.req.header("sec-fetch-site");
    const origin = c.req.header("origin");
    if (
      (site && site !== "same-origin" && site !== "none") ||
      (origin && origin !== new URL(c.req.url).origin)
    ) {
      return c.html(signInPage("/alerts", "Sign in from the console's own page."), 403);
    }
    const form = await c.req.parseBody();
    const next = safeNext(typeof form.next === "string" ? form.next : undefined);
    const address = clientAddress(c, trustedProxyHops);
    const wait = guesses.retryAfterSeconds(address, now());
    if (wait > 0) {
      c.header("Retry-After", String(wait));
      return c.html(signInPage(next, `${tooManyGuessesDetail(wait)}.`), 429);
    }
    const token = typeof form.token === "string" ? form.token.trim() : "";
    if (!token || !verify(token)) {
      if (token) guesses.failed(address, now());
      c.get("logger").warn("console sign-in refused: wrong admin token");
      return c.html(signInPage(next, "That is not the admin token."), 401);
    }
    const { cookie } = sessions.create();
    setCookie(c, SESSION_COOKIE, cookie, {
      httpOnly: true,
      sameSite: "Strict",
      secure: secureCookie,
      path: "/",
      maxAge: ttlSeconds,
    });
    c.get("logger").info("console sign-in");
    return c.redirect(next, 303);
  });

  routes.post("/sign-out", async (c) => {
    const session = sessions.read(getCookie(c, SESSION_COOKIE));
    if (session) {
      const form = await c.req.parseBody();
      if (!sessions.csrfMatches(session, typeof form._csrf === "string" ? form._csrf : undefined)) {
        return c.html(signInPage("/alerts", "The sign-out form was stale; reload and try again."), 403);
      }
      sessions.revoke(session);
    }
    deleteCookie(c, SESSION_COOKIE, { path: "/", secure: secureCookie });
    return c.redirect("/sign-in", 303);
  });

  return routes;
}
