import { makeJob } from "../../test/fixtures";
import { alertSubject, formatMeasure } from "./alert-text";
import { escapeHtml, renderEmail } from "./render-email";
import { renderSlack } from "./render-slack";

const publicUrl = "http://alerts.example.com:8081/";
const { alert } = makeJob();

describe("email rendering", () => {
  it("names the severity, type, key and endpoint in the subject", () => {
    expect(renderEmail({ reason: "firing", alert, publicUrl }).subject).toBe(
      "[CRITICAL] response_time on key 7 /users/:id",
    );
    expect(alertSubject("resolved", alert)).toBe("[RESOLVED] response_time on key 7 /users/:id");
    expect(alertSubject("escalated", alert)).toBe("[CRITICAL] response_time on key 7 /users/:id (escalated)");
    expect(
      alertSubject("firing", {
        ...alert,
        type: "unauthorized_access",
        apiKeyId: null,
        endpoint: null,
        clientIp: "203.0.113.9",
      }),
    ).toBe("[CRITICAL] unauthorized_access from 203.0.113.9");
  });

  it("writes the alert, key, endpoint, value against threshold and a link in the text body", () => {
    const { text } = renderEmail({ reason: "firing", alert, publicUrl });
    expect(text).toBe(
      [
        "An alert is firing.",
        "",
        "p95 response time 2.35 s on /users/:id is above 2 s",
        "",
        "Alert:        response_time (critical)",
        "Status:       firing",
        "API key:      7",
        "Endpoint:     /users/:id",
        "Value:        2.35 s",
        "Threshold:    2 s",
        "Occurrences:  4",
        "First seen:   2026-11-27T11:58:00.000Z",
        "Last seen:    2026-11-27T12:00:00.000Z",
        "",
        "Details: http://alerts.example.com:8081/alerts/12",
        "",
        "-- apimon",
        "",
      ].join("\n"),
    );
  });

  it("escapes every value in the HTML body", () => {
    const hostile = { ...alert, message: `<script>alert("x")</script> & co`, endpoint: "/a/<b>" };
    const { html } = renderEmail({ reason: "firing", alert: hostile, publicUrl });
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("/a/<b>");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co");
    expect(html).toContain("<td>/a/&lt;b&gt;</td>");
    expect(html).toContain('<a href="http://alerts.example.com:8081/alerts/12">View alert #12</a>');
    expect(escapeHtml(`'"&<>`)).toBe("&#39;&quot;&amp;&lt;&gt;");
  });

  it("has no link for a channel test, which has no alert", () => {
    const email = renderEmail({ reason: "test", alert: { ...alert, id: null }, publicUrl });
    expect(email.subject).toBe("[TEST] response_time on key 7 /users/:id");
    expect(email.text).toContain("This is a test notification from apimon");
    expect(email.text).not.toContain("Details:");
    expect(email.html).not.toContain("<a ");
  });

  it("keeps the subject on one line", () => {
    expect(alertSubject("firing", { ...alert, endpoint: "/x\r\nBcc: victim@example.com" })).toBe(
      "[CRITICAL] response_time on key 7 /x Bcc: victim@example.com",
    );
  });

  it("names the key when the job carries its name, shortened, still on one line", () => {
    expect(alertSubject("firing", { ...alert, apiKeyName: "billing" })).toBe(
      '[CRITICAL] response_time on key "billing" (#7) /users/:id',
    );
    expect(alertSubject("firing", { ...alert, apiKeyName: `${"n".repeat(100)}` })).toBe(
      `[CRITICAL] response_time on key "${"n".repeat(59)}…" (#7) /users/:id`,
    );
    expect(alertSubject("firing", { ...alert, apiKeyName: "evil\r\nBcc: victim@example.com" })).toBe(
      '[CRITICAL] response_time on key "evil Bcc: victim@example.com" (#7) /users/:id',
    );
  });
});

describe("measures", () => {
  it("states each rule's number in its unit", () => {
    expect(formatMeasure("response_time", 2.3456)).toBe("2.346 s");
    expect(formatMeasure("error_rate", 0.125)).toBe("12.5 %");
    expect(formatMeasure("usage_spike", 3.2468)).toBe("3.25x baseline");
    expect(formatMeasure("unauthorized_access", 6)).toBe("6 failed attempts");
    expect(formatMeasure("rate_limit_approaching", 0.85)).toBe("85 % of the limit");
  });
});

describe("Slack rendering", () => {
  it("posts a header with the severity, the facts as fields, and a link", () => {
    const message = renderSlack({ reason: "firing", alert, publicUrl });
    expect(message).toEqual({
      text: "[CRITICAL] response_time on key 7 /users/:id – http://alerts.example.com:8081/alerts/12",
      blocks: [
        {
          type: "header",
          text: {
            type: "plain_text",
            text: ":rotating_light: [CRITICAL] response_time on key 7 /users/:id",
            emoji: true,
          },
        },
        {
          type: "section",
          text: {
            type: "mrkdwn",
            text: "An alert is firing.\np95 response time 2.35 s on /users/:id is above 2 s",
          },
        },
        {
          type: "section",
          fields: [
            { type: "mrkdwn", text: "*Severity*\ncritical" },
            { type: "mrkdwn", text: "*Status*\nfiring" },
            { type: "mrkdwn", text: "*API key*\n7" },
            { type: "mrkdwn", text: "*Endpoint*\n/users/:id" },
            { type: "mrkdwn", text: "*Value*\n2.35 s" },
            { type: "mrkdwn", text: "*Threshold*\n2 s" },
          ],
        },
        {
          type: "context",
          elements: [
            {
              type: "mrkdwn",
              text: "4 occurrence(s), first seen 2026-11-27T11:58:00.000Z, last seen 2026-11-27T12:00:00.000Z",
            },
          ],
        },
        {
          type: "section",
          text: { type: "mrkdwn", text: "<http://alerts.example.com:8081/alerts/12|View alert #12>" },
        },
      ],
    });
  });

  it("marks warnings and resolutions, and escapes Slack's control characters", () => {
    const warning = renderSlack({ reason: "firing", alert: { ...alert, severity: "warning" }, publicUrl });
    expect(JSON.stringify(warning.blocks[0])).toContain(":warning: [WARNING]");
    const resolved = renderSlack({ reason: "resolved", alert, publicUrl });
    expect(JSON.stringify(resolved.blocks[0])).toContain(":white_check_mark: [RESOLVED]");
    const hostile = renderSlack({
      reason: "firing",
      alert: { ...alert, message: "<!channel> & <http://x|y>" },
      publicUrl,
    });
    expect(JSON.stringify(hostile.blocks[1])).toContain("&lt;!channel&gt; &amp; &lt;http://x|y&gt;");
  });

  it("escapes every interpolated value in mrkdwn, the fallback text included", () => {
    const hostile = renderSlack({
      reason: "firing",
      alert: { ...alert, endpoint: "/<!here>/<http://evil|x>&", clientIp: "<!channel>", message: "<@U1>" },
      publicUrl,
    });
    expect(hostile.text).not.toMatch(/<(?!http:\/\/alerts)/);
    expect(hostile.text).toContain("/&lt;!here&gt;/&lt;http://evil|x&gt;&amp;");
    // Every mrkdwn text (the header is plain_text, which Slack does not parse; the last block is
    // the notifier's own link) is free of Slack's control sequences.
    const mrkdwn = JSON.stringify(hostile.blocks.slice(1, -1));
    expect(mrkdwn).not.toContain("<!");
    expect(mrkdwn).not.toContain("<http://evil");
    expect(mrkdwn).not.toContain("<@");
  });
});
