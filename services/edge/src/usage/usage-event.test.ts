import type { IncomingMessage } from "node:http";
import { performance } from "node:perf_hooks";
import { usageEventSchema } from "@apimon/events";
import { seededRandom } from "@apimon/testkit";
import { decide, type Limits, unavailableDecision } from "../domain/rate-limit";
import { createEndpointNormaliser } from "./endpoint";
import { createIsoTimestamp, createUsageEventBuilder } from "./usage-event";

// The usage publisher sends the builder's events without checking each against the schema again:
// this is the check, over the whole range of what the edge hands the builder.

/** A deterministic source of hostile and ordinary inputs. */
function randomSource(seed: number) {
  const next = seededRandom(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const text = (max: number, alphabet: readonly string[]) =>
    Array.from({ length: int(max + 1) }, () => pick(alphabet)).join("");
  const URL_PIECES = [
    "/",
    "/",
    "a",
    "Z",
    "0",
    "9",
    "-",
    "_",
    ".",
    "..",
    "%2e",
    "%2F",
    "?",
    "#",
    "=",
    "&",
    "é",
    "😀",
    "\\",
    " ",
    ":id",
  ];
  return {
    int,
    url: () =>
      pick([
        () => `/${text(30, URL_PIECES)}`,
        () => `/${text(20_000, URL_PIECES)}`,
        () => `/users/${int(1e9)}/orders/0190a6f2-3c4b-7d8e-9f01-23456789abcd?x=${text(10, URL_PIECES)}`,
        () => "/",
        () => text(50, URL_PIECES),
      ])(),
    method: () =>
      pick(["GET", "POST", "DELETE", "OPTIONS", "PROPFIND", text(40, ["A", "Z", "-", "!"]) || "X"]),
    limits: (): Limits => ({ minute: int(1_000_001), hour: int(1e9), day: int(2 ** 31) }),
    clientIp: () => pick(["127.0.0.1", "::1", "2001:db8::ff00:42:8329", "unknown", "x".repeat(64)]),
  };
}

describe("usage event builder", () => {
  it("builds events the usage schema accepts, for every request the edge can count", () => {
    const source = randomSource(20261204);
    const build = createUsageEventBuilder({
      normaliseEndpoint: createEndpointNormaliser(),
      instanceId: "e".repeat(100),
    });
    for (let i = 0; i < 3000; i++) {
      const limits = source.limits();
      const now = Date.now() + source.int(10 * 365 * 86_400_000);
      const counts = {
        minute: source.int(limits.minute + 2),
        hour: source.int(limits.hour + 2),
        day: source.int(limits.day + 2),
      };
      const decision =
        source.int(10) === 0
          ? unavailableDecision(limits, now)
          : decide(limits, counts, now, source.int(4) !== 0);
      const req = { url: source.url(), method: source.method() } as IncomingMessage;
      const event = build(
        req,
        1 + source.int(2 ** 31 - 1),
        1 + source.int(2 ** 31 - 1),
        decision,
        100 + source.int(900),
        now,
        performance.now() - source.int(100_000),
        source.clientIp(),
      );
      const checked = usageEventSchema.safeParse(event);
      if (!checked.success) throw new Error(`${JSON.stringify(event)}: ${checked.error.message}`);
      // Sent as built: the schema has nothing to strip or convert.
      expect(checked.data).toEqual(event);
    }
  });
});

describe("usage event timestamps", () => {
  it("read as Date#toISOString reads, within a second, across seconds and out of order", () => {
    const isoTimestamp = createIsoTimestamp();
    const next = seededRandom(4122026);
    const base = Date.UTC(2026, 11, 31, 23, 59, 58, 990);
    const instants = [
      ...Array.from({ length: 3000 }, (_, i) => base + i),
      ...Array.from({ length: 3000 }, () => Math.floor(next() * 4e12)),
      0,
      999,
      1000,
      -1,
      -1001,
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      Date.UTC(2100, 1, 28, 23, 59, 59, 999),
      1.5,
      base + 0.25,
      -0.5,
    ];
    for (const instant of instants) {
      expect(isoTimestamp(instant)).toBe(new Date(instant).toISOString());
    }
    expect(() => isoTimestamp(Number.NaN)).toThrow(RangeError);
  });
});
