// End to end, through the whole product: slow calls through the edge → anomaly detector →
// alerts service → notifier → a real SMTP server, a Slack-compatible receiver and a signed
// webhook receiver. Every service runs as its own process on real Kafka, Postgres and Redis.
import { createHmac } from "node:crypto";
import { dlqTopic, topics } from "@apimon/events";
import { type ConsumerRunner, createConsumerRunner, subscription } from "@apimon/kafka";
import {
  type HttpReceiver,
  type SmtpReceiver,
  startHttpReceiver,
  startSmtpReceiver,
  testLogger,
  uniqueName,
  waitFor,
} from "@apimon/testkit";
import { type FullStack, startFullStack } from "./lib/full-stack";

const WEBHOOK_SECRET = "e2e-webhook-signing-secret-0123";

interface AlertView {
  id: number;
  type: string;
  severity: string;
  status: string;
  apiKeyId: number | null;
  endpoint: string | null;
  occurrences: number;
  observedValue: number;
  lastSeenAt: string;
  silencedBy: number | null;
}
interface DeliveryView {
  deliveryId: string;
  channelId: number;
  attempt: number;
  status: string;
  responseCode: number | null;
}
interface TestDeliveryView extends DeliveryView {
  attempts: DeliveryView[];
}

let stack: FullStack;
let smtp: SmtpReceiver;
let http: HttpReceiver;
let dlq: ConsumerRunner;
const dlqRecords: string[] = [];

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  http = await startHttpReceiver();
  stack = await startFullStack({
    label: "alerts-e2e",
    services: ["demo-upstream", "keys", "edge", "anomaly-detector", "alerts", "notifier"],
    env: {
      "anomaly-detector": {
        DETECTOR_SETTINGS_POLL_MS: "300",
        DETECTOR_TICK_MS: "300",
        DETECTOR_UPDATE_INTERVAL_MS: "1000",
      },
      alerts: { ALERTS_SCHEDULER_MS: "300" },
      notifier: {
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        NOTIFIER_ALLOW_PRIVATE_TARGETS: "true",
        NOTIFIER_MAX_ATTEMPTS: "3",
        NOTIFIER_BACKOFF_BASE_MS: "100",
        NOTIFIER_BACKOFF_CAP_MS: "400",
      },
    },
  });
  dlq = createConsumerRunner({
    kafka: stack.kafka,
    groupId: uniqueName("alerts-e2e-dlq"),
    logger: testLogger("alerts-e2e"),
    topicPrefix: stack.prefix,
    maxWaitTimeMs: 200,
    subscriptions: [
      subscription(dlqTopic(topics.notifications), async (messages) => {
        for (const m of messages) dlqRecords.push(JSON.stringify(m.value));
      }),
    ],
  });
  await dlq.start();
}, 240_000);

afterAll(async () => {
  await dlq?.stop();
  await stack?.stop();
  await http?.close();
  await smtp?.close();
});

const alertsFor = async (apiKeyId: number) =>
  (await stack.admin<{ items: AlertView[] }>("alerts", "GET", `/api/v1/alerts?apiKeyId=${apiKeyId}`)).items;

const webhookBodies = () =>
  http.requests("/hook").map(
    (r) =>
      JSON.parse(r.body) as {
        reason: string;
        alert: { id: number | null };
        others?: { id: number | null }[];
      },
  );

