import { MAX_GROUPED_ALERTS } from "@apimon/events";
import { makeJob } from "../../test/fixtures";
import { groupSubject, type JobAlert, type RenderInput } from "./alert-text";
import { renderEmail } from "./render-email";
import { renderSlack, type SlackBlock } from "./render-slack";

const publicUrl = "http://alerts.example.com:8081/";
const endpoint = "GET /api/users/:id";

/** An alert of the group: the fixture's response_time alert on one endpoint, with overrides. */
function member(overrides: Partial<JobAlert> = {}): JobAlert {
  return { ...makeJob().alert, endpoint, severity: "warning", ...overrides };
}

/** Four response_time alerts on one endpoint: the first a warning, a critical one among the others. */
function slowEndpoint(reason: RenderInput["reason"] = "firing"): RenderInput {
  return {
    reason,
    alert: member(),
    others: [
      member({
        id: 13,
        apiKeyId: 8,
        apiKeyName: "billing",
        severity: "critical",
        observedValue: 3.1,
        occurrences: 1,
      }),
      member({ id: 14, apiKeyId: null, clientIp: "203.0.113.9", observedValue: 2.2 }),
      member({
        id: 15,
        apiKeyId: 9,
        observedValue: 2.05,
        threshold: 1.5,
        lastSeenAt: "2026-11-27T12:01:00.000Z",
      }),
    ],
    publicUrl,
  };
}

/** Three unauthorized_access alerts without an endpoint, one per client address. */
function failedLogins(): RenderInput {
  const login = (id: number, clientIp: string, observedValue: number) =>
    member({
      id,
      type: "unauthorized_access",
      apiKeyId: null,
      endpoint: null,
      clientIp,
      observedValue,
      threshold: 5,
    });
  return {
    reason: "firing",
    alert: login(20, "203.0.113.9", 6),
    others: [login(21, "198.51.100.4", 9), login(22, "2001:db8::1", 7)],
    publicUrl,
  };
}

/** `count` alerts in all: the slow endpoint's first and `count - 1` others on keys 100, 101, … */
function manyAlerts(count: number, overrides: Partial<JobAlert> = {}): RenderInput {
  return {
    reason: "firing",
    alert: member(overrides),
    others: Array.from({ length: count - 1 }, (_, i) =>
      member({ id: 100 + i, apiKeyId: 100 + i, ...overrides }),
    ),
    publicUrl,
  };
}

function sectionTexts(blocks: SlackBlock[]): string[] {
  return blocks.flatMap((b) => (b.type === "section" && b.text ? [b.text.text] : []));
}

