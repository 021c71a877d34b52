import { type AlertsClient, ApiError, type KeysClient } from "@apimon/client";
import {
  ADMIN_TOKEN_GUESSES_PER_MINUTE,
  type AppEnv,
  clientAddress,
  createGuessLimit,
  createHttpApp,
  MAX_INT,
  tokenMatches,
} from "@apimon/http";
import { createHealthRoutes, type Logger, type ReadinessCheck, type Registry } from "@apimon/observability";
import { type Context, Hono } from "hono";
import { deleteCookie, getCookie } from "hono/cookie";
import { html } from "hono/html";
import { apiDetail, type ConsoleEnv, type PageDeps } from "./context";
import type { OperatorScope } from "./operator-scope";
import { createActivityPages } from "./routes/activity";
import { createAlertPages } from "./routes/alerts";
import { createAuthRoutes } from "./routes/auth";
import { createChannelPages } from "./routes/channels";
import { createKeyPages } from "./routes/keys";
import { createOperatorPages } from "./routes/operators";
import { createReportPages } from "./routes/reports";
import { createSettingsPages } from "./routes/settings";
import { createSilencePages } from "./routes/silences";
import { createUserPages } from "./routes/users";
import { SESSION_COOKIE, type SessionManager, type SessionOperator } from "./session";
import { CONSOLE_CSS, CONSOLE_JS } from "./views/assets";
import { page, type SignedIn } from "./views/layout";

/** Forms are small; a larger body is refused before it is read. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Scripts and styles only from this origin; no inline script, no framing, forms only to here. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export interface AppDeps {
  logger: Logger;
  registry: Registry;
  alerts: AlertsClient;
  keys: KeysClient;
  sessions: SessionManager;
  /**
   * The scope the API clients' `headers` and `adminToken` read: each request runs in it with its
   * browser's address, and with the signed-in token once its session is read.
   */
  operator: OperatorScope;
  /** Chart.js's browser build, served at /assets/chart.umd.min.js. */
  chartJs: string;
  config: {
    adminToken: string;
    /** Proxies of yours in front (ADMIN_TRUSTED_PROXY_HOPS); 0 when left out. */
    trustedProxyHops?: number;
    sessionTtlSeconds: number;
    secureCookie: boolean;
    refreshSeconds: number;
  };
  checks?: Record<string, ReadinessCheck>;
  isShuttingDown: () => boolean;
  clock?: () => Date;
  /** How long a page waits for the keys API to say who signed in before it goes on without. */
  identityWaitMs?: number;
}