describe("alerts end to end", () => {
  it("raises, deduplicates, escalates, reminds, acknowledges and resolves a response-time alert", async () => {
    // Reminders every 2 s, resolution after 4 quiet seconds: the test's clock, not production's.
    // Critical from 3 s (not 2 s), so that a loaded machine stretching the 1.2 s call by most of
    // a second still gives a warning first.
    await stack.admin("alerts", "PUT", "/api/v1/alerts/settings", {
      alertThresholds: { quietPeriodSeconds: 4, response_time: { warning: 1, critical: 3 } },
      repeatIntervalSeconds: 2,
      escalation: { enabled: false },
    });
    await stack.admin("alerts", "POST", "/api/v1/alerts/channels", {
      name: "ops mail",
      type: "email",
      target: "ops@example.com",
    });
    await stack.admin("alerts", "POST", "/api/v1/alerts/channels", {
      name: "slack",
      type: "slack",
      target: http.url("/slack"),
    });
    await stack.admin("alerts", "POST", "/api/v1/alerts/channels", {
      name: "hook",
      type: "webhook",
      target: http.url("/hook"),
      secret: WEBHOOK_SECRET,
    });
    // The detector polls the settings: give it a moment to see the short quiet period.
    await new Promise((r) => setTimeout(r, 1000));

    const { key, id } = await stack.newKey();
    const call = (ms: number) =>
      fetch(`${stack.url("edge")}/api/slow?ms=${ms}`, { headers: { "x-api-key": key } }).then(
        (r) => r.status,
      );

    // 1. A slow call (1.2 s > 1.0 s) opens a warning alert, visible in the API within seconds.
    expect(await call(1200)).toBe(200);
    const answeredAt = Date.now();
    await waitFor(async () => (await alertsFor(id)).length === 1, {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: "the response_time alert",
    });
    const visibleAfter = Date.now() - answeredAt;
    const [alert] = await alertsFor(id);
    expect(alert).toMatchObject({
      type: "response_time",
      severity: "warning",
      status: "firing",
      apiKeyId: id,
      endpoint: expect.stringContaining("/api/slow"),
      occurrences: 1,
    });
    if (!alert) throw new Error("no alert");

    // 2. Email, Slack and the signed webhook all hear about it.
    await waitFor(() => smtp.messages.length >= 1, { timeoutMs: 30_000, what: "the alert email" });
    const mail = smtp.messages[0];
    expect(mail?.to).toContain("ops@example.com");
    expect(mail?.raw).toContain("response_time");
    await waitFor(() => http.requests("/slack").length >= 1, {
      timeoutMs: 30_000,
      what: "the Slack message",
    });
    expect(JSON.parse(http.requests("/slack")[0]?.body ?? "{}")).toHaveProperty("blocks");
    await waitFor(() => http.requests("/hook").length >= 1, { timeoutMs: 30_000, what: "the webhook" });
    const hook = http.requests("/hook")[0];
    if (!hook) throw new Error("no webhook");
    const expected = `sha256=${createHmac("sha256", WEBHOOK_SECRET)
      .update(`${hook.headers["x-timestamp"]}.${hook.body}`)
      .digest("hex")}`;
    expect(hook.headers["x-signature"]).toBe(expected);
    expect(hook.headers["x-delivery-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(webhookBodies()[0]).toMatchObject({ reason: "firing", alert: { id: alert.id } });

    // 3. A second slow call does not open another alert or notify again: it counts into the open
    // one, with its value and time (the detector reports a firing condition's matches at most once
    // per update interval, here a second, which the first call's 1.2 s already spans).
    expect(await call(1400)).toBe(200);
    await waitFor(async () => (await alertsFor(id))[0]?.occurrences === 2, {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: "the second match counted into the alert",
    });
    const counted = await alertsFor(id);
    expect(counted.map((a) => [a.id, a.severity])).toEqual([[alert.id, "warning"]]);
    expect(counted[0]?.observedValue).toBeGreaterThanOrEqual(1.4);
    expect(Date.parse(counted[0]?.lastSeenAt ?? "")).toBeGreaterThan(Date.parse(alert.lastSeenAt));
    await new Promise((r) => setTimeout(r, 2000)); // several detector ticks
    expect(webhookBodies().filter((b) => b.reason === "firing")).toHaveLength(1);

    // 4. A slower call (3.2 s > 3.0 s) escalates the same alert in place and notifies again.
    expect(await call(3200)).toBe(200);
    await waitFor(async () => (await alertsFor(id))[0]?.severity === "critical", {
      timeoutMs: 30_000,
      what: "the escalation",
    });
    const escalated = await alertsFor(id);
    expect(escalated).toHaveLength(1);
    expect(escalated[0]?.id).toBe(alert.id);
    await waitFor(() => webhookBodies().some((b) => b.reason === "escalated"), {
      timeoutMs: 30_000,
      what: "the escalation notice",
    });

    // 5. Reminders while it fires unacknowledged; none once acknowledged.
    await waitFor(() => webhookBodies().some((b) => b.reason === "reminder"), {
      timeoutMs: 30_000,
      what: "a reminder",
    });
    const acked = await stack.admin<AlertView>("alerts", "POST", `/api/v1/alerts/${alert.id}/acknowledge`, {
      by: "e2e",
      note: "looking",
    });
    expect(acked.status).toBe("acknowledged");
    await new Promise((r) => setTimeout(r, 1000)); // a reminder already in flight may land
    const remindersAtAck = webhookBodies().filter((b) => b.reason === "reminder").length;
    await new Promise((r) => setTimeout(r, 5000)); // more than two repeat intervals
    expect(webhookBodies().filter((b) => b.reason === "reminder").length).toBe(remindersAtAck);

    // 6. No slow call for the quiet period: resolved, and listed in the history.
    await waitFor(async () => (await alertsFor(id)).length === 0, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: "the alert to resolve",
    });
    const history = await stack.admin<{ items: AlertView[] }>(
      "alerts",
      "GET",
      `/api/v1/alerts/history?apiKeyId=${id}&status=resolved`,
    );
    expect(history.items.map((a) => [a.id, a.status])).toEqual([[alert.id, "resolved"]]);
    const detail = await stack.admin<{ timeline: { kind: string }[]; deliveries: DeliveryView[] }>(
      "alerts",
      "GET",
      `/api/v1/alerts/${alert.id}`,
    );
    expect(detail.deliveries.length).toBeGreaterThanOrEqual(3);
    expect(detail.timeline.length).toBeGreaterThanOrEqual(3);
    process.stdout.write(`slow call → alert in GET /api/v1/alerts after ${visibleAfter} ms\n`);
  });

  it("retries a flaky receiver to one success, dead-letters a dead one, and never lets it delay email", async () => {
    // A receiver answering 500 twice, then 200: the channel test returns its successful record.
    http.script("/flaky", [{ status: 500 }, { status: 500 }, { status: 200 }]);
    const flaky = await stack.admin<{ id: number }>("alerts", "POST", "/api/v1/alerts/channels", {
      name: "flaky",
      type: "webhook",
      target: http.url("/flaky"),
      secret: WEBHOOK_SECRET,
    });
    const record = await stack.admin<TestDeliveryView>(
      "alerts",
      "POST",
      `/api/v1/alerts/channels/${flaky.id}/test`,
    );
    expect(record).toMatchObject({ channelId: flaky.id, attempt: 3, status: "succeeded", responseCode: 200 });
    expect(record.attempts.map((a) => [a.attempt, a.status, a.responseCode])).toEqual([
      [1, "retrying", 500],
      [2, "retrying", 500],
      [3, "succeeded", 200],
    ]);
    const attempts = await stack.db.prisma.notificationDelivery.findMany({
      where: { channelId: flaky.id },
      orderBy: { attempt: "asc" },
    });
    expect(attempts.map((a) => [a.attempt, a.status, a.responseCode])).toEqual([
      [1, "retrying", 500],
      [2, "retrying", 500],
      [3, "succeeded", 200],
    ]);
    expect(http.requests("/flaky")).toHaveLength(3);

    // A receiver that always fails, held on its first request: an email test meanwhile completes.
    http.script("/dead", [{ status: 503 }]);
    const release = http.hold("/dead");
    const dead = await stack.admin<{ id: number }>("alerts", "POST", "/api/v1/alerts/channels", {
      name: "dead",
      type: "webhook",
      target: http.url("/dead"),
    });
    const email = await stack.admin<{ id: number }>("alerts", "POST", "/api/v1/alerts/channels", {
      name: "mail 2",
      type: "email",
      target: "oncall@example.com",
    });
    let deadDone = false;
    const deadTest = stack
      .admin<DeliveryView>("alerts", "POST", `/api/v1/alerts/channels/${dead.id}/test`)
      .finally(() => {
        deadDone = true;
      });
    await waitFor(() => http.requests("/dead").length === 1, { what: "the dead receiver's first request" });
    const emailRecord = await stack.admin<DeliveryView>(
      "alerts",
      "POST",
      `/api/v1/alerts/channels/${email.id}/test`,
    );
    expect(emailRecord).toMatchObject({ channelId: email.id, status: "succeeded" });
    expect(deadDone).toBe(false); // the webhook was still stuck on its first attempt
    release();

    const deadRecord = await deadTest;
    expect(deadRecord).toMatchObject({ channelId: dead.id, attempt: 3, status: "failed", responseCode: 503 });
    await waitFor(() => dlqRecords.some((r) => r.includes(deadRecord.deliveryId)), {
      timeoutMs: 30_000,
      what: "the job in notifications.v1.dlq",
    });
  });

  it("holds back a silenced key's alert until the silence is ended, then notifies it once", async () => {
    // A long quiet period: the alert must still fire when the silence ends.
    await stack.admin("alerts", "PUT", "/api/v1/alerts/settings", {
      alertThresholds: { quietPeriodSeconds: 120, response_time: { warning: 1, critical: 3 } },
      repeatIntervalSeconds: 3600,
      escalation: { enabled: false },
    });
    await new Promise((r) => setTimeout(r, 1000)); // the detector polls the settings
    const { key, id } = await stack.newKey();
    const silence = await stack.admin<{ id: number; state: string }>(
      "alerts",
      "POST",
      "/api/v1/alerts/silences",
      {
        apiKeyId: id,
        endsAt: new Date(Date.now() + 600_000).toISOString(),
        comment: "deploy of the slow endpoint",
      },
    );
    expect(silence.state).toBe("active");

    const res = await fetch(`${stack.url("edge")}/api/slow?ms=1200`, { headers: { "x-api-key": key } });
    expect(res.status).toBe(200);
    await waitFor(async () => (await alertsFor(id)).length === 1, {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: "the silenced alert",
    });
    const [alert] = await alertsFor(id);
    if (!alert) throw new Error("no alert");
    expect(alert.silencedBy).toBe(silence.id);
    // The earlier tests' alerts are resolved or about other keys: this is the one held back.
    expect((await stack.admin<{ silenced: number }>("alerts", "GET", "/api/v1/alerts/counts")).silenced).toBe(
      1,
    );
    const about = () => webhookBodies().filter((b) => b.alert.id === alert.id);
    await new Promise((r) => setTimeout(r, 2000)); // several scheduler passes
    expect(about()).toEqual([]);

    const ended = await stack.admin<{ state: string }>(
      "alerts",
      "DELETE",
      `/api/v1/alerts/silences/${silence.id}`,
    );
    expect(ended.state).toBe("expired");
    await waitFor(() => about().length >= 1, { timeoutMs: 30_000, what: "the held-back notification" });
    await new Promise((r) => setTimeout(r, 1500)); // a second one would have landed by now
    expect(about().map((b) => b.reason)).toEqual(["firing"]);
    const detail = await stack.admin<{
      silencedBy: number | null;
      timeline: { kind: string; silenceId: number | null }[];
    }>("alerts", "GET", `/api/v1/alerts/${alert.id}`);
    expect(detail.silencedBy).toBeNull();
    expect(detail.timeline.map((e) => [e.kind, e.silenceId])).toEqual([
      ["opened", silence.id],
      ["released", null],
    ]);
  });

  it("judges a key with a threshold override by its own thresholds, and another key by the global ones", async () => {
    const lenient = await stack.newKey();
    const strict = await stack.newKey();
    await stack.admin("alerts", "PUT", "/api/v1/alerts/settings", {
      alertThresholds: {
        response_time: { warning: 1, critical: 3 },
        overrides: [
          { apiKeyId: lenient.id, response_time: { warning: 2, critical: 10 }, note: "batch client" },
        ],
      },
    });
    await new Promise((r) => setTimeout(r, 1000)); // the detector polls the settings
    const call = async (key: string, ms: number) => {
      const res = await fetch(`${stack.url("edge")}/api/slow?ms=${ms}`, { headers: { "x-api-key": key } });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    };
    await Promise.all([call(lenient.key, 1200), call(strict.key, 1200)]);
    await waitFor(async () => (await alertsFor(strict.id)).length === 1, {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: "the alert of the key without an override",
    });
    // The lenient key's events are judged in order: once its 2.2 s call has alerted, its 1.2 s
    // call before it was judged too, and did not open the alert.
    await call(lenient.key, 2200);
    await waitFor(async () => (await alertsFor(lenient.id)).length === 1, {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: "the lenient key's alert",
    });
    const [alert] = await alertsFor(lenient.id);
    if (!alert) throw new Error("no alert");
    const detail = await stack.admin<{
      occurrences: number;
      threshold: number;
      message: string;
      severity: string;
    }>("alerts", "GET", `/api/v1/alerts/${alert.id}`);
    expect(detail).toMatchObject({ occurrences: 1, threshold: 2, severity: "warning" });
    // The alerts service names the key in the message: `set for key "name" (ak_…, #id)`.
    expect(detail.message).toMatch(
      new RegExp(
        `slower than the warning threshold of 2 s set for key "[^"]+" \\(ak_[^,]+, #${lenient.id}\\)$`,
      ),
    );
  });

  it("tells of alerts of one endpoint opening, rising, then resolving, close together in one message per channel", async () => {
    // Quiet for 40 s, they resolve after their openings and rises were told (each 12 s after
    // the group's first).
    const settings = {
      alertThresholds: { quietPeriodSeconds: 40, response_time: { warning: 1, critical: 3 } },
      repeatIntervalSeconds: 3600,
      escalation: { enabled: false },
    };
    // Let out whatever the earlier tests' alerts left held (grouping off), then group for 12 s, and
    // wait until the slow endpoint's last notification is older than that: the first alert of
    // this test is then told of at once.
    await stack.admin("alerts", "PUT", "/api/v1/alerts/settings", { ...settings, groupIntervalSeconds: 0 });
    await waitFor(
      async () =>
        (
          await stack.admin<{ items: { heldUntil: string | null }[] }>("alerts", "GET", "/api/v1/alerts")
        ).items.every((a) => a.heldUntil === null),
      { timeoutMs: 10_000, what: "no alert held" },
    );
    await stack.admin("alerts", "PUT", "/api/v1/alerts/settings", { ...settings, groupIntervalSeconds: 12 });
    await new Promise((r) => setTimeout(r, 12_500));

    const [first, second, third] = [await stack.newKey(), await stack.newKey(), await stack.newKey()];
    const slowCall = async (key: string, ms = 1200) => {
      const res = await fetch(`${stack.url("edge")}/api/slow?ms=${ms}`, { headers: { "x-api-key": key } });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    };
    await slowCall(first.key);
    await waitFor(async () => (await alertsFor(first.id)).length === 1, {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: "the first key's alert",
    });
    const [a] = await alertsFor(first.id);
    if (!a) throw new Error("no alert");
    const mailsBefore = smtp.messages.length;
    await Promise.all([slowCall(second.key), slowCall(third.key)]);
    await waitFor(
      async () => (await alertsFor(second.id)).length + (await alertsFor(third.id)).length === 2,
      {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: "the two other keys' alerts",
      },
    );
    const [b] = await alertsFor(second.id);
    const [c] = await alertsFor(third.id);
    if (!b || !c) throw new Error("no alert");
    const held = await stack.admin<{ heldUntil: string | null }>("alerts", "GET", `/api/v1/alerts/${b.id}`);
    expect(held.heldUntil).not.toBeNull();

    const ids = [a.id, b.id, c.id];
    const bodies = () =>
      webhookBodies().filter((body) =>
        [body.alert, ...(body.others ?? [])].some((x) => ids.includes(x.id as number)),
      );
    await waitFor(() => bodies().length >= 2, { timeoutMs: 30_000, what: "the grouped webhook" });
    await new Promise((r) => setTimeout(r, 1500)); // a third one would have landed by now
    const [lower, higher] = b.id < c.id ? [b.id, c.id] : [c.id, b.id];
    expect(
      bodies().map((body) => [body.reason, body.alert.id, (body.others ?? []).map((o) => o.id)]),
    ).toEqual([
      ["firing", a.id, []],
      ["firing", lower, [higher]],
    ]);
    // One email about the two, by their number, type and endpoint.
    await waitFor(
      () => smtp.messages.slice(mailsBefore).some((m) => m.raw.includes("[WARNING] 2 response_time alerts")),
      {
        timeoutMs: 30_000,
        what: "the grouped email",
      },
    );
    // Each email channel gets one (the earlier tests made two).
    // (The earlier tests' alerts resolving meanwhile may send a grouped resolution: not this.)
    const grouped = smtp.messages
      .slice(mailsBefore)
      .filter((m) => m.raw.includes("[WARNING] 2 response_time alerts"));
    const recipients = grouped.map((m) => m.to.join(","));
    expect(recipients).toContain("ops@example.com");
    expect(new Set(recipients).size).toBe(grouped.length);
    for (const mail of grouped)
      expect(mail.raw).toMatch(/\[WARNING\] 2 response_time alerts on [^\r\n]*\/api\/slow/);
    const detail = await stack.admin<{ timeline: { kind: string }[] }>(
      "alerts",
      "GET",
      `/api/v1/alerts/${b.id}`,
    );
    expect(detail.timeline.map((e) => e.kind)).toEqual(["opened", "grouped"]);
    // The alert named second lists the message's deliveries, which are kept under the first.
    await waitFor(
      async () =>
        (
          await stack.admin<{ deliveries: { alertId: number; otherAlertIds: number[]; status: string }[] }>(
            "alerts",
            "GET",
            `/api/v1/alerts/${higher}`,
          )
        ).deliveries.some(
          (d) => d.alertId === lower && d.otherAlertIds.includes(higher) && d.status === "succeeded",
        ),
      { timeoutMs: 30_000, what: "the grouped message's deliveries on the second alert's page" },
    );

    // They rise to critical: the first rise is told at once, the two after it in one message.
    const critical = async (id: number) =>
      (await stack.admin<{ severity: string }>("alerts", "GET", `/api/v1/alerts/${id}`)).severity ===
      "critical";
    const mailsBeforeRise = smtp.messages.length;
    await slowCall(first.key, 3200);
    await waitFor(() => critical(a.id), { timeoutMs: 30_000, intervalMs: 100, what: "the first rise" });
    await Promise.all([slowCall(second.key, 3200), slowCall(third.key, 3200)]);
    await waitFor(async () => (await critical(b.id)) && (await critical(c.id)), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: "the two other rises",
    });
    const risen = await stack.admin<{ heldUntil: string | null; lastNotifiedAt: string | null }>(
      "alerts",
      "GET",
      `/api/v1/alerts/${c.id}`,
    );
    expect(risen.heldUntil).not.toBeNull();
    expect(risen.lastNotifiedAt).not.toBeNull();
    const rises = () => bodies().filter((body) => body.reason === "escalated");
    await waitFor(() => rises().length >= 2, { timeoutMs: 30_000, what: "the grouped rise" });
    await new Promise((r) => setTimeout(r, 1500)); // a third one would have landed by now
    expect(rises().map((body) => [body.alert.id, (body.others ?? []).map((o) => o.id)])).toEqual([
      [a.id, []],
      [lower, [higher]],
    ]);
    await waitFor(
      () =>
        smtp.messages
          .slice(mailsBeforeRise)
          .some((m) =>
            /\[CRITICAL\] 2 response_time alerts on [^\r\n]*\/api\/slow \(escalated\)/.test(m.raw),
          ),
      { timeoutMs: 30_000, what: "the grouped rise's email" },
    );
    expect(
      (
        await stack.admin<{ timeline: { kind: string }[] }>("alerts", "GET", `/api/v1/alerts/${c.id}`)
      ).timeline.map((e) => e.kind),
    ).toEqual(["opened", "grouped", "escalated", "grouped"]);

    // Their resolutions: each told once, and not one message each.
    const resolutions = () => bodies().filter((body) => body.reason === "resolved");
    const told = () => resolutions().flatMap((body) => [body.alert, ...(body.others ?? [])].map((x) => x.id));
    await waitFor(() => told().length >= 3, { timeoutMs: 60_000, what: "the three resolutions" });
    await new Promise((r) => setTimeout(r, 1500)); // another would have landed by now
    expect([...told()].sort((x, y) => (x as number) - (y as number))).toEqual([...ids].sort((x, y) => x - y));
    expect(resolutions().length).toBeLessThan(3);
  }, 150_000);
});
