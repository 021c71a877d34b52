/**
 * Remembers the results of a pure function of a string, for at most `maxEntries` inputs; when
 * full, the oldest entry makes room (insertion order). Hostile input can churn it but never grow
 * it, and inputs longer than `maxKeyLength` are computed every time rather than kept.
 */
export function memoizeBounded<T>(
  fn: (input: string) => T,
  { maxEntries, maxKeyLength = 256 }: { maxEntries: number; maxKeyLength?: number },
): (input: string) => T {
  const cache = new Map<string, T>();
  return (input) => {
    if (input.length > maxKeyLength) return fn(input);
    const hit = cache.get(input);
    if (hit !== undefined) return hit;
    const value = fn(input);
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(input, value);
    return value;
  };
}
