import { z } from "zod";
import { newEventId } from "./ids";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The Unix milliseconds a uuid v7 carries in its first 48 bits. */
function millisecondsOf(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

// The ids keep their last millisecond for the life of the process, so the clocks set here are
// later than today's and later from one test to the next.
describe("event ids", () => {
  afterEach(() => jest.restoreAllMocks());

  it("are uuid v7 carrying the millisecond they were made in", () => {
    const before = Date.now();
    const ids = Array.from({ length: 2000 }, () => newEventId());
    const after = Date.now();
    for (const id of ids) {
      expect(id).toMatch(UUID_V7);
      expect(z.uuid().safeParse(id).success).toBe(true);
      expect(millisecondsOf(id)).toBeGreaterThanOrEqual(before);
      expect(millisecondsOf(id)).toBeLessThanOrEqual(after);
    }
  });

  it("are unique and in creation order, many to a millisecond", () => {
    jest.spyOn(Date, "now").mockReturnValue(1_900_000_000_123);
    const ids = Array.from({ length: 20_000 }, () => newEventId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids.map(millisecondsOf))).toEqual(new Set([1_900_000_000_123]));
  });

  it("stay in order when the clock steps back, carrying on from the last millisecond", () => {
    const now = jest.spyOn(Date, "now");
    now.mockReturnValue(1_910_000_000_500);
    const first = [newEventId(), newEventId()];
    now.mockReturnValue(1_910_000_000_200);
    const afterStepBack = [newEventId(), newEventId()];
    now.mockReturnValue(1_910_000_000_501);
    const later = newEventId();
    const ids = [...first, ...afterStepBack, later];
    expect([...ids].sort()).toEqual(ids);
    expect(afterStepBack.map(millisecondsOf)).toEqual([1_910_000_000_500, 1_910_000_000_500]);
    expect(millisecondsOf(later)).toBe(1_910_000_000_501);
  });

  it("start each millisecond's counter at a random value", () => {
    const now = jest.spyOn(Date, "now");
    const counters = Array.from({ length: 200 }, (_, i) => {
      now.mockReturnValue(1_920_000_000_000 + i);
      const id = newEventId();
      return id.slice(15, 18) + id.slice(20, 23);
    });
    expect(new Set(counters).size).toBeGreaterThan(190);
  });

  it("differ in their random tail from one id to the next", () => {
    const tails = Array.from({ length: 5000 }, () => newEventId().slice(24));
    expect(new Set(tails).size).toBe(tails.length);
  });
});
