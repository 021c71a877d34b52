import { refusedVariables } from "@apimon/testkit";
import { loadConfig } from "./config";

const ADMIN_TOKEN = "console-config-admin-token-0123456789";

describe("console configuration", () => {
  it("defaults to port 8087 and the local alerts and keys services", () => {
    expect(loadConfig({ ADMIN_TOKEN })).toEqual({
      port: 8087,
      host: "0.0.0.0",
      adminToken: ADMIN_TOKEN,
      trustedProxyHops: 0,
      publicUrl: "http://localhost:8087",
      sessionSecret: undefined,
      sessionTtlSeconds: 28_800,
      secureCookie: false,
      refreshSeconds: 15,
      alertsUrl: "http://127.0.0.1:8081",
      keysUrl: "http://127.0.0.1:8082",
      logLevel: "info",
      shutdownTimeoutMs: 10_000,
    });
  });

  it("makes the session cookie Secure behind an https public URL", () => {
    const config = loadConfig({ ADMIN_TOKEN, CONSOLE_PUBLIC_URL: "https://console.example.com/" });
    expect(config.publicUrl).toBe("https://console.example.com");
    expect(config.secureCookie).toBe(true);
  });

  it("refuses to start without the admin token or with bad values, naming every variable", () => {
    const refused = refusedVariables(() =>
      loadConfig({ CONSOLE_PORT: "web", ALERTS_URL: "alerts", CONSOLE_SESSION_SECRET: "short" }),
    );
    expect(refused).toEqual(["ADMIN_TOKEN", "ALERTS_URL", "CONSOLE_PORT", "CONSOLE_SESSION_SECRET"]);
  });
});
