import { makeJob } from "../../test/fixtures";
import type { HttpAnswer, HttpClient, HttpPostRequest } from "../delivery/http-client";
import { TargetRefusedError } from "../delivery/http-client";
import { verifyWebhookSignature } from "../domain/signature";
import { createEmailSender, type MailTransport, recipients } from "./email-sender";
import type { ChannelInfo } from "./sender";
import { createSlackSender } from "./slack-sender";
import { createWebhookSender } from "./webhook-sender";

const signal = new AbortController().signal;
const now = new Date("2026-11-27T12:00:05.000Z");
const webhookChannel: ChannelInfo = { id: 3, type: "webhook", enabled: true, secret: "whsec-unit" };

/** An HTTP client that records requests and answers from a script. */
function scriptedHttp(answers: Array<HttpAnswer | Error>) {
  const requests: Array<{ url: string } & HttpPostRequest> = [];
  const http: HttpClient = {
    async post(url, req) {
      requests.push({ url, ...req });
      const next = answers.shift();
      if (!next) throw new Error("no scripted answer left");
      if (next instanceof Error) throw next;
      return next;
    },
    close: async () => {},
  };
  return { http, requests };
}

/** A failed send worth another attempt; toEqual reads an undefined retryAfterMs as absent. */
const retriableFailure = (responseCode: number | null, error: string, retryAfterMs?: number) => ({
  ok: false,
  retriable: true,
  responseCode,
  error,
  retryAfterMs,
});

/** A failed send that no retry can fix. */
const permanentFailure = (responseCode: number | null, error: string) => ({
  ok: false,
  retriable: false,
  responseCode,
  error,
});

describe("webhook sender", () => {
  it("POSTs the signed JSON body, with the alert's console link, and delivery id and timestamp headers", async () => {
    const { http, requests } = scriptedHttp([{ status: 204, headers: {}, body: "" }]);
    const job = { ...makeJob(), alertUrl: "http://console.example.com/alerts/12" };
    const result = await createWebhookSender({ http, clock: () => now }).send({
      job,
      channel: webhookChannel,
      signal,
    });
    expect(result).toEqual({ ok: true, responseCode: 204 });
    const [req] = requests;
    expect(req?.url).toBe(job.target);
    expect(JSON.parse(req?.body ?? "")).toEqual({
      deliveryId: job.deliveryId,
      reason: "firing",
      alert: job.alert,
      alertUrl: "http://console.example.com/alerts/12",
      sentAt: "2026-11-27T12:00:05.000Z",
    });
    expect(req?.headers).toEqual({
      "content-type": "application/json",
      "x-delivery-id": job.deliveryId,
      "x-timestamp": "1795780805",
      "x-signature": expect.stringMatching(/^sha256=[0-9a-f]{64}$/),
    });
    expect(
      verifyWebhookSignature({
        secret: "whsec-unit",
        timestamp: req?.headers["x-timestamp"] ?? "",
        body: req?.body ?? "",
        signature: req?.headers["x-signature"] ?? "",
        now,
      }),
    ).toBe(true);
  });

  it("carries the grouped alerts in `others`, as the job has them, under the signature", async () => {
    const { http, requests } = scriptedHttp([{ status: 204, headers: {}, body: "" }]);
    const first = makeJob().alert;
    const others = [
      {
        ...first,
        id: 13,
        apiKeyId: 8,
        apiKeyName: "billing",
        alertUrl: "http://console.example.com/alerts/13",
      },
      { ...first, id: 14, apiKeyId: 9, severity: "warning" as const },
    ];
    const job = { ...makeJob({ others }), alertUrl: "http://console.example.com/alerts/12" };
    await createWebhookSender({ http, clock: () => now }).send({ job, channel: webhookChannel, signal });
    const body = requests[0]?.body ?? "";
    expect(JSON.parse(body)).toEqual({
      deliveryId: job.deliveryId,
      reason: "firing",
      alert: job.alert,
      alertUrl: "http://console.example.com/alerts/12",
      others,
      sentAt: "2026-11-27T12:00:05.000Z",
    });
    expect(Object.keys(JSON.parse(body))).toEqual([
      "deliveryId",
      "reason",
      "alert",
      "alertUrl",
      "others",
      "sentAt",
    ]);
    expect(
      verifyWebhookSignature({
        secret: "whsec-unit",
        timestamp: requests[0]?.headers["x-timestamp"] ?? "",
        body,
        signature: requests[0]?.headers["x-signature"] ?? "",
        now,
      }),
    ).toBe(true);
  });

  it("sends no `others` for a job about one alert", async () => {
    const { http, requests } = scriptedHttp([{ status: 204, headers: {}, body: "" }]);
    await createWebhookSender({ http, clock: () => now }).send({
      job: makeJob(),
      channel: webhookChannel,
      signal,
    });
    expect(JSON.parse(requests[0]?.body ?? "")).not.toHaveProperty("others");
  });

  it("sends no signature for a channel without a secret", async () => {
    const { http, requests } = scriptedHttp([{ status: 200, headers: {}, body: "" }]);
    await createWebhookSender({ http }).send({
      job: makeJob(),
      channel: { ...webhookChannel, secret: null },
      signal,
    });
    expect(requests[0]?.headers).not.toHaveProperty("x-signature");
  });

  it("reports 429 with Retry-After, network errors as retriable and policy refusals as permanent", async () => {
    const { http } = scriptedHttp([
      { status: 429, headers: { "retry-after": "2" }, body: "" },
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }),
      new TargetRefusedError("10.0.0.1 is a private address"),
    ]);
    const sender = createWebhookSender({ http, clock: () => now });
    const send = () => sender.send({ job: makeJob(), channel: webhookChannel, signal });
    expect(await send()).toEqual(retriableFailure(429, "HTTP 429", 2000));
    expect(await send()).toEqual(retriableFailure(null, "connect ECONNREFUSED 127.0.0.1:9"));
    expect(await send()).toEqual(permanentFailure(null, "target refused: 10.0.0.1 is a private address"));
  });
});

