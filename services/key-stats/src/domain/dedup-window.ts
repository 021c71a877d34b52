/**
 * The event ids of the last `capacity` messages handled in one partition, to recognise an event
 * that was *published* twice. Such a duplicate has an offset of its own, so the stored-offset
 * check cannot see it; but it lands in the same partition (the message key is the API key id)
 * and, in practice, close behind the original (a producer retry, an edge spool re-sent after a
 * crash). The window is counted in messages, and every offset holds at most one message, so it
 * covers at least the last `capacity` offsets. Ids are uuid v7, i.e. unique per event.
 */
export interface DedupWindow {
  has(eventId: string): boolean;
  /** Remembers an id, forgetting the oldest one once the window is full. */
  add(eventId: string): void;
  size(): number;
  clear(): void;
}

/** A ring buffer of ids plus a count per id (the same id may sit in the ring twice). */
export function createDedupWindow(capacity: number): DedupWindow {
  if (!Number.isInteger(capacity) || capacity < 0) throw new Error(`invalid window capacity ${capacity}`);
  let ring: (string | undefined)[] = [];
  let next = 0;
  const counts = new Map<string, number>();

  return {
    has: (eventId) => counts.has(eventId),
    add(eventId) {
      if (capacity === 0) return;
      const evicted = ring[next];
      if (evicted !== undefined) {
        const left = (counts.get(evicted) ?? 1) - 1;
        if (left === 0) counts.delete(evicted);
        else counts.set(evicted, left);
      }
      ring[next] = eventId;
      next = (next + 1) % capacity;
      counts.set(eventId, (counts.get(eventId) ?? 0) + 1);
    },
    size: () => counts.size,
    clear() {
      ring = [];
      next = 0;
      counts.clear();
    },
  };
}
