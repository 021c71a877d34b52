import { adminEnv, DEFAULT_PORTS, envTypes, parseServiceEnv } from "@apimon/config";

/** The console's settings. The admin token and session secret are in here: never log this object. */
export function loadConfig(env = process.env) {
  const { settings, raw } = parseServiceEnv(
    { prefix: "CONSOLE", port: DEFAULT_PORTS.console, shared: adminEnv },
    {
      /** Where people reach the console; an https URL makes the session cookie Secure. */
      CONSOLE_PUBLIC_URL: envTypes.url(`http://localhost:${DEFAULT_PORTS.console}`),
      /**
       * Signs session cookies and CSRF tokens, and a key derived from it encrypts the token each
       * session holds; by default derived from the admin token.
       */
      CONSOLE_SESSION_SECRET: envTypes.secret(32).optional(),
      /** How long a sign-in lasts. */
      CONSOLE_SESSION_TTL_SECONDS: envTypes.positiveInt(8 * 3600),
      /** How often the alerts page refreshes itself in the browser. */
      CONSOLE_REFRESH_SECONDS: envTypes.positiveInt(15),
      ALERTS_URL: envTypes.url(`http://127.0.0.1:${DEFAULT_PORTS.alerts}`),
      KEYS_URL: envTypes.url(`http://127.0.0.1:${DEFAULT_PORTS.keys}`),
    },
    env,
  );
  const publicUrl = raw.CONSOLE_PUBLIC_URL.replace(/\/+$/, "");
  return {
    ...settings,
    adminToken: raw.ADMIN_TOKEN,
    trustedProxyHops: raw.ADMIN_TRUSTED_PROXY_HOPS,
    publicUrl,
    sessionSecret: raw.CONSOLE_SESSION_SECRET,
    sessionTtlSeconds: raw.CONSOLE_SESSION_TTL_SECONDS,
    secureCookie: publicUrl.startsWith("https:"),
    refreshSeconds: raw.CONSOLE_REFRESH_SECONDS,
    alertsUrl: raw.ALERTS_URL,
    keysUrl: raw.KEYS_URL,
  };
}

export type Config = ReturnType<typeof loadConfig>;
