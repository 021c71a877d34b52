import { createHmac, randomUUID } from "node:crypto";
import { attemptDeliveryId, type DlqRecord, dlqTopic, type NotificationJob, topics } from "@apimon/events";
import {
  type BatchingProducer,
  createBatchingProducer,
  type KafkaClient,
  partitionOf,
  replayDeadLetters,
  topicName,
} from "@apimon/kafka";
import { createMetricsRegistry, type Registry } from "@apimon/observability";
import {
  createTestDatabase,
  createTestTopics,
  type HttpReceiver,
  mailParts,
  type SmtpReceiver,
  startHttpReceiver,
  startSmtpReceiver,
  type TestDatabase,
  type TestTopics,
  testLogger,
  uniqueName,
  waitFor,
} from "@apimon/testkit";
import { createTransport } from "nodemailer";
import { createHttpClient, type HttpClient } from "../src/delivery/http-client";
import { createTargetPolicy } from "../src/domain/target-policy";
import { createNotifier, type Notifier, type NotifierSettings } from "../src/notifier";
import { createEmailSender } from "../src/senders/email-sender";
import { createSlackSender } from "../src/senders/slack-sender";
import { createWebhookSender } from "../src/senders/webhook-sender";
import { makeJob } from "./fixtures";

// The notifier against real Kafka, Postgres, an HTTP receiver (Slack-compatible and webhook
// paths) and a real SMTP server. One notifier (three consumer groups) serves every test; each
// test uses its own alert, so its jobs have their own key.

const logger = testLogger("notifier-int");
const PUBLIC_URL = "http://console.test:8087";
const WEBHOOK_SECRET = "whsec-integration-0123456789";

let db: TestDatabase;
let run: TestTopics;
let kafka: KafkaClient;
let prefix: string;
let producer: BatchingProducer;
let dlqProducer: BatchingProducer;
let notifier: Notifier;
let registry: Registry;
let http: HttpClient;
let receiver: HttpReceiver;
let smtp: SmtpReceiver;
let mail: ReturnType<typeof createTransport>;
const channelIds: Record<"email" | "slack" | "webhook", number> = { email: 0, slack: 0, webhook: 0 };

interface DeliveryRow {
  delivery_id: string;
  alert_id: number | null;
  channel_id: number;
  attempt: number;
  status: string;
  response_code: number | null;
  error: string | null;
  latency_ms: number | null;
}

async function rowsOf(deliveryId: string): Promise<DeliveryRow[]> {
  const ids = [deliveryId, ...[1, 2, 3, 4].map((a) => attemptDeliveryId(deliveryId, a))];
  return db.prisma.$queryRaw<DeliveryRow[]>`
    SELECT delivery_id::text, alert_id, channel_id, attempt, status::text, response_code, error, latency_ms
    FROM notification_deliveries WHERE delivery_id = ANY(${ids}::uuid[]) ORDER BY attempt`;
}

async function finalRow(deliveryId: string): Promise<DeliveryRow | undefined> {
  return (await rowsOf(deliveryId)).find(
    (r) => r.delivery_id === deliveryId && (r.status === "succeeded" || r.status === "failed"),
  );
}

function waitForFinal(deliveryId: string, what: string): Promise<DeliveryRow> {
  return waitFor(() => finalRow(deliveryId), { timeoutMs: 30_000, intervalMs: 100, what });
}

async function newAlert(): Promise<number> {
  const alert = await db.prisma.alert.create({
    data: {
      fingerprint: `response_time:7:/users/:id:${randomUUID()}`,
      type: "response_time",
      severity: "critical",
      message: "p95 response time 2.35 s on /users/:id is above 2 s",
      apiKeyId: 7,
      endpoint: "/users/:id",
      observedValue: 2.35,
      threshold: 2,
    },
  });
  return alert.id;
}

async function newChannel(
  type: "email" | "slack" | "webhook",
  target: string,
  extra: { secret?: string; enabled?: boolean } = {},
) {
  const channel = await db.prisma.notificationChannel.create({
    data: { name: `${type} ${randomUUID()}`, type, target, ...extra },
  });
  return channel.id;
}

/** A job as the alerts service would publish it, for channel `type` and a fresh alert. */
async function job(
  type: "email" | "slack" | "webhook",
  target: string,
  overrides: Partial<NotificationJob> = {},
) {
  const alertId = await newAlert();
  const base = makeJob();
  return makeJob({
    deliveryId: randomUUID(),
    channel: { id: channelIds[type], type },
    target,
    alert: { ...base.alert, id: alertId },
    ...overrides,
  });
}

