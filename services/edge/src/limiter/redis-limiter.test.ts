import { EncodedArgs, encodeArgs } from "@apimon/redis";
import type { Limits } from "../domain/rate-limit";
import { createCommandHeads } from "./redis-limiter";

const LIMITS: Limits = { minute: 100, hour: 1000, day: 10000 };
/** 10:20:30 UTC on some day. */
const NOW = Date.UTC(2026, 11, 5, 10, 20, 30);

function headsCounting(maxEntries?: number) {
  const encoded: string[] = [];
  const heads = createCommandHeads((apiKeyId, limits, nowMs) => {
    encoded.push(apiKeyId);
    return encodeArgs([apiKeyId, limits.minute, limits.hour, limits.day, Math.floor(nowMs / 60_000)]);
  }, maxEntries);
  return { heads, encoded };
}

const text = (head: EncodedArgs) => head.bytes.toString("latin1");

describe("the limiter's encoded command heads", () => {
  it("encodes a key's head once within a minute and keeps each key's own", () => {
    const { heads, encoded } = headsCounting();
    const first = heads.get("1", LIMITS, NOW);
    expect(heads.get("1", LIMITS, NOW + 29_000)).toBe(first);
    const other = heads.get("2", LIMITS, NOW);
    expect(text(other)).not.toBe(text(first));
    expect(heads.get("2", LIMITS, NOW + 1)).toBe(other);
    expect(encoded).toEqual(["1", "2"]);
    expect(first).toBeInstanceOf(EncodedArgs);
    expect(first.count).toBe(5);
  });

  it("encodes again when a key's limits change, in any window", () => {
    const { heads, encoded } = headsCounting();
    heads.get("1", LIMITS, NOW);
    for (const limits of [
      { ...LIMITS, minute: 5 },
      { ...LIMITS, minute: 5, hour: 7 },
      { ...LIMITS, minute: 5, hour: 7, day: 9 },
    ]) {
      expect(text(heads.get("1", limits, NOW))).toBe(
        text(encodeArgs(["1", limits.minute, limits.hour, limits.day, Math.floor(NOW / 60_000)])),
      );
    }
    expect(encoded).toEqual(["1", "1", "1", "1"]);
  });

  it("starts over when the minute turns, whose counter keys are new", () => {
    const { heads, encoded } = headsCounting();
    const before = heads.get("1", LIMITS, NOW);
    const after = heads.get("1", LIMITS, NOW + 30_000);
    expect(text(after)).not.toBe(text(before));
    expect(heads.get("1", LIMITS, NOW + 30_001)).toBe(after);
    expect(encoded).toEqual(["1", "1"]);
  });

  it("keeps at most its number of keys, and starts over past it", () => {
    const { heads, encoded } = headsCounting(3);
    for (const key of ["1", "2", "3", "1", "2", "3"]) heads.get(key, LIMITS, NOW);
    expect(encoded).toEqual(["1", "2", "3"]);
    heads.get("4", LIMITS, NOW);
    heads.get("4", LIMITS, NOW);
    heads.get("1", LIMITS, NOW);
    expect(encoded).toEqual(["1", "2", "3", "4", "1"]);
  });
});
