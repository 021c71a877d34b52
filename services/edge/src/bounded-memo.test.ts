import { memoizeBounded } from "./bounded-memo";

describe("bounded memo", () => {
  function counted() {
    const calls: string[] = [];
    const fn = (input: string) => {
      calls.push(input);
      return input.toUpperCase();
    };
    return { calls, fn };
  }

  it("computes each input once and answers repeats from memory", () => {
    const { calls, fn } = counted();
    const memo = memoizeBounded(fn, { maxEntries: 10 });
    expect([memo("a"), memo("b"), memo("a"), memo("a")]).toEqual(["A", "B", "A", "A"]);
    expect(calls).toEqual(["a", "b"]);
  });

  it("keeps at most maxEntries inputs, letting the oldest go first", () => {
    const { calls, fn } = counted();
    const memo = memoizeBounded(fn, { maxEntries: 2 });
    memo("a");
    memo("b");
    memo("c"); // "a" makes room
    memo("b");
    memo("c");
    memo("a");
    expect(calls).toEqual(["a", "b", "c", "a"]);
  });

  it("never keeps inputs longer than maxKeyLength", () => {
    const { calls, fn } = counted();
    const memo = memoizeBounded(fn, { maxEntries: 10, maxKeyLength: 3 });
    expect([memo("abcd"), memo("abcd"), memo("abc"), memo("abc")]).toEqual(["ABCD", "ABCD", "ABC", "ABC"]);
    expect(calls).toEqual(["abcd", "abcd", "abc"]);
  });
});