async function publish(...jobs: NotificationJob[]): Promise<void> {
  await Promise.all(jobs.map((j) => producer.publish(topics.notifications, j)));
}

/** Everything on the notifications DLQ so far. */
async function readDlq(): Promise<DlqRecord[]> {
  const records: DlqRecord[] = [];
  const consumer = kafka.consumer({ groupId: run.group("notifier-dlq-reader"), maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({
      topic: topicName(dlqTopic(topics.notifications), prefix),
      fromBeginning: true,
    });
    const seen = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          records.push(JSON.parse(String(message.value)) as DlqRecord);
          resolve();
        },
      });
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([seen, new Promise((r) => (timer = setTimeout(r, 15_000)))]);
    clearTimeout(timer);
    // Give the rest of the batch a moment; records are few and arrive together.
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** A notifier on this file's topics, receivers and database. */
function buildNotifier({
  registry: metrics = createMetricsRegistry("notifier-int", { defaultMetrics: false }),
  producer: deadLetters = dlqProducer,
  settings,
}: {
  registry?: Registry;
  producer?: BatchingProducer;
  settings: Partial<NotifierSettings>;
}): Notifier {
  return createNotifier({
    kafka,
    prisma: db.prisma,
    producer: deadLetters,
    logger,
    registry: metrics,
    senders: {
      email: createEmailSender({
        transport: mail,
        from: "apimon <alerts@apimon.local>",
        publicUrl: PUBLIC_URL,
      }),
      slack: createSlackSender({ http, publicUrl: PUBLIC_URL }),
      webhook: createWebhookSender({ http }),
    },
    settings: {
      channelTypes: ["email", "slack", "webhook"],
      groupPrefix: uniqueName("notifier"),
      topicPrefix: prefix,
      maxAttempts: 3,
      // Small waits keep the suite fast; Retry-After (1 s below) still dominates them.
      backoff: { baseMs: 20, capMs: 2000 },
      concurrency: 4,
      partitionsConcurrency: 3,
      consumersPerType: 6,
      channelCacheMs: 0,
      ...settings,
    },
  });
}

beforeAll(async () => {
  [db, receiver, smtp] = await Promise.all([createTestDatabase(), startHttpReceiver(), startSmtpReceiver()]);
  run = await createTestTopics("notifier", [topics.notifications], { logger, withDlq: true });
  ({ kafka, prefix } = run);
  producer = createBatchingProducer({ kafka, logger, topicPrefix: prefix });
  dlqProducer = createBatchingProducer({ kafka, logger, topicPrefix: prefix });
  channelIds.email = await newChannel("email", "ops@example.com, oncall@example.com");
  channelIds.slack = await newChannel("slack", receiver.url("/slack/T000/B000/XXXX"));
  channelIds.webhook = await newChannel("webhook", receiver.url("/hook"), { secret: WEBHOOK_SECRET });

  registry = createMetricsRegistry("notifier-int", { defaultMetrics: false });
  // Loopback is private: only 127.0.0.1 (the receivers) is allowlisted, as an operator would.
  http = createHttpClient({
    policy: createTargetPolicy({ allowPrivate: false, allowlist: ["127.0.0.1"] }),
    timeoutMs: 15_000,
  });
  mail = createTransport({ host: "127.0.0.1", port: smtp.port, secure: false, ignoreTLS: true });
  notifier = buildNotifier({ registry, settings: {} });
  await notifier.start();
});

afterAll(async () => {
  await notifier?.stop();
  await producer?.disconnect();
  await dlqProducer?.disconnect();
  run?.adoptGroups(...(notifier?.groupIds() ?? []));
  await run?.cleanup();
  mail?.close();
  await http?.close();
  await receiver?.close();
  await smtp?.close();
  await db?.drop();
});

