/**
 * Counts events and "hits" among them (e.g. 5xx responses) in a sliding window of event time,
 * kept as buckets of `bucketMs`, so memory is bounded by window / bucket per counter however
 * many events arrive. The window is (newest - windowMs, newest] to the bucket: with 1 s buckets
 * an event leaves the window between `windowMs` and `windowMs + 1 s` after it occurred.
 * Events arriving late still count when their bucket is inside the window; older ones are dropped.
 */
export class SlidingCounter {
  private ids: number[] = [];
  private totals: number[] = [];
  private hitCounts: number[] = [];
  private head = 0;
  /** Events in the window. */
  total = 0;
  /** Hits in the window. */
  hits = 0;
  /** Bucket id of the newest event seen: the window ends there. */
  private newest = Number.NEGATIVE_INFINITY;

  constructor(
    private windowMs: number,
    private readonly bucketMs = 1000,
  ) {}

  /** Counts `count` events at `atMs`; returns false when they were too old to count. */
  add(atMs: number, hit = false, count = 1): boolean {
    const id = Math.floor(atMs / this.bucketMs);
    if (id > this.newest) {
      this.newest = id;
      this.prune();
    }
    if (id <= this.cutoff()) return false;
    const h = hit ? count : 0;
    const last = this.ids.length - 1;
    if (last >= this.head && this.ids[last] === id) {
      this.totals[last] = (this.totals[last] as number) + count;
      this.hitCounts[last] = (this.hitCounts[last] as number) + h;
    } else if (last < this.head || (this.ids[last] as number) < id) {
      this.ids.push(id);
      this.totals.push(count);
      this.hitCounts.push(h);
    } else {
      this.addLate(id, h, count);
    }
    this.total += count;
    this.hits += h;
    return true;
  }

  /** Moves the window's end to `nowMs` (if later than the newest event), dropping what fell out. */
  advance(nowMs: number): void {
    const id = Math.floor(nowMs / this.bucketMs);
    if (id > this.newest) {
      this.newest = id;
      this.prune();
    }
  }

  /** Changes the window length (a settings change); a longer window fills up from now on. */
  resize(windowMs: number): void {
    if (windowMs === this.windowMs) return;
    this.windowMs = windowMs;
    this.prune();
  }

  get window(): number {
    return this.windowMs;
  }

  isEmpty(): boolean {
    return this.total === 0;
  }

  /** Buckets at or before this id are outside the window. */
  private cutoff(): number {
    return Math.floor((this.newest * this.bucketMs - this.windowMs) / this.bucketMs);
  }

  private prune(): void {
    const cutoff = this.cutoff();
    while (this.head < this.ids.length && (this.ids[this.head] as number) <= cutoff) {
      this.total -= this.totals[this.head] as number;
      this.hits -= this.hitCounts[this.head] as number;
      this.head++;
    }
    if (this.head === this.ids.length) {
      this.ids.length = 0;
      this.totals.length = 0;
      this.hitCounts.length = 0;
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.ids.length) {
      this.ids = this.ids.slice(this.head);
      this.totals = this.totals.slice(this.head);
      this.hitCounts = this.hitCounts.slice(this.head);
      this.head = 0;
    }
  }

  private addLate(id: number, h: number, count: number): void {
    let i = this.ids.length - 1;
    while (i >= this.head && (this.ids[i] as number) > id) i--;
    if (i >= this.head && this.ids[i] === id) {
      this.totals[i] = (this.totals[i] as number) + count;
      this.hitCounts[i] = (this.hitCounts[i] as number) + h;
      return;
    }
    this.ids.splice(i + 1, 0, id);
    this.totals.splice(i + 1, 0, count);
    this.hitCounts.splice(i + 1, 0, h);
  }
}