describe("Slack sender", () => {
  const slackChannel: ChannelInfo = { id: 4, type: "slack", enabled: true, secret: null };
  const job = makeJob({
    channel: { id: 4, type: "slack" },
    target: "https://hooks.slack.com/services/T0/B0/XYZ",
  });

  it("posts blocks through IncomingWebhook to the channel's URL", async () => {
    const { http, requests } = scriptedHttp([{ status: 200, headers: {}, body: "ok" }]);
    const result = await createSlackSender({ http, publicUrl: "http://alerts" }).send({
      job,
      channel: slackChannel,
      signal,
    });
    expect(result).toEqual({ ok: true, responseCode: 200 });
    expect(requests[0]?.url).toBe(job.target);
    const payload = JSON.parse(requests[0]?.body ?? "") as { text: string; blocks: Array<{ type: string }> };
    expect(payload.text).toBe("[CRITICAL] response_time on key 7 /users/:id – http://alerts/alerts/12");
    expect(payload.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "context", "section"]);
  });

  it("posts one message for a grouped job: a row per alert", async () => {
    const { http, requests } = scriptedHttp([{ status: 200, headers: {}, body: "ok" }]);
    const others = [{ ...job.alert, id: 13, apiKeyId: 8 }];
    await createSlackSender({ http, publicUrl: "http://alerts" }).send({
      job: { ...job, others },
      channel: slackChannel,
      signal,
    });
    expect(requests).toHaveLength(1);
    const payload = JSON.parse(requests[0]?.body ?? "") as { text: string; blocks: Array<{ type: string }> };
    expect(payload.text).toBe("[CRITICAL] 2 response_time alerts on /users/:id");
    expect(payload.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "section"]);
    expect(requests[0]?.body).toContain("<http://alerts/alerts/13|#13> key 8: critical");
  });

  it("keeps Slack's Retry-After on 429 and gives up on 404 (webhook removed)", async () => {
    const { http } = scriptedHttp([
      { status: 429, headers: { "retry-after": "7" }, body: "rate_limited" },
      { status: 404, headers: {}, body: "no_service" },
    ]);
    const sender = createSlackSender({ http, publicUrl: "http://alerts", clock: () => now });
    expect(await sender.send({ job, channel: slackChannel, signal })).toEqual(
      retriableFailure(429, "HTTP 429: rate_limited", 7000),
    );
    expect(await sender.send({ job, channel: slackChannel, signal })).toEqual(
      permanentFailure(404, "HTTP 404: no_service"),
    );
  });

  it("reports a refused Slack URL as permanent", async () => {
    const { http } = scriptedHttp([new TargetRefusedError("127.0.0.1 is a loopback address")]);
    const result = await createSlackSender({ http, publicUrl: "http://alerts" }).send({
      job,
      channel: slackChannel,
      signal,
    });
    expect(result).toEqual(permanentFailure(null, "target refused: 127.0.0.1 is a loopback address"));
  });
});

