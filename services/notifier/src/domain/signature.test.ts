import { createHmac } from "node:crypto";
import { signWebhook, verifyWebhookSignature } from "./signature";

const secret = "whsec-0123456789abcdef";
const body = '{"deliveryId":"0190b2c4-8f1e-7a3b-9c2d-1e2f3a4b5c6d","reason":"firing"}';
const timestamp = 1_795_780_800;
const now = new Date(timestamp * 1000 + 10_000);

describe("webhook signature", () => {
  it("is sha256= and the hex HMAC-SHA-256 of '<timestamp>.<body>' with the channel secret", () => {
    const expected = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
    expect(signWebhook(secret, timestamp, body)).toBe(`sha256=${expected}`);
    expect(signWebhook(secret, timestamp, body)).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it("verifies with the same secret, timestamp and body", () => {
    const signature = signWebhook(secret, timestamp, body);
    expect(verifyWebhookSignature({ secret, timestamp: String(timestamp), body, signature, now })).toBe(true);
  });

  it("fails for another secret, a changed body or a changed timestamp", () => {
    const signature = signWebhook(secret, timestamp, body);
    expect(verifyWebhookSignature({ secret: "other", timestamp, body, signature, now })).toBe(false);
    expect(verifyWebhookSignature({ secret, timestamp, body: `${body} `, signature, now })).toBe(false);
    expect(verifyWebhookSignature({ secret, timestamp: timestamp + 1, body, signature, now })).toBe(false);
    expect(verifyWebhookSignature({ secret, timestamp, body, signature: "sha256=00", now })).toBe(false);
  });

  it("refuses a timestamp outside the tolerance (replays)", () => {
    const signature = signWebhook(secret, timestamp, body);
    const late = new Date(timestamp * 1000 + 301_000);
    expect(verifyWebhookSignature({ secret, timestamp, body, signature, now: late })).toBe(false);
    expect(verifyWebhookSignature({ secret, timestamp: "abc", body, signature, now })).toBe(false);
  });
});