/** The operator console: server-rendered pages over the alerts and keys APIs, behind a session. */
export function createApp({
  logger,
  registry,
  alerts,
  keys,
  sessions,
  operator,
  chartJs,
  config,
  checks = {},
  isShuttingDown,
  identityWaitMs = 2_000,
  clock = () => new Date(),
}: AppDeps): Hono<AppEnv> {
  const app = createHttpApp({ logger, registry, maxBodyBytes: MAX_BODY_BYTES });
  app.route("/", createHealthRoutes({ registry, checks, isShuttingDown }));

  app.use(async (c, next) => {
    await next();
    c.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "same-origin");
    c.header("X-Frame-Options", "DENY");
    if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
  });
  // The APIs record a change as the console's, from the browser's address as this console sees it
  // (behind its own proxies as the outermost one saw it), not from the console's.
  app.use((c, next) => operator.run(clientAddress(c, config.trustedProxyHops ?? 0), next));

  const asset = (body: string, type: string) => (c: Context) =>
    c.body(body, 200, { "Content-Type": type, "Cache-Control": "public, max-age=3600" });
  app.get("/assets/console.css", asset(CONSOLE_CSS, "text/css; charset=utf-8"));
  app.get("/assets/console.js", asset(CONSOLE_JS, "text/javascript; charset=utf-8"));
  app.get("/assets/chart.umd.min.js", asset(chartJs, "text/javascript; charset=utf-8"));

  /** Whose the token of the current scope is, as the keys API answers now; null for the admin token. */
  const caller = async (): Promise<SessionOperator | null> => {
    const { operator: who } = await keys.whoAmI();
    return who && { id: who.id, name: who.name, role: who.role };
  };

  app.route(
    "/",
    createAuthRoutes({
      sessions,
      // Asked with the token presented, so that the keys API judges it: an unknown or revoked
      // operator token is refused there, as it would be on every later call.
      identify: (token) =>
        operator.withToken(token, async () => {
          try {
            return { operator: await caller() };
          } catch (err) {
            if (err instanceof ApiError && err.status === 401) return undefined;
            throw err;
          }
        }),
      isAdminToken: (token) => tokenMatches(config.adminToken, token),
      guesses: createGuessLimit({ registry }),
      relayedGuesses: createGuessLimit({ perMinute: Math.floor(ADMIN_TOKEN_GUESSES_PER_MINUTE / 2) }),
      trustedProxyHops: config.trustedProxyHops ?? 0,
      now: () => clock().getTime(),
      ttlSeconds: config.sessionTtlSeconds,
      secureCookie: config.secureCookie,
    }),
  );

  const pages = new Hono<ConsoleEnv>();
  // Every page needs a session: a page request without one goes to sign-in, anything else is 401.
  pages.use(async (c, next) => {
    const session = sessions.read(getCookie(c, SESSION_COOKIE));
    if (!session) {
      if (c.req.method === "GET" || c.req.method === "HEAD") {
        const url = new URL(c.req.url);
        return c.redirect(`/sign-in?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
      }
      return c.html(errorPage("Not signed in", "Your session has ended. Sign in again."), 401);
    }
    c.set("session", session);
    c.set("signedIn", { csrf: sessions.csrfToken(session), operator: session.operator });
    // The rest of the request calls the APIs with the signed-in token, not the console's.
    return operator.withToken(session.token, next);
  });
  // Every state change is a POST carrying the session's CSRF token (SameSite=Strict is the
  // first line; the token also covers browsers that ignore SameSite).
  pages.use(async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const token = typeof form._csrf === "string" ? form._csrf : undefined;
    if (!sessions.csrfMatches(c.get("session"), token)) {
      c.get("logger").warn({ path: c.req.path }, "form refused: missing or wrong CSRF token");
      return c.html(
        errorPage(
          "Form refused",
          "The form's security token is missing or stale. Reload the page and try again.",
        ),
        403,
      );
    }
    return next();
  });
  // An operator's name and role as the keys API knows them now, not as the session noted them at
  // sign-in: an admin may have changed them since, and each page draws its forms by the role. The
  // APIs stay the guard; this keeps the pages from offering what they would refuse, or hiding
  // what they would allow. A 401 here ends the session as any API's does (onError below). A keys
  // API that is down or slow must not take the alerts pages with it, so after an error or
  // identityWaitMs the page goes on with the name and role of sign-in: at worst it offers a form
  // the API then refuses. The admin token has no one to look up.
  pages.use(async (c, next) => {
    if (c.get("session").operator === null) return next();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), identityWaitMs);
    });
    try {
      const now = await Promise.race([caller(), late]);
      if (now === "late") c.get("logger").warn("the keys API did not say who signed in in time");
      else c.set("signedIn", { ...c.get("signedIn"), operator: now });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) throw err;
      c.get("logger").warn({ err }, "the keys API could not say who signed in");
    } finally {
      clearTimeout(timer);
    }
    return next();
  });

  /** The page for an address that names nothing. */
  const notFound = (c: Context<ConsoleEnv>) =>
    c.html(errorPage("Not found", "There is no such page.", c.get("signedIn")), 404);
  // A record's id in the path (/keys/12, /alerts/7/acknowledge) that no record can have, 0 or
  // beyond a Postgres integer, names nothing: the APIs would refuse the path as invalid (400),
  // which is no failure of theirs to report, so it is not asked for.
  pages.use("/:section/:id{[0-9]+}/*", async (c, next) => {
    const id = Number(c.req.param("id"));
    return id >= 1 && id <= MAX_INT ? next() : notFound(c);
  });

  const deps: PageDeps = { alerts, keys, sessions, refreshSeconds: config.refreshSeconds, clock };
  pages.get("/", (c) => c.redirect("/alerts", 302));
  pages.route("/", createAlertPages(deps));
  pages.route("/", createReportPages(deps));
  pages.route("/", createSettingsPages(deps));
  pages.route("/", createChannelPages(deps));
  pages.route("/", createSilencePages(deps));
  pages.route("/", createKeyPages(deps));
  pages.route("/", createUserPages(deps));
  pages.route("/", createActivityPages(deps));
  pages.route("/", createOperatorPages(deps));
  // Signed in: error pages keep the menu, so a mistyped address or a deleted record is one click
  // from anywhere else.
  pages.all("*", notFound);
  pages.onError((error, c) => {
    // The APIs no longer take the session's token (revoked since sign-in, or the admin token
    // changed): the session ends here rather than failing every page.
    if (error instanceof ApiError && error.status === 401) {
      const session = c.get("session");
      if (session) sessions.revoke(session);
      deleteCookie(c, SESSION_COOKIE, { path: "/", secure: config.secureCookie });
      c.get("logger").warn(
        { operatorId: session?.operator?.id ?? null },
        "an API refused the session's token: signed out",
      );
      const url = new URL(c.req.url);
      const next = c.req.method === "GET" ? url.pathname + url.search : undefined;
      return c.redirect(
        `/sign-in?ended=token${next === undefined ? "" : `&next=${encodeURIComponent(next)}`}`,
        303,
      );
    }
    // A viewer's token asked for a change: the API's reason, as a page of its own.
    if (error instanceof ApiError && error.status === 403) {
      return c.html(errorPage("Not allowed", apiDetail(error), c.get("signedIn")), 403);
    }
    if (error instanceof ApiError && error.status === 404) {
      return c.html(
        errorPage(
          "Not found",
          String((error.body as { detail?: string })?.detail ?? "Not found"),
          c.get("signedIn"),
        ),
        404,
      );
    }
    if (error instanceof ApiError) {
      c.get("logger").warn({ status: error.status, body: error.body }, "an API refused a console request");
      return c.html(errorPage("Request failed", error.message, c.get("signedIn")), 502);
    }
    if (error instanceof Error && error.message.startsWith("cannot reach")) {
      c.get("logger").error({ err: error }, "an API is unreachable");
      return c.html(errorPage("Service unavailable", error.message, c.get("signedIn")), 502);
    }
    c.get("logger").error({ err: error, path: c.req.path }, "unhandled console error");
    return c.html(
      errorPage("Something went wrong", "The error was logged. Try again in a moment.", c.get("signedIn")),
      500,
    );
  });
  app.route("/", pages);
  return app;
}

/** A page for errors: a title and a sentence, never a stack; with the menu when signed in. */
export function errorPage(title: string, detail: string, signedIn?: SignedIn) {
  return page(
    { title, signedIn },
    html`<div class="card"><h1>${title}</h1><p>${detail}</p><p><a href="/alerts">Back to the console</a></p></div>`,
  );
}
