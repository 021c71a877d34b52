import { makeUsageEvent } from "@apimon/testkit";
import { newEventId } from "./ids";
import { usageEventSchema } from "./schemas";
import { allTopics, dlqTopic, topics } from "./topics";

const usageEvent = makeUsageEvent({ apiKeyId: 7, responseTimeMs: 12.5 });

describe("event contracts", () => {
  it("accepts a well-formed usage event and keys it by API key", () => {
    const parsed = usageEventSchema.parse(usageEvent);
    expect(topics.usageEvents.key(parsed)).toBe("7");
  });

  it("keys an auth failure by its client source: an IPv6 client's /64 on one partition", () => {
    const failure = (clientIp: string) =>
      topics.authFailures.key({
        id: newEventId(),
        occurredAt: new Date(0).toISOString(),
        reason: "invalid",
        clientIp,
        endpoint: "/",
        method: "GET",
      });
    expect(failure("203.0.113.9")).toBe("203.0.113.9");
    expect(failure("2001:db8:0:12:1::1")).toBe("2001:db8:0:12::/64");
    expect(failure("2001:db8:0:12:ffff::2")).toBe("2001:db8:0:12::/64");
  });

  it("rejects a usage event with a missing or mistyped field", () => {
    const { statusCode: _, ...missing } = usageEvent;
    expect(usageEventSchema.safeParse(missing).success).toBe(false);
    expect(usageEventSchema.safeParse({ ...usageEvent, apiKeyId: "7" }).success).toBe(false);
  });

  it("lets only the compacted key registry carry tombstones", () => {
    expect(topics.keyChanges.cleanupPolicy).toBe("compact");
    expect(Object.values(topics).filter((t) => t.tombstones)).toEqual([topics.keyChanges]);
  });

  it("catalogs every DESIGN.md topic and a DLQ for each", () => {
    expect(allTopics().map((t) => t.name)).toEqual([
      "usage.events.v1",
      "auth.failures.v1",
      "keys.changes.v1",
      "alerts.signals.v1",
      "notifications.v1",
      "usage.events.v1.dlq",
      "auth.failures.v1.dlq",
      "keys.changes.v1.dlq",
      "alerts.signals.v1.dlq",
      "notifications.v1.dlq",
    ]);
    expect(dlqTopic(topics.usageEvents).name).toBe("usage.events.v1.dlq");
  });

  it("issues uuid v7 event ids in creation order", () => {
    const ids = Array.from({ length: 50 }, () => newEventId());
    expect(new Set(ids).size).toBe(50);
    expect(
      ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)),
    ).toBe(true);
    expect([...ids].sort()).toEqual(ids);
  });
});
