import { makeUsageEvent } from "@apimon/testkit";
import type { UsageEvent } from "./schemas";
import { usageEventSchema } from "./schemas";
import { topics } from "./topics";
import { usageEventJson } from "./usage-event-json";

/** Strings JSON must escape or may write either way: quotes, controls, separators, surrogates. */
const HOSTILE = [
  'say "hi"',
  "back\\slash",
  "nul\u0000byte",
  "tab\tnew\nline\rreturn",
  "\u001f\u007f",
  "line\u2028separator\u2029",
  "lone \ud800 high",
  "lone \udfff low",
  "pair 😀 emoji",
  "café/ü/日本",
  "</script><!--",
  "",
];

/** A small deterministic generator, so that a failure names a reproducible case. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const POOL = [
  '"',
  "\\",
  "\u0000",
  "\n",
  "\u001f",
  " ",
  "a",
  "Z",
  "9",
  "/",
  ":",
  "é",
  "\ud83d",
  "\ude00",
  "\u2028",
];

function randomString(next: () => number, maxLength: number): string {
  let text = "";
  const length = Math.floor(next() * maxLength);
  for (let i = 0; i < length; i++) text += POOL[Math.floor(next() * POOL.length)];
  return text;
}

describe("usageEventJson", () => {
  it("writes the same text as JSON.stringify for an event as the edge builds it", () => {
    const event = makeUsageEvent({ apiKeyId: 42, userId: 7, responseTimeMs: 1.234, rateLimited: true });
    expect(usageEventJson(event)).toBe(JSON.stringify(event));
  });

  it.each(HOSTILE)("escapes %j in every string field as JSON.stringify does", (text) => {
    for (const field of ["id", "occurredAt", "endpoint", "method", "clientIp", "edgeInstance"] as const) {
      const event = makeUsageEvent({ [field]: text });
      const json = usageEventJson(event);
      expect(json).toBe(JSON.stringify(event));
      expect((JSON.parse(json) as UsageEvent)[field]).toBe(text);
    }
  });

  it("writes numbers as JSON.stringify does, non-finite ones as null", () => {
    for (const value of [
      0,
      -0,
      0.1 + 0.2,
      1e21,
      5e-7,
      123_456.789,
      Number.MAX_SAFE_INTEGER,
      Number.NaN,
      Infinity,
    ]) {
      const event = makeUsageEvent({
        responseTimeMs: value,
        statusCode: value,
        limits: {
          minute: { limit: value, remaining: value, reset: value },
          hour: { limit: 1, remaining: value, reset: 2 },
          day: { limit: value, remaining: 3, reset: value },
        },
      });
      expect(usageEventJson(event)).toBe(JSON.stringify(event));
    }
  });

  it("matches JSON.stringify on generated events with random strings and numbers", () => {
    const next = random(20261205);
    for (let i = 0; i < 2000; i++) {
      const event = makeUsageEvent({
        endpoint: randomString(next, 40),
        method: randomString(next, 16),
        clientIp: randomString(next, 20),
        edgeInstance: randomString(next, 30),
        responseTimeMs: next() * 10 ** Math.floor(next() * 8),
        statusCode: 100 + Math.floor(next() * 900),
        rateLimited: next() < 0.5,
      });
      expect(usageEventJson(event)).toBe(JSON.stringify(event));
    }
  });

  it("leaves out fields the schema does not know, as parsing with the schema would", () => {
    const event = { ...makeUsageEvent(), extra: "not in the schema" } as UsageEvent;
    const parsed = usageEventSchema.parse(JSON.parse(usageEventJson(event)));
    expect(parsed).toEqual(usageEventSchema.parse(event));
    expect(usageEventJson(event)).not.toContain("extra");
  });

  it("is how the usage events topic writes its messages", () => {
    const event = makeUsageEvent();
    expect(topics.usageEvents.serialize?.(event)).toBe(usageEventJson(event));
  });
});
