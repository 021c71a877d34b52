import { SpikeBaseline } from "./spike-baseline";

const W = 60_000;
const settings = { windowSeconds: 60, baselineSeconds: 600 };

describe("usage spike baseline", () => {
  it("skips the partial first window, then averages the full ones", () => {
    const b = new SpikeBaseline(30_000, settings);
    for (let i = 0; i < 7; i++) b.add(30_000 + i);
    expect(b.baseline).toBeNull();
    for (let w = 1; w <= 5; w++) for (let i = 0; i < 20; i++) b.add(w * W + i * 100);
    // Window 5 is still current.
    expect(b.current).toBe(20);
    b.add(6 * W);
    expect(b.baseline).toBeCloseTo(20, 10);
    expect(b.current).toBe(1);
    expect(b.windows).toBe(5);
  });

  it("weights recent windows more (EWMA with a span of baseline / window) and counts empty windows as 0", () => {
    const b = new SpikeBaseline(0, settings);
    b.add(W); // window 1 (full)
    for (let i = 1; i < 10; i++) b.add(W + i);
    b.add(2 * W); // closes window 1 with 10
    expect(b.baseline).toBe(10);
    for (let i = 1; i < 40; i++) b.add(2 * W + i);
    b.add(3 * W); // closes window 2 with 40: 10 + (40 - 10) * 2/11
    expect(b.baseline).toBeCloseTo(10 + 30 * (2 / 11), 10);
    const before = b.baseline as number;
    b.add(6 * W); // windows 3 (1 request), 4 and 5 (none)
    const alpha = 2 / 11;
    expect(b.baseline).toBeCloseTo((alpha * 1 + (1 - alpha) * before) * (1 - alpha) ** 2, 10);
  });

  it("ignores events of earlier windows and goes stale after a silent baseline span", () => {
    const b = new SpikeBaseline(5 * W, settings);
    expect(b.add(4 * W)).toBe(false);
    expect(b.isStale(5 * W + 660_000)).toBe(false);
    expect(b.isStale(6 * W + 660_001)).toBe(true);
  });
});
