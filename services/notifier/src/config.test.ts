import { configRefusal } from "@apimon/testkit";
import { loadConfig } from "./config";

describe("notifier configuration", () => {
  it("defaults to the documented values", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8086,
      groupPrefix: "notifier",
      channelTypes: ["email", "slack", "webhook"],
      maxAttempts: 5,
      backoff: { baseMs: 500, capMs: 30_000 },
      httpTimeoutMs: 10_000,
      targets: { allowPrivate: false, allowlist: [], denylist: [] },
      smtpUrl: "smtp://localhost:1025",
      emailFrom: "apimon <alerts@apimon.local>",
      consolePublicUrl: "http://localhost:8087",
    });
  });

  it("reads one channel type per process, private targets and lists", () => {
    const config = loadConfig({
      NOTIFIER_CHANNEL_TYPES: "slack, slack",
      NOTIFIER_ALLOW_PRIVATE_TARGETS: "true",
      NOTIFIER_TARGET_ALLOWLIST: "10.0.0.0/8, hooks.internal",
      NOTIFIER_TARGET_DENYLIST: "169.254.0.0/16",
      SMTP_URL: "smtps://user:pass@mail.example.com:465",
    });
    expect(config.channelTypes).toEqual(["slack"]);
    expect(config.targets).toEqual({
      allowPrivate: true,
      allowlist: ["10.0.0.0/8", "hooks.internal"],
      denylist: ["169.254.0.0/16"],
    });
  });

  it("names every bad variable at once", () => {
    const refusal = configRefusal(() =>
      loadConfig({
        NOTIFIER_CHANNEL_TYPES: "email,pager",
        NOTIFIER_MAX_ATTEMPTS: "0",
        NOTIFIER_TARGET_DENYLIST: "10.0.0.0/40",
        SMTP_URL: "not a url",
      }),
    );
    expect(refusal.issues.map((i) => i.variable).sort()).toEqual([
      "NOTIFIER_CHANNEL_TYPES",
      "NOTIFIER_MAX_ATTEMPTS",
      "NOTIFIER_TARGET_DENYLIST",
      "SMTP_URL",
    ]);
    expect(refusal.message).toContain("not a CIDR: 10.0.0.0/40");
  });
});
