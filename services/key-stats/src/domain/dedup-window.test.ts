import { createDedupWindow } from "./dedup-window";

describe("duplicate window", () => {
  it("remembers the ids of the last `capacity` messages and forgets older ones", () => {
    const window = createDedupWindow(3);
    for (const id of ["a", "b", "c"]) window.add(id);
    expect(["a", "b", "c", "d"].map((id) => window.has(id))).toEqual([true, true, true, false]);
    window.add("d");
    expect(["a", "b", "c", "d"].map((id) => window.has(id))).toEqual([false, true, true, true]);
    expect(window.size()).toBe(3);
  });

  it("keeps an id that sits in the window twice until both copies left it", () => {
    const window = createDedupWindow(3);
    for (const id of ["a", "b", "a"]) window.add(id);
    expect(window.size()).toBe(2);
    window.add("c"); // evicts the first "a"
    expect(window.has("a")).toBe(true);
    window.add("d"); // evicts "b"
    window.add("e"); // evicts the second "a"
    expect(window.has("a")).toBe(false);
    expect(["c", "d", "e"].every((id) => window.has(id))).toBe(true);
  });

  it("can be cleared, and a window of 0 remembers nothing", () => {
    const window = createDedupWindow(2);
    window.add("a");
    window.clear();
    expect(window.has("a")).toBe(false);
    window.add("b");
    window.add("c");
    window.add("d");
    expect(["b", "c", "d"].map((id) => window.has(id))).toEqual([false, true, true]);

    const none = createDedupWindow(0);
    none.add("a");
    expect(none.has("a")).toBe(false);
    expect(() => createDedupWindow(-1)).toThrow("invalid window capacity -1");
  });
});