describe("notifier deliveries", () => {
  it("sends an email with text and HTML bodies to a real SMTP server", async () => {
    const email = await job("email", "ops@example.com, oncall@example.com");
    await publish(email);
    const row = await waitForFinal(email.deliveryId, "the email delivery");
    expect(row).toMatchObject({
      alert_id: email.alert.id,
      channel_id: channelIds.email,
      attempt: 1,
      status: "succeeded",
      response_code: 250,
      error: null,
    });
    const received = smtp.messages.filter((m) => m.raw.includes(email.deliveryId));
    expect(received).toHaveLength(1);
    const [message] = received;
    expect(message?.from).toBe("alerts@apimon.local");
    expect(message?.to).toEqual(["ops@example.com", "oncall@example.com"]);
    const { headers, text, html } = mailParts(message?.raw ?? "");
    expect(headers).toContain("Subject: [CRITICAL] response_time on key 7 /users/:id");
    expect(headers.toLowerCase()).toContain(`x-apimon-delivery-id: ${email.deliveryId}`);
    expect(text).toContain("API key:      7");
    expect(text).toContain("Endpoint:     /users/:id");
    expect(text).toContain("Value:        2.35 s");
    expect(text).toContain("Threshold:    2 s");
    expect(text).toContain(`Details: ${PUBLIC_URL}/alerts/${email.alert.id}`);
    expect(html).toContain(
      `<a href="${PUBLIC_URL}/alerts/${email.alert.id}">View alert #${email.alert.id}</a>`,
    );
    expect(html).toContain("<td>/users/:id</td>");
  });

  it("posts Slack blocks with the severity to a Slack-compatible receiver", async () => {
    const slack = await job("slack", receiver.url("/slack/T000/B000/XXXX"));
    await publish(slack);
    const row = await waitForFinal(slack.deliveryId, "the Slack delivery");
    expect(row).toMatchObject({
      attempt: 1,
      status: "succeeded",
      response_code: 200,
      channel_id: channelIds.slack,
    });
    const posted = receiver.requests("/slack/T000/B000/XXXX").map((r) => JSON.parse(r.body));
    const mine = posted.find((p) => JSON.stringify(p).includes(`alerts/${slack.alert.id}`));
    expect(mine.text).toBe(
      `[CRITICAL] response_time on key 7 /users/:id – ${PUBLIC_URL}/alerts/${slack.alert.id}`,
    );
    expect(mine.blocks[0]).toEqual({
      type: "header",
      text: {
        type: "plain_text",
        text: ":rotating_light: [CRITICAL] response_time on key 7 /users/:id",
        emoji: true,
      },
    });
    expect(mine.blocks[2].fields).toContainEqual({ type: "mrkdwn", text: "*Severity*\ncritical" });
    expect(mine.blocks[2].fields).toContainEqual({ type: "mrkdwn", text: "*Endpoint*\n/users/:id" });
    expect(mine.blocks.at(-1)).toEqual({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `<${PUBLIC_URL}/alerts/${slack.alert.id}|View alert #${slack.alert.id}>`,
      },
    });
  });

  it("signs webhooks so that the receiver verifies them with the channel secret", async () => {
    const hook = await job("webhook", receiver.url("/hook/signed"));
    await publish(hook);
    await waitForFinal(hook.deliveryId, "the webhook delivery");
    const [request] = receiver.requests("/hook/signed");
    const timestamp = String(request?.headers["x-timestamp"]);
    const expected = createHmac("sha256", WEBHOOK_SECRET)
      .update(`${timestamp}.${request?.body}`)
      .digest("hex");
    expect(request?.headers["x-signature"]).toBe(`sha256=${expected}`);
    expect(request?.headers["x-delivery-id"]).toBe(hook.deliveryId);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(300);
    const body = JSON.parse(request?.body ?? "");
    expect(body).toEqual({
      deliveryId: hook.deliveryId,
      reason: "firing",
      alert: hook.alert,
      sentAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(Math.floor(Date.parse(body.sentAt) / 1000)).toBe(Number(timestamp));
  });

  it("delivers a grouped message once, its webhook naming every alert, its row the others too", async () => {
    const [second, third] = [await newAlert(), await newAlert()];
    const base = await job("webhook", receiver.url("/hook/grouped"));
    const others = [second, third].map((id) => ({
      ...base.alert,
      id,
      apiKeyId: 8,
      apiKeyName: "search",
      alertUrl: `${PUBLIC_URL}/alerts/${id}`,
    }));
    const grouped = { ...base, others };
    await publish(grouped);
    const row = await waitForFinal(grouped.deliveryId, "the grouped webhook");
    expect(row).toMatchObject({ alert_id: base.alert.id, status: "succeeded" });
    const [stored] = await db.prisma.$queryRaw<{ other_alert_ids: number[] }[]>`
      SELECT other_alert_ids FROM notification_deliveries WHERE delivery_id = ${grouped.deliveryId}::uuid`;
    expect(stored?.other_alert_ids).toEqual([second, third]);
    const requests = receiver.requests("/hook/grouped");
    expect(requests).toHaveLength(1);
    const body = JSON.parse(requests[0]?.body ?? "");
    expect(body).toMatchObject({ reason: "firing", alert: { id: base.alert.id }, others });
  });

  it("delivers once after 500, 500, 200, logging three attempts", async () => {
    receiver.script("/hook/flaky", [{ status: 500 }, { status: 500 }, { status: 200 }]);
    const hook = await job("webhook", receiver.url("/hook/flaky"));
    await publish(hook);
    await waitForFinal(hook.deliveryId, "the flaky webhook delivery");
    const requests = receiver.requests("/hook/flaky");
    expect(requests).toHaveLength(3);
    expect(requests.map((r) => r.headers["x-delivery-id"])).toEqual([
      hook.deliveryId,
      hook.deliveryId,
      hook.deliveryId,
    ]);
    const rows = await rowsOf(hook.deliveryId);
    expect(rows.map((r) => [r.delivery_id, r.attempt, r.status, r.response_code])).toEqual([
      [attemptDeliveryId(hook.deliveryId, 1), 1, "retrying", 500],
      [attemptDeliveryId(hook.deliveryId, 2), 2, "retrying", 500],
      [hook.deliveryId, 3, "succeeded", 200],
    ]);
    expect(rows.filter((r) => r.status === "succeeded")).toHaveLength(1);
    expect(rows.every((r) => r.latency_ms !== null && r.alert_id === hook.alert.id)).toBe(true);
  });

  it("dead-letters a webhook that always fails, while email goes out meanwhile", async () => {
    receiver.script("/hook/down", [{ status: 500, body: "upstream exploded" }]);
    const release = receiver.hold("/hook/down");
    const hook = await job("webhook", receiver.url("/hook/down"));
    const email = await job("email", "ops@example.com");
    await publish(hook);
    await waitFor(() => receiver.requests("/hook/down").length === 1, {
      timeoutMs: 30_000,
      what: "the first webhook attempt",
    });
    await publish(email);
    // The webhook's first attempt is still unanswered, and the email is delivered regardless.
    await waitForFinal(email.deliveryId, "the email sent while the webhook is failing");
    expect(await finalRow(hook.deliveryId)).toBeUndefined();
    expect(receiver.requests("/hook/down")).toHaveLength(1);

    release();
    const failed = await waitForFinal(hook.deliveryId, "the webhook to be given up");
    expect(failed).toMatchObject({
      attempt: 3,
      status: "failed",
      response_code: 500,
      error: "HTTP 500: upstream exploded",
    });
    expect((await rowsOf(hook.deliveryId)).map((r) => r.status)).toEqual(["retrying", "retrying", "failed"]);
    expect(receiver.requests("/hook/down")).toHaveLength(3);

    const dead = (await readDlq()).filter((r) => r.value?.includes(hook.deliveryId));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      sourceTopic: topicName(topics.notifications, prefix),
      consumerGroup: expect.stringMatching(/-webhook$/),
      key: `${hook.alert.id}:${hook.channel.id}`,
      valueEncoding: "utf8",
      error: "delivery failed after 3 attempt(s): HTTP 500: upstream exploded",
    });
    expect(JSON.parse(dead[0]?.value ?? "")).toEqual(hook);

    // The receiver is back: an operator replays the dead letter (apimon dlq replay) and the
    // notification goes out, under its own delivery id, after the attempts already made.
    receiver.script("/hook/down", [{ status: 200, body: "ok" }]);
    expect(await replayDeadLetters({ kafka, logger, source: topics.notifications, prefix })).toMatchObject({
      replayed: 1,
    });
    await waitFor(async () => (await finalRow(hook.deliveryId))?.status === "succeeded", {
      timeoutMs: 30_000,
      what: "the replayed delivery",
    });
    expect((await rowsOf(hook.deliveryId)).map((r) => [r.attempt, r.status])).toEqual([
      [1, "retrying"],
      [2, "retrying"],
      [3, "failed"],
      [4, "succeeded"],
    ]);
    const delivered = receiver.requests("/hook/down");
    expect(delivered).toHaveLength(4);
    expect(delivered[3]?.headers["x-delivery-id"]).toBe(hook.deliveryId);
  });

  it("goes on delivering an alert's other channels and other partitions while one target hangs", async () => {
    const release = receiver.hold("/hook/stuck");
    try {
      const stuckChannel = await newChannel("webhook", receiver.url("/hook/stuck"));
      const stuck = await job("webhook", receiver.url("/hook/stuck"), {
        channel: { id: stuckChannel, type: "webhook" },
      });
      // The same alert's message to a healthy channel: published with it, in the same slice.
      const sibling = makeJob({
        ...stuck,
        deliveryId: randomUUID(),
        channel: { id: channelIds.webhook, type: "webhook" },
        target: receiver.url("/hook"),
      });
      const { partitions } = topics.notifications;
      const held = partitionOf(topics.notifications.key(stuck), partitions);
      await publish(stuck, sibling);
      await waitFor(() => receiver.requests("/hook/stuck").length === 1, {
        timeoutMs: 15_000,
        what: "the hanging target to be reached",
      });
      // Jobs published while that delivery hangs, on the other partitions.
      const later: NotificationJob[] = [];
      while (later.length < 5) {
        const next = await job("webhook", receiver.url("/hook"));
        if (partitionOf(topics.notifications.key(next), partitions) !== held) later.push(next);
      }
      await publish(...later);
      for (const delivered of [sibling, ...later])
        expect(await waitForFinal(delivered.deliveryId, "a delivery beside the hanging one")).toMatchObject({
          status: "succeeded",
          attempt: 1,
        });
      expect(await finalRow(stuck.deliveryId)).toBeUndefined();
    } finally {
      release();
    }
  });

  it("waits as long as a 429's Retry-After asks before trying again", async () => {
    receiver.script("/hook/busy", [
      { status: 429, headers: { "retry-after": "1" }, body: "slow down" },
      { status: 200 },
    ]);
    const hook = await job("webhook", receiver.url("/hook/busy"));
    await publish(hook);
    await waitForFinal(hook.deliveryId, "the rate-limited webhook delivery");
    const [first, second] = receiver.requests("/hook/busy");
    // Backoff alone would be under 20 ms here; Retry-After: 1 makes it at least a second.
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(
      (await rowsOf(hook.deliveryId)).map((r) => [r.attempt, r.status, r.response_code, r.error]),
    ).toEqual([
      [1, "retrying", 429, "HTTP 429: slow down"],
      [2, "succeeded", 200, null],
    ]);
  });

  it("does not deliver or log a redelivered job twice", async () => {
    const hook = await job("webhook", receiver.url("/hook/once"));
    await publish(hook);
    await waitForFinal(hook.deliveryId, "the first delivery");
    // The same job again, then a marker with the same key: once the marker is done, the
    // duplicate (before it in the partition) was handled.
    const marker = makeJob({ ...hook, deliveryId: randomUUID(), target: receiver.url("/hook/marker") });
    await publish(hook);
    await publish(marker);
    await waitForFinal(marker.deliveryId, "the marker after the duplicate");
    expect(receiver.requests("/hook/once")).toHaveLength(1);
    expect(await rowsOf(hook.deliveryId)).toHaveLength(1);
  });

  it("completes a pending row that the publisher wrote under the job's delivery id", async () => {
    const hook = await job("webhook", receiver.url("/hook/pending"));
    await db.prisma.notificationDelivery.create({
      data: {
        deliveryId: hook.deliveryId,
        alertId: hook.alert.id,
        channelId: channelIds.webhook,
        attempt: 1,
        status: "pending",
      },
    });
    await publish(hook);
    await waitForFinal(hook.deliveryId, "the pending delivery to finish");
    expect(
      (await rowsOf(hook.deliveryId)).map((r) => [r.delivery_id, r.attempt, r.status, r.response_code]),
    ).toEqual([[hook.deliveryId, 1, "succeeded", 200]]);
  });

  it("fails a job of a disabled channel and drops one of a deleted channel, without retrying", async () => {
    const disabledId = await newChannel("webhook", receiver.url("/hook/disabled"), { enabled: false });
    const deletedId = await newChannel("webhook", receiver.url("/hook/deleted"));
    await db.prisma.notificationChannel.delete({ where: { id: deletedId } });
    const disabled = await job("webhook", receiver.url("/hook/disabled"), {
      channel: { id: disabledId, type: "webhook" },
    });
    const deleted = makeJob({
      ...disabled,
      deliveryId: randomUUID(),
      channel: { id: deletedId, type: "webhook" },
      target: receiver.url("/hook/deleted"),
    });
    const marker = makeJob({
      ...disabled,
      deliveryId: randomUUID(),
      channel: { id: channelIds.webhook, type: "webhook" },
      target: receiver.url("/hook/marker"),
    });
    // A test message is how one checks a channel before enabling it: it goes out.
    const test = makeJob({ ...disabled, deliveryId: randomUUID(), reason: "test" });
    await publish(disabled);
    await publish(deleted);
    await publish(test);
    await publish(marker);
    await waitForFinal(marker.deliveryId, "the marker after the cancelled jobs");
    expect(await waitForFinal(test.deliveryId, "the disabled channel's test")).toMatchObject({
      status: "succeeded",
      response_code: 200,
    });
    expect(await rowsOf(disabled.deliveryId)).toEqual([
      expect.objectContaining({
        delivery_id: disabled.deliveryId,
        attempt: 1,
        status: "failed",
        error: `channel ${disabledId} is disabled`,
      }),
    ]);
    // notification_deliveries.channel_id references the channel: a deleted one can have no row.
    expect(await rowsOf(deleted.deliveryId)).toEqual([]);
    expect(receiver.requests("/hook/disabled").map((r) => JSON.parse(r.body).reason)).toEqual(["test"]);
    expect(receiver.requests("/hook/deleted")).toEqual([]);
    const dropped = await registry.getSingleMetric("notifier_deliveries_total")?.get();
    expect(dropped?.values).toContainEqual(
      expect.objectContaining({ labels: { channel_type: "webhook", outcome: "dropped" }, value: 1 }),
    );
  });

  it("refuses a target on a private address outside the allowlist, without retrying", async () => {
    const url = receiver.url("/hook/private").replace("127.0.0.1", "127.0.0.2");
    const hook = await job("webhook", url);
    await publish(hook);
    const row = await waitForFinal(hook.deliveryId, "the refused delivery");
    expect(row).toMatchObject({
      attempt: 1,
      status: "failed",
      response_code: null,
      error:
        "target refused: 127.0.0.2 is a loopback address (set NOTIFIER_ALLOW_PRIVATE_TARGETS=true or add it to NOTIFIER_TARGET_ALLOWLIST)",
    });
    expect(receiver.requests("/hook/private")).toEqual([]);
  });
});

