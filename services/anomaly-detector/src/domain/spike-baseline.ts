/** Settings of the usage-spike baseline (the `usage_spike` part of the alert thresholds). */
export interface BaselineSettings {
  /** Length of the tumbling windows whose request counts are compared. */
  windowSeconds: number;
  /** How far back the exponentially weighted average reaches (its span). */
  baselineSeconds: number;
}

/**
 * A key's request count in the current tumbling window of event time, and its baseline: an
 * exponentially weighted moving average of the counts of its previous windows with a span of
 * `baselineSeconds / windowSeconds` windows (alpha = 2 / (span + 1)), so the last hour weighs
 * most. Windows are aligned to the epoch; windows without requests count as 0. The window in
 * which a key was first seen is partial (the key, or the detector, started in its middle) and is
 * left out, so the baseline starts with the first full window. Events older than the current
 * window are too late to change anything and are ignored.
 */
export class SpikeBaseline {
  /** Requests in the current window. */
  current = 0;
  /** The average per-window count of the previous windows; null until a full window closed. */
  baseline: number | null = null;
  /** Full windows folded into the baseline. */
  windows = 0;
  private windowIndex: number;
  private readonly firstIndex: number;
  private readonly windowMs: number;
  private readonly alpha: number;

  constructor(
    atMs: number,
    readonly settings: BaselineSettings,
  ) {
    this.windowMs = settings.windowSeconds * 1000;
    const span = Math.max(1, settings.baselineSeconds / settings.windowSeconds);
    this.alpha = 2 / (span + 1);
    this.windowIndex = Math.floor(atMs / this.windowMs);
    this.firstIndex = this.windowIndex;
  }

  /** Counts a request at `atMs`; returns false when it belongs to an earlier window. */
  add(atMs: number): boolean {
    const index = Math.floor(atMs / this.windowMs);
    if (index < this.windowIndex) return false;
    if (index > this.windowIndex) this.roll(index);
    this.current++;
    return true;
  }

  /** True when no request was counted for a whole baseline span before `nowMs`. */
  isStale(nowMs: number): boolean {
    const span = this.settings.baselineSeconds * 1000 + this.windowMs;
    return nowMs - (this.windowIndex + 1) * this.windowMs > span;
  }

  /** Closes the current window (and any empty ones up to `index`) into the baseline. */
  private roll(index: number): void {
    if (this.windowIndex > this.firstIndex) this.fold(this.current);
    // Windows between the closed one and `index` had no request at all (and they are full
    // windows unless the key was only just seen).
    const empty = index - this.windowIndex - 1;
    if (empty > 0) {
      if (this.baseline === null) this.baseline = 0;
      this.baseline *= (1 - this.alpha) ** empty;
      this.windows += empty;
    }
    this.windowIndex = index;
    this.current = 0;
  }

  private fold(count: number): void {
    this.baseline = this.baseline === null ? count : this.alpha * count + (1 - this.alpha) * this.baseline;
    this.windows++;
  }
}
