import { maskChannelName, maskChannelTarget, maskUrlsInText } from "./channels";

const SLACK = "https://hooks.slack.com/services/T000/B000/XXXXsecretZ123";

describe("a channel's target as a viewer sees it", () => {
  it("keeps a Slack URL's host and last characters, a webhook URL's path, and email addresses", () => {
    expect(maskChannelTarget("slack", SLACK)).toBe("https://hooks.slack.com/…Z123");
    expect(maskChannelTarget("webhook", "https://u:p@hooks.example.com/in?token=abc")).toBe(
      "https://hooks.example.com/in?…",
    );
    expect(maskChannelTarget("email", "ops@example.com")).toBe("ops@example.com");
    expect(maskChannelTarget("webhook", "not a url")).toBe("(invalid URL)");
  });

  it("masks every URL of a name", () => {
    expect(maskChannelName("slack", `slack ${SLACK}`)).toBe("slack https://hooks.slack.com/…Z123");
    expect(maskChannelName("email", "mail https://x.example/?k=1")).toBe("mail https://x.example/?k=1");
  });
});

describe("a text that may quote a target", () => {
  it("keeps only each URL's scheme and host", () => {
    expect(maskUrlsInText(`POST ${SLACK} failed; retried https://a.example:8443/hook?sig=1 too`)).toBe(
      "POST https://hooks.slack.com/… failed; retried https://a.example:8443/… too",
    );
    expect(maskUrlsInText("HTTP 500")).toBe("HTTP 500");
    expect(maskUrlsInText("bad http://[::1 host")).toBe("bad (URL) host");
  });
});