describe("notifier restarts", () => {
  it("resumes a job interrupted in its backoff wait at the next attempt, logging none twice", async () => {
    // Topics of its own, so that the file's main notifier does not take the job too.
    const own = await createTestTopics("notifier-restart", [topics.notifications], {
      kafka,
      logger,
      withDlq: true,
    });
    const topicPrefix = own.prefix;
    const ownProducer = createBatchingProducer({ kafka, logger, topicPrefix });
    receiver.script("/hook/restart", [{ status: 503, headers: { "retry-after": "30" } }, { status: 200 }]);
    const groupPrefix = uniqueName("notifier-restart");
    const settings = { groupPrefix, topicPrefix, channelTypes: ["webhook" as const] };
    // A 30 s Retry-After within the cap: the first notifier is still waiting when it is stopped.
    const first = buildNotifier({
      producer: ownProducer,
      settings: { ...settings, backoff: { baseMs: 20, capMs: 60_000 } },
    });
    const second = buildNotifier({ producer: ownProducer, settings });
    const hook = await job("webhook", receiver.url("/hook/restart"));
    try {
      await first.start();
      await ownProducer.publish(topics.notifications, hook);
      try {
        await waitFor(async () => (await rowsOf(hook.deliveryId)).length === 1, {
          timeoutMs: 30_000,
          what: "the first attempt's row",
        });
      } finally {
        // Ends the wait at once; the slice stays uncommitted.
        await first.stop();
      }
      expect(await finalRow(hook.deliveryId)).toBeUndefined();
      expect(receiver.requests("/hook/restart")).toHaveLength(1);

      await second.start();
      await waitForFinal(hook.deliveryId, "the resumed delivery");
    } finally {
      await second.stop();
      await ownProducer.disconnect();
      own.adoptGroups(...second.groupIds());
      await own.cleanup();
    }
    expect(receiver.requests("/hook/restart")).toHaveLength(2);
    expect(
      (await rowsOf(hook.deliveryId)).map((r) => [r.delivery_id, r.attempt, r.status, r.response_code]),
    ).toEqual([
      [attemptDeliveryId(hook.deliveryId, 1), 1, "retrying", 503],
      [hook.deliveryId, 2, "succeeded", 200],
    ]);
  });
});