describe("grouped email", () => {
  it("names the count, type and endpoint under the highest severity in the subject", () => {
    expect(renderEmail(slowEndpoint()).subject).toBe(
      "[CRITICAL] 4 response_time alerts on GET /api/users/:id",
    );
    expect(renderEmail(slowEndpoint("reminder")).subject).toBe(
      "[CRITICAL] 4 response_time alerts on GET /api/users/:id (reminder)",
    );
    expect(renderEmail(slowEndpoint("escalated")).subject).toBe(
      "[CRITICAL] 4 response_time alerts on GET /api/users/:id (escalated)",
    );
    expect(renderEmail(slowEndpoint("resolved")).subject).toBe(
      "[RESOLVED] 4 response_time alerts on GET /api/users/:id",
    );
    expect(renderEmail(failedLogins()).subject).toBe("[WARNING] 3 unauthorized_access alerts");
  });

  it("lists every alert on its own line with who, severity, value against threshold, occurrences, last seen and link", () => {
    expect(renderEmail(slowEndpoint()).text).toBe(
      [
        "4 response_time alerts on GET /api/users/:id are firing.",
        "",
        "- key 7: warning, 2.35 s (threshold 2 s), 4 occurrences, last seen 2026-11-27T12:00:00.000Z – http://alerts.example.com:8081/alerts/12",
        '- key "billing" (#8): critical, 3.1 s (threshold 2 s), 1 occurrence, last seen 2026-11-27T12:00:00.000Z – http://alerts.example.com:8081/alerts/13',
        "- client 203.0.113.9: warning, 2.2 s (threshold 2 s), 4 occurrences, last seen 2026-11-27T12:00:00.000Z – http://alerts.example.com:8081/alerts/14",
        "- key 9: warning, 2.05 s (threshold 1.5 s), 4 occurrences, last seen 2026-11-27T12:01:00.000Z – http://alerts.example.com:8081/alerts/15",
        "",
        "All response_time alerts in the console: http://alerts.example.com:8081/alerts?type=response_time",
        "",
        "-- apimon",
        "",
      ].join("\n"),
    );
  });

  it("says what happened to the group for each reason", () => {
    const opening = (reason: RenderInput["reason"]) => renderEmail(slowEndpoint(reason)).text.split("\n")[0];
    expect(opening("reminder")).toBe(
      "4 response_time alerts on GET /api/users/:id are still open (reminder).",
    );
    expect(opening("escalated")).toBe("4 response_time alerts on GET /api/users/:id were escalated.");
    expect(opening("resolved")).toBe("4 response_time alerts on GET /api/users/:id were resolved.");
  });

  it("leaves the endpoint out when the alerts have none, and names each client address", () => {
    const { text, html } = renderEmail(failedLogins());
    expect(text.split("\n").slice(0, 5)).toEqual([
      "3 unauthorized_access alerts are firing.",
      "",
      "- client 203.0.113.9: warning, 6 failed attempts (threshold 5 failed attempts), 4 occurrences, last seen 2026-11-27T12:00:00.000Z – http://alerts.example.com:8081/alerts/20",
      "- client 198.51.100.4: warning, 9 failed attempts (threshold 5 failed attempts), 4 occurrences, last seen 2026-11-27T12:00:00.000Z – http://alerts.example.com:8081/alerts/21",
      "- client 2001:db8::1: warning, 7 failed attempts (threshold 5 failed attempts), 4 occurrences, last seen 2026-11-27T12:00:00.000Z – http://alerts.example.com:8081/alerts/22",
    ]);
    expect(html).toContain('<h2 style="color:#b45309">[WARNING] 3 unauthorized_access alerts</h2>');
    expect(html).toContain('href="http://alerts.example.com:8081/alerts?type=unauthorized_access"');
  });

  it("links every alert of the HTML table to its page, in the group's order, under the highest severity's colour", () => {
    const { html } = renderEmail(slowEndpoint());
    expect(html).toContain(
      '<h2 style="color:#b91c1c">[CRITICAL] 4 response_time alerts on GET /api/users/:id</h2>',
    );
    const links = [...html.matchAll(/<a href="([^"]+)">([^<]*)<\/a>/g)].map((m) => [m[1], m[2]]);
    expect(links).toEqual([
      ["http://alerts.example.com:8081/alerts/12", "key 7"],
      ["http://alerts.example.com:8081/alerts/13", "key &quot;billing&quot; (#8)"],
      ["http://alerts.example.com:8081/alerts/14", "client 203.0.113.9"],
      ["http://alerts.example.com:8081/alerts/15", "key 9"],
      ["http://alerts.example.com:8081/alerts?type=response_time", "All response_time alerts in the console"],
    ]);
    expect(html.match(/<tr valign="top">/g)).toHaveLength(4);
    expect(html).toContain("2.05 s (threshold 1.5 s)");
  });

  it("escapes hostile key names and endpoints in the heading and in every row", () => {
    const hostileEndpoint = `/x/<script>alert("e")</script>&'`;
    const hostile = (i: number): Partial<JobAlert> => ({
      apiKeyName: `<img src=x onerror=alert(${i})>`,
      // A different endpoint on each: the rows then name it.
      endpoint: `${hostileEndpoint}${i}`,
    });
    const input: RenderInput = {
      reason: "firing",
      alert: member({ ...hostile(0), apiKeyId: 7 }),
      others: [1, 2, 3].map((i) => member({ ...hostile(i), id: 12 + i, apiKeyId: 7 + i })),
      publicUrl,
    };
    const { html, text } = renderEmail(input);
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<script>");
    for (const i of [0, 1, 2, 3]) {
      expect(html).toContain(
        `key &quot;&lt;img src=x onerror=alert(${i})&gt;&quot; (#${7 + i}) /x/&lt;script&gt;alert(&quot;e&quot;)&lt;/script&gt;&amp;&#39;${i}</a>`,
      );
      expect(text).toContain(
        `- key "<img src=x onerror=alert(${i})>" (#${7 + i}) ${hostileEndpoint}${i}: warning`,
      );
    }
    // The endpoints differ, so the heading does not claim one.
    expect(renderEmail(input).subject).toBe("[WARNING] 4 response_time alerts");

    const shared = renderEmail({
      reason: "firing",
      alert: member({ endpoint: hostileEndpoint }),
      others: [member({ id: 13, endpoint: hostileEndpoint })],
      publicUrl,
    });
    expect(shared.html).not.toContain("<script>");
    expect(shared.html).toContain(
      '<h2 style="color:#b45309">[WARNING] 2 response_time alerts on /x/&lt;script&gt;alert(&quot;e&quot;)&lt;/script&gt;&amp;&#39;</h2>',
    );
  });

  it("keeps the subject on one line and every alert on its own line of the text", () => {
    const input: RenderInput = {
      reason: "firing",
      alert: member({ endpoint: "/x\r\nBcc: victim@example.com" }),
      others: [
        member({
          id: 13,
          endpoint: "/x\r\nBcc: victim@example.com",
          apiKeyName: "evil\n- key 1: critical\t",
        }),
      ],
      publicUrl,
    };
    const { subject, text } = renderEmail(input);
    expect(subject).toBe("[WARNING] 2 response_time alerts on /x Bcc: victim@example.com");
    expect(groupSubject("firing", [member({ apiKeyName: "a\nb" })])).not.toContain("\n");
    expect(text.split("\n").filter((line) => line.startsWith("- "))).toEqual([
      "- key 7: warning, 2.35 s (threshold 2 s), 4 occurrences, last seen 2026-11-27T12:00:00.000Z – http://alerts.example.com:8081/alerts/12",
      '- key "evil - key 1: critical " (#7): warning, 2.35 s (threshold 2 s), 4 occurrences, last seen 2026-11-27T12:00:00.000Z – http://alerts.example.com:8081/alerts/13',
    ]);
  });

  it("lists all of the largest group the job may carry", () => {
    const { text, html } = renderEmail(manyAlerts(MAX_GROUPED_ALERTS + 1));
    expect(text.split("\n").filter((line) => line.startsWith("- key "))).toHaveLength(100);
    expect(html.match(/<tr valign="top">/g)).toHaveLength(100);
    expect(text).toContain("- key 198: warning");
  });

  it("has no links for a channel test, whose alerts have no pages", () => {
    const email = renderEmail({
      reason: "test",
      alert: member({ id: null }),
      others: [member({ id: null, apiKeyId: 8 })],
      publicUrl,
    });
    expect(email.subject).toBe("[TEST] 2 response_time alerts on GET /api/users/:id");
    expect(email.text).toBe(
      [
        "This is a test notification from apimon: the channel works.",
        "",
        "- key 7: warning, 2.35 s (threshold 2 s), 4 occurrences, last seen 2026-11-27T12:00:00.000Z",
        "- key 8: warning, 2.35 s (threshold 2 s), 4 occurrences, last seen 2026-11-27T12:00:00.000Z",
        "",
        "-- apimon",
        "",
      ].join("\n"),
    );
    expect(email.html).not.toContain("<a ");
  });

  it("renders a job without others exactly as one alert", () => {
    const { alert } = makeJob();
    const alone = renderEmail({ reason: "firing", alert, publicUrl });
    expect(renderEmail({ reason: "firing", alert, others: [], publicUrl })).toEqual(alone);
    expect(renderEmail({ reason: "firing", alert, others: undefined, publicUrl })).toEqual(alone);
    expect(alone.subject).toBe("[CRITICAL] response_time on key 7 /users/:id");
  });
});

