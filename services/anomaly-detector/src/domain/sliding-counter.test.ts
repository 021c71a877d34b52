import { SlidingCounter } from "./sliding-counter";

describe("sliding counter", () => {
  it("counts events and hits in the last window of event time", () => {
    const c = new SlidingCounter(10_000);
    for (let i = 0; i < 10; i++) c.add(i * 1000, i % 2 === 0);
    expect([c.total, c.hits]).toEqual([10, 5]);
    c.add(10_000);
    // The event at 0 s left the (0, 10] s window.
    expect([c.total, c.hits]).toEqual([10, 4]);
    c.advance(30_000);
    expect(c.isEmpty()).toBe(true);
  });

  it("takes late events inside the window and drops older ones", () => {
    const c = new SlidingCounter(10_000);
    c.add(20_000);
    c.add(25_000);
    expect(c.add(16_500, true)).toBe(true);
    expect(c.add(9_000)).toBe(false);
    expect([c.total, c.hits]).toEqual([3, 1]);
    c.add(25_900);
    expect(c.total).toBe(4);
  });

  it("follows a shorter window at once", () => {
    const c = new SlidingCounter(60_000);
    c.add(0);
    c.add(50_000);
    c.resize(20_000);
    expect(c.total).toBe(1);
  });
});