describe("email sender", () => {
  const emailChannel: ChannelInfo = { id: 5, type: "email", enabled: true, secret: null };
  const job = makeJob({ channel: { id: 5, type: "email" }, target: "ops@example.com, oncall@example.com" });

  function fakeTransport(outcome: (mail: Record<string, unknown>) => unknown) {
    const sent: Array<Record<string, unknown>> = [];
    const transport = {
      sendMail: async (mail: Record<string, unknown>) => {
        sent.push(mail);
        return outcome(mail);
      },
    } as unknown as MailTransport;
    return { transport, sent };
  }

  it("splits the address list", () => {
    expect(recipients(" a@x.io, b@x.io;c@x.io ,")).toEqual(["a@x.io", "b@x.io", "c@x.io"]);
  });

  it("sends one message to every address with subject, text and HTML", async () => {
    const { transport, sent } = fakeTransport((mail) => ({
      accepted: mail.to,
      rejected: [],
      response: "250 2.0.0 Ok: queued",
    }));
    const sender = createEmailSender({
      transport,
      from: "apimon <alerts@apimon.local>",
      publicUrl: "http://alerts",
    });
    expect(await sender.send({ job, channel: emailChannel, signal })).toEqual({
      ok: true,
      responseCode: 250,
    });
    expect(sent[0]).toMatchObject({
      from: "apimon <alerts@apimon.local>",
      to: ["ops@example.com", "oncall@example.com"],
      subject: "[CRITICAL] response_time on key 7 /users/:id",
      headers: { "X-Apimon-Delivery-Id": job.deliveryId },
    });
    expect(sent[0]?.text).toContain("Details: http://alerts/alerts/12");
    expect(sent[0]?.html).toContain('<a href="http://alerts/alerts/12">');
  });

  it("sends one message for a grouped job, naming every alert", async () => {
    const { transport, sent } = fakeTransport((mail) => ({
      accepted: mail.to,
      rejected: [],
      response: "250 Ok",
    }));
    const sender = createEmailSender({ transport, from: "a@b.c", publicUrl: "http://alerts" });
    const others = [
      { ...job.alert, id: 13, apiKeyId: 8, severity: "warning" as const },
      { ...job.alert, id: 14, apiKeyId: 9 },
    ];
    await sender.send({ job: { ...job, reason: "reminder", others }, channel: emailChannel, signal });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.subject).toBe("[CRITICAL] 3 response_time alerts on /users/:id (reminder)");
    expect(sent[0]?.text).toContain("3 response_time alerts on /users/:id are still open (reminder).");
    for (const id of [12, 13, 14]) {
      expect(sent[0]?.text).toContain(` – http://alerts/alerts/${id}\n`);
      expect(sent[0]?.html).toContain(`<a href="http://alerts/alerts/${id}">`);
    }
  });

  it("treats SMTP 5xx as permanent, 4xx and connection failures as retriable", async () => {
    const errors = [
      Object.assign(new Error("Message failed: 550 mailbox unavailable"), {
        responseCode: 550,
        permanent: true,
      }),
      Object.assign(new Error("Message failed: 451 try again later"), {
        responseCode: 451,
        permanent: false,
      }),
      Object.assign(new Error("Connection refused"), { code: "ESOCKET" }),
    ];
    const { transport } = fakeTransport(() => {
      throw errors.shift();
    });
    const sender = createEmailSender({ transport, from: "a@b.c", publicUrl: "http://alerts" });
    const send = () => sender.send({ job, channel: emailChannel, signal });
    expect(await send()).toEqual(permanentFailure(550, "Message failed: 550 mailbox unavailable"));
    expect(await send()).toMatchObject({ ok: false, retriable: true, responseCode: 451 });
    expect(await send()).toEqual(retriableFailure(null, "ESOCKET: Connection refused"));
  });

  it("notes refused recipients when others accepted the message", async () => {
    const { transport } = fakeTransport(() => ({
      accepted: ["ops@example.com"],
      rejected: ["oncall@example.com"],
      response: "250 Ok",
    }));
    const sender = createEmailSender({ transport, from: "a@b.c", publicUrl: "http://alerts" });
    expect(await sender.send({ job, channel: emailChannel, signal })).toEqual({
      ok: true,
      responseCode: 250,
      note: "refused recipients: oncall@example.com",
    });
  });
});
