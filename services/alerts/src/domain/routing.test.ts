import { DEFAULT_ALERT_SETTINGS } from "@apimon/config";
import { notificationJobSchema } from "@apimon/events";
import { notificationJob, testJob } from "./jobs";
import { channelsFor, escalationChannels, isEscalationDue, isReminderDue, takesScope } from "./routing";

const channels = [
  { id: 1, minSeverity: "warning" as const, enabled: true },
  { id: 2, minSeverity: "critical" as const, enabled: true },
  { id: 3, minSeverity: "warning" as const, enabled: false },
];
const now = new Date("2026-11-27T12:00:00.000Z");
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);

describe("notification routing", () => {
  it("sends warnings to enabled channels whose minimum severity is warning", () => {
    expect(channelsFor("warning", channels).map((c) => c.id)).toEqual([1]);
  });

  it("sends critical alerts to every enabled channel", () => {
    expect(channelsFor("critical", channels).map((c) => c.id)).toEqual([1, 2]);
  });

  it("escalates to the policy's enabled channels whatever their minimum severity, only when enabled", () => {
    const policy = { enabled: true, afterSeconds: 900, channelIds: [2, 3] };
    expect(escalationChannels(policy, channels).map((c) => c.id)).toEqual([2]);
    expect(escalationChannels({ ...policy, enabled: false }, channels)).toEqual([]);
  });
});

describe("a channel's types, endpoints and users", () => {
  const any = { alertTypes: [], endpoints: [], userIds: [] };
  const slow = { type: "response_time", endpoint: "GET /api/billing/invoices", userId: 3 };
  const spike = { type: "usage_spike", endpoint: null, userId: 3 };

  it("take every alert when all are empty", () => {
    expect(takesScope(any, slow)).toBe(true);
    expect(takesScope(any, spike)).toBe(true);
  });

  it("take an alert of one of the types and of an endpoint one of the matchers matches", () => {
    const billing = { ...any, endpoints: ["GET /api/orders", "* /api/billing/*"] };
    expect(takesScope(billing, slow)).toBe(true);
    expect(takesScope(billing, { ...slow, endpoint: "GET /api/billingx" })).toBe(false);
    expect(takesScope({ ...billing, alertTypes: ["error_rate"] }, slow)).toBe(false);
    expect(takesScope({ ...billing, alertTypes: ["error_rate", "response_time"] }, slow)).toBe(true);
    expect(takesScope({ ...any, alertTypes: ["usage_spike"] }, spike)).toBe(true);
  });

  it("leave an alert about no endpoint to the channels without endpoints", () => {
    expect(takesScope({ ...any, endpoints: ["*"] }, spike)).toBe(false);
  });

  it("take an alert on a key of one of the users", () => {
    const customers = { ...any, userIds: [3, 7] };
    expect(takesScope(customers, slow)).toBe(true);
    expect(takesScope(customers, { ...slow, userId: 7 })).toBe(true);
    expect(takesScope(customers, { ...slow, userId: 4 })).toBe(false);
    expect(takesScope({ ...any, userIds: [4] }, slow)).toBe(false);
  });

  it("leave an alert about no key, or a key deleted since, to the channels without users", () => {
    const unowned = { ...spike, userId: null };
    expect(takesScope({ ...any, userIds: [3] }, unowned)).toBe(false);
    expect(takesScope(any, unowned)).toBe(true);
  });

  it("take an alert only when types, endpoints and users all do", () => {
    const narrow = { alertTypes: ["response_time"], endpoints: ["* /api/billing/*"], userIds: [3] };
    expect(takesScope(narrow, slow)).toBe(true);
    expect(takesScope(narrow, { ...slow, userId: 7 })).toBe(false);
    expect(takesScope(narrow, { ...slow, type: "error_rate" })).toBe(false);
    expect(takesScope(narrow, { ...slow, endpoint: "GET /api/orders" })).toBe(false);
  });
});

describe("reminders", () => {
  const alert = { status: "firing", lastNotifiedAt: ago(3600) as Date | null };

  it("are due once the repeat interval passed since the last notification", () => {
    expect(isReminderDue(alert, now, 3600)).toBe(true);
    expect(isReminderDue({ ...alert, lastNotifiedAt: ago(3599) }, now, 3600)).toBe(false);
  });

  it("are due at once for an alert never notified (it opened silenced)", () => {
    expect(isReminderDue({ ...alert, lastNotifiedAt: null }, now, 3600)).toBe(true);
    expect(isReminderDue({ status: "acknowledged", lastNotifiedAt: null }, now, 3600)).toBe(false);
  });

  it("stop once the alert is acknowledged or resolved", () => {
    expect(isReminderDue({ ...alert, status: "acknowledged" }, now, 3600)).toBe(false);
    expect(isReminderDue({ ...alert, status: "resolved" }, now, 3600)).toBe(false);
  });
});

describe("the escalation policy", () => {
  const policy = { enabled: true, afterSeconds: 900, channelIds: [2] };
  const alert = { status: "firing", severity: "critical" as const, escalatedAt: null, criticalAt: ago(900) };

  it("takes a critical alert still unacknowledged afterSeconds after it became critical", () => {
    expect(isEscalationDue(alert, now, policy)).toBe(true);
    expect(isEscalationDue({ ...alert, criticalAt: ago(899) }, now, policy)).toBe(false);
  });

  it("takes it once, never acknowledged or warning alerts, and nothing while disabled", () => {
    expect(isEscalationDue({ ...alert, escalatedAt: ago(1) }, now, policy)).toBe(false);
    expect(isEscalationDue({ ...alert, status: "acknowledged" }, now, policy)).toBe(false);
    expect(isEscalationDue({ ...alert, severity: "warning", criticalAt: null }, now, policy)).toBe(false);
    expect(isEscalationDue(alert, now, DEFAULT_ALERT_SETTINGS.escalation)).toBe(false);
  });
});

describe("notification jobs", () => {
  const deliveryId = "0190f5c4-7a8b-7c3d-9e0f-123456789abc";
  const channel = { id: 4, type: "webhook" as const, target: "https://hooks.example.com/x" };

  it("carries the alert's snapshot, the channel and attempt 1, and passes the topic's schema", () => {
    const alert = {
      id: 9,
      fingerprint: "fp",
      type: "error_rate",
      severity: "critical",
      status: "firing",
      message: "Error rate 12 %",
      apiKeyId: 7,
      endpoint: "/users/:id",
      clientIp: null,
      observedValue: 0.12,
      threshold: 0.1,
      occurrences: 3,
    } as const;
    const job = notificationJob({
      deliveryId,
      reason: "escalated",
      channel,
      alertUrl: "http://localhost:8081/api/v1/alerts/9",
      alert: { ...alert, firstSeenAt: ago(60), lastSeenAt: now },
    });
    expect(notificationJobSchema.parse(job)).toEqual({
      deliveryId,
      reason: "escalated",
      channel: { id: 4, type: "webhook" },
      target: "https://hooks.example.com/x",
      attempt: 1,
      alertUrl: "http://localhost:8081/api/v1/alerts/9",
      alert: { ...alert, firstSeenAt: "2026-11-27T11:59:00.000Z", lastSeenAt: "2026-11-27T12:00:00.000Z" },
    });
  });

  it("makes a channel test a job with reason test and no alert id", () => {
    const job = testJob({ deliveryId, channel, minSeverity: "critical", now });
    expect(notificationJobSchema.parse(job)).toMatchObject({
      reason: "test",
      alert: { id: null, severity: "critical", fingerprint: "test:channel:4" },
    });
  });
});
