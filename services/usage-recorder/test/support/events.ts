import type { UsageEvent } from "@apimon/events";
import { makeUsageEvent } from "@apimon/testkit";

/**
 * `count` distinct usage events over 50 API keys, and the order to publish them in with
 * `duplicateShare` of them a second time, each copy somewhere after its original (as an
 * at-least-once producer would redeliver).
 */
export function eventsWithDuplicates(
  count: number,
  duplicateShare = 0.05,
): { events: UsageEvent[]; published: UsageEvent[] } {
  const base = Date.now();
  const events = Array.from({ length: count }, (_, i) =>
    makeUsageEvent({
      apiKeyId: 1 + (i % 50),
      userId: 1 + (i % 5),
      occurredAt: new Date(base + i).toISOString(),
      responseTimeMs: i % 1000,
      statusCode: i % 20 === 0 ? 500 : 200,
    }),
  );
  const published = [...events];
  const every = Math.round(1 / duplicateShare);
  for (let i = 0; i < count; i += every) {
    const at = Math.min(published.length, i + 1 + Math.floor(Math.random() * count));
    published.splice(at, 0, events[i] as UsageEvent);
  }
  return { events, published };
}
