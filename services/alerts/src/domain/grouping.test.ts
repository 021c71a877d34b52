import { MAX_GROUPED_ALERTS, notificationJobSchema } from "@apimon/events";
import {
  groupAlerts,
  groupHoldUntil,
  groupMessages,
  groupsInLockOrder,
  isHoldOver,
  takesSeverity,
} from "./grouping";
import { notificationJob } from "./jobs";
import { isReminderDue } from "./routing";

const now = new Date("2026-12-06T12:00:00.000Z");
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);

const alert = (id: number, over: Partial<Parameters<typeof groupAlerts>[0][number]> = {}) => ({
  id,
  type: "response_time" as const,
  endpoint: "GET /users/:id" as string | null,
  severity: "warning" as const,
  ...over,
});

describe("holding an alert for its group", () => {
  it("holds it until the group's last notification plus the interval, while that is ahead", () => {
    expect(groupHoldUntil(ago(60), now, 300)).toEqual(new Date(now.getTime() + 240_000));
    expect(groupHoldUntil(ago(300), now, 300)).toBeNull();
    expect(groupHoldUntil(null, now, 300)).toBeNull();
  });

  it("never holds with an interval of 0", () => {
    expect(groupHoldUntil(ago(1), now, 0)).toBeNull();
  });

  it("lets a held alert go once the hold is over, or at once when grouping was turned off", () => {
    expect(isHoldOver(new Date(now.getTime() + 1000), now, 300)).toBe(false);
    expect(isHoldOver(now, now, 300)).toBe(true);
    expect(isHoldOver(new Date(now.getTime() + 1000), now, 0)).toBe(true);
    expect(isHoldOver(null, now, 300)).toBe(true);
  });

  it("makes a held alert due to the scheduler only once its hold is over", () => {
    const held = { status: "firing", lastNotifiedAt: null, heldUntil: new Date(now.getTime() + 1000) };
    expect(isReminderDue(held, now, 3600, 300)).toBe(false);
    expect(isReminderDue(held, new Date(now.getTime() + 1000), 3600, 300)).toBe(true);
    expect(isReminderDue(held, now, 3600, 0)).toBe(true);
  });
});

describe("groups", () => {
  it("gathers alerts by type and endpoint, keeping their order", () => {
    const alerts = [
      alert(1),
      alert(2, { endpoint: "GET /orders/:id" }),
      alert(3, { type: "error_rate" }),
      alert(4),
      alert(5, { endpoint: null }),
      alert(6, { endpoint: null }),
    ];
    expect(groupAlerts(alerts).map((g) => g.map((a) => a.id))).toEqual([[1, 4], [2], [3], [5, 6]]);
  });

  it("orders groups by name for locking, whatever order their alerts came in", () => {
    const alerts = [
      alert(1, { endpoint: "GET /orders/:id" }),
      alert(2, { type: "error_rate" }),
      alert(3),
      alert(4, { endpoint: "GET /orders/:id" }),
    ];
    const order = (list: typeof alerts) => groupsInLockOrder(list).map((g) => g.map((a) => a.id));
    expect(order(alerts)).toEqual([[2], [1, 4], [3]]);
    expect(order([...alerts].reverse())).toEqual([[2], [4, 1], [3]]);
  });

  it("makes one message per channel of the alerts it takes", () => {
    const channels = [
      { id: 10, minSeverity: "warning" as const, enabled: true },
      { id: 11, minSeverity: "critical" as const, enabled: true },
      { id: 12, minSeverity: "warning" as const, enabled: false },
    ];
    const group = [alert(1), alert(2, { severity: "critical" }), alert(3)];
    const messages = groupMessages(group, channels, takesSeverity);
    expect(messages.map((m) => [m.channel.id, m.alerts.map((a) => a.id)])).toEqual([
      [10, [1, 2, 3]],
      [11, [2]],
    ]);
    // Without a rule, every channel given takes every alert (they were routed already).
    expect(groupMessages([alert(1)], channels).map((m) => m.channel.id)).toEqual([10, 11, 12]);
  });

  it("splits a group larger than one message holds", () => {
    const group = Array.from({ length: MAX_GROUPED_ALERTS + 3 }, (_, i) => alert(i + 1));
    const messages = groupMessages(group, [{ id: 1 }]);
    expect(messages.map((m) => m.alerts.length)).toEqual([MAX_GROUPED_ALERTS + 1, 2]);
  });
});

describe("a grouped job", () => {
  const snapshot = (id: number, apiKeyId: number) => ({
    id,
    fingerprint: `response_time:key=${apiKeyId}`,
    type: "response_time" as const,
    severity: "warning" as const,
    status: "firing" as const,
    message: "slow",
    apiKeyId,
    endpoint: "GET /users/:id",
    clientIp: null,
    observedValue: 2.5,
    threshold: 2,
    occurrences: 3,
    firstSeenAt: now,
    lastSeenAt: now,
  });

  it("carries the first alert as its alert and the rest, each with its key's name and link, as others", () => {
    const job = notificationJob({
      deliveryId: "0190c3a0-0000-7000-8000-000000000001",
      reason: "firing",
      channel: { id: 1, type: "webhook", target: "https://hooks.example.com/x" },
      alert: snapshot(5, 7),
      apiKeyName: "billing",
      alertUrl: "http://console.example.com/alerts/5",
      others: [
        { alert: snapshot(6, 8), apiKeyName: "search", alertUrl: "http://console.example.com/alerts/6" },
        { alert: snapshot(7, 9) },
      ],
    });
    expect(notificationJobSchema.parse(job)).toEqual(job);
    expect(job.alert).toMatchObject({ id: 5, apiKeyName: "billing" });
    expect(job.alertUrl).toBe("http://console.example.com/alerts/5");
    expect(job.others).toEqual([
      expect.objectContaining({
        id: 6,
        apiKeyName: "search",
        alertUrl: "http://console.example.com/alerts/6",
      }),
      expect.not.objectContaining({ apiKeyName: expect.anything() }),
    ]);
  });

  it("has no others when it is about one alert", () => {
    const job = notificationJob({
      deliveryId: "0190c3a0-0000-7000-8000-000000000002",
      reason: "firing",
      channel: { id: 1, type: "email", target: "ops@example.com" },
      alert: snapshot(5, 7),
      others: [],
    });
    expect(job).not.toHaveProperty("others");
  });
});