describe("grouped Slack message", () => {
  it("posts a header with the highest severity, the sentence and one linked section per alert", () => {
    expect(renderSlack(slowEndpoint())).toEqual({
      text: "[CRITICAL] 4 response_time alerts on GET /api/users/:id",
      blocks: [
        {
          type: "header",
          text: {
            type: "plain_text",
            text: ":rotating_light: [CRITICAL] 4 response_time alerts on GET /api/users/:id",
            emoji: true,
          },
        },
        {
          type: "section",
          text: { type: "mrkdwn", text: "4 response_time alerts on GET /api/users/:id are firing." },
        },
        {
          type: "section",
          text: {
            type: "mrkdwn",
            text: "<http://alerts.example.com:8081/alerts/12|#12> key 7: warning, 2.35 s (threshold 2 s), 4 occurrences, last seen 2026-11-27T12:00:00.000Z",
          },
        },
        {
          type: "section",
          text: {
            type: "mrkdwn",
            text: '<http://alerts.example.com:8081/alerts/13|#13> key "billing" (#8): critical, 3.1 s (threshold 2 s), 1 occurrence, last seen 2026-11-27T12:00:00.000Z',
          },
        },
        {
          type: "section",
          text: {
            type: "mrkdwn",
            text: "<http://alerts.example.com:8081/alerts/14|#14> client 203.0.113.9: warning, 2.2 s (threshold 2 s), 4 occurrences, last seen 2026-11-27T12:00:00.000Z",
          },
        },
        {
          type: "section",
          text: {
            type: "mrkdwn",
            text: "<http://alerts.example.com:8081/alerts/15|#15> key 9: warning, 2.05 s (threshold 1.5 s), 4 occurrences, last seen 2026-11-27T12:01:00.000Z",
          },
        },
      ],
    });
  });

  it("marks a group of warnings and a resolved group", () => {
    const warnings = renderSlack(failedLogins());
    expect(warnings.text).toBe("[WARNING] 3 unauthorized_access alerts");
    expect(JSON.stringify(warnings.blocks[0])).toContain(":warning: [WARNING] 3 unauthorized_access alerts");
    const resolved = renderSlack(slowEndpoint("resolved"));
    expect(JSON.stringify(resolved.blocks[0])).toContain(":white_check_mark: [RESOLVED]");
    expect(sectionTexts(resolved.blocks)[0]).toBe(
      "4 response_time alerts on GET /api/users/:id were resolved.",
    );
  });

  it("stays within Slack's limits for the largest group, and counts the alerts it leaves out", () => {
    const { blocks } = renderSlack(manyAlerts(MAX_GROUPED_ALERTS + 1, { apiKeyName: "k".repeat(200) }));
    expect(blocks).toHaveLength(50);
    const texts = sectionTexts(blocks);
    for (const text of texts) expect(text.length).toBeLessThanOrEqual(3000);
    // Header, sentence, 47 alerts, and the count of the 53 others.
    expect(texts).toHaveLength(48);
    expect(texts[1]).toMatch(
      /^<http:\/\/alerts\.example\.com:8081\/alerts\/12\|#12> key "k{59}…" \(#7\): warning/,
    );
    expect(texts[47]).toMatch(
      /^<http:\/\/alerts\.example\.com:8081\/alerts\/145\|#145> key "k{59}…" \(#145\)/,
    );
    expect(blocks.at(-1)).toEqual({
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: "…and 53 more: <http://alerts.example.com:8081/alerts?type=response_time|see the console>",
        },
      ],
    });
  });

  it("lists every alert that fits, and cuts only past 50 blocks", () => {
    const fits = renderSlack(manyAlerts(48)).blocks;
    expect(fits).toHaveLength(50);
    expect(fits.every((b) => b.type !== "context")).toBe(true);
    const cut = renderSlack(manyAlerts(49)).blocks;
    expect(cut).toHaveLength(50);
    expect(JSON.stringify(cut.at(-1))).toContain("…and 2 more: ");
  });

  it("clips a huge endpoint to Slack's header and section limits", () => {
    const { blocks } = renderSlack(manyAlerts(3, { endpoint: `/${"a".repeat(5000)}` }));
    const header = blocks[0];
    expect(header?.type === "header" && header.text.text.length).toBe(150);
    for (const text of sectionTexts(blocks)) expect(text.length).toBeLessThanOrEqual(3000);
  });

  it("escapes every name and endpoint in mrkdwn, the fallback text included", () => {
    const input: RenderInput = {
      reason: "firing",
      alert: member({ apiKeyName: "<!channel>", endpoint: "/<!here>/<http://evil|x>&" }),
      others: [
        member({ id: 13, apiKeyId: 8, apiKeyName: "<@U1>", endpoint: "/<!here>/<http://evil|x>&" }),
        member({ id: 14, apiKeyId: null, clientIp: "<!everyone>", endpoint: "/<!here>/<http://evil|x>&" }),
      ],
      publicUrl,
    };
    const message = renderSlack(input);
    expect(message.text).toBe(
      "[WARNING] 3 response_time alerts on /&lt;!here&gt;/&lt;http://evil|x&gt;&amp;",
    );
    const [sentence, ...rows] = sectionTexts(message.blocks);
    expect(sentence).not.toContain("<");
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      // The row's own link is the notifier's; nothing after it may open a Slack control sequence.
      expect(row).toMatch(/^<http:\/\/alerts\.example\.com:8081\/alerts\/1[234]\|#1[234]> /);
      expect(row.replace(/^<[^>]+> /, "")).not.toContain("<");
    }
    expect(rows[0]).toContain('key "&lt;!channel&gt;" (#7):');
    expect(rows[1]).toContain('key "&lt;@U1&gt;" (#8):');
    expect(rows[2]).toContain("client &lt;!everyone&gt;:");
  });
});
