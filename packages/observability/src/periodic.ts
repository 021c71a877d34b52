import type { Logger } from "pino";

export interface PeriodicTaskOptions<R> {
  /** Names the task in its log lines. */
  name: string;
  logger: Logger;
  /** One run. A number it returns is the pause before the next run, in ms (else intervalMs). */
  run: () => R | Promise<R>;
  /** The pause between the end of one run and the start of the next. */
  intervalMs: number;
  /**
   * When the first run happens: `await` runs it inside start() (start resolves after it),
   * `now` starts it in the background, `later` (the default) after the first pause.
   */
  firstRun?: "await" | "now" | "later";
  /**
   * A failed run: returns the pause before the next one (backoff; default intervalMs). Without
   * it, a failure is logged at warn with the count of failures in a row, and the next success
   * at info; with it, the owner reports both.
   */
  onError?: (error: unknown, failures: number) => number | undefined;
  /** Keep the process alive while paused (default false: the timer does not). */
  keepAlive?: boolean;
}

export interface PeriodicTask<R> {
  /** Starts the loop; a second start while it runs does nothing. */
  start(): Promise<void>;
  /** Stops the loop and waits for a run in flight. */
  stop(): Promise<void>;
  /** Runs now, or right after the run in flight; a pause after a failure is not cut short. */
  wake(): void;
  /** One run now, shared with a run in flight; rejects with the run's error. */
  runNow(): Promise<R>;
  isRunning(): boolean;
  /** Failed runs in a row (0 after a success). */
  failures(): number;
}

/**
 * The one way background loops run: a run, a pause, the next run, never two runs at once;
 * stop() waits for the run in flight, errors are counted and logged in one place.
 */
export function createPeriodicTask<R = void>({
  name,
  logger,
  run,
  intervalMs,
  firstRun = "later",
  onError,
  keepAlive = false,
}: PeriodicTaskOptions<R>): PeriodicTask<R> {
  let running = false;
  let loop: Promise<void> | undefined;
  let inFlight: Promise<R> | undefined;
  let failures = 0;
  /** wake() arrived while no pause could be cut short: skip the next pause. */
  let woken = false;
  /** Ends the current pause, when it may be cut short. */
  let endPause: (() => void) | undefined;
  /** Ends the current pause whatever it is (stop). */
  let stopPause: (() => void) | undefined;

  const runNow = (): Promise<R> => {
    inFlight ??= Promise.resolve()
      .then(run)
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  /** One run; resolves to the pause before the next and whether it failed. */
  async function pass(): Promise<{ pauseMs: number; failed: boolean }> {
    try {
      const result = await runNow();
      if (failures > 0 && !onError) logger.info({ task: name, failures }, `${name} recovered`);
      failures = 0;
      return { pauseMs: typeof result === "number" ? result : intervalMs, failed: false };
    } catch (error) {
      failures++;
      const pauseMs = onError ? onError(error, failures) : undefined;
      if (!onError) logger.warn({ err: error, task: name, failures }, `${name} failed; trying again`);
      return { pauseMs: pauseMs ?? intervalMs, failed: true };
    }
  }

  function pause(ms: number, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      if (!keepAlive) timer.unref();
      function done() {
        clearTimeout(timer);
        endPause = undefined;
        stopPause = undefined;
        resolve();
      }
      stopPause = done;
      if (wakeable) endPause = done;
    });
  }
  async function runLoop(first: { pauseMs: number; failed: boolean }): Promise<void> {
    let next = first;
    while (running) {
      if (next.failed) woken = false;
      if (next.pauseMs > 0 && !woken) await pause(next.pauseMs, !next.failed);
      woken = false;
      if (!running) break;
      next = await pass();
    }
  }

  return {
    async start() {
      if (running) return;
      running = true;
      let first = { pauseMs: intervalMs, failed: false };
      if (firstRun === "now") first = { pauseMs: 0, failed: false };
      if (firstRun === "await") first = await pass();
      if (!running) return;
      loop = runLoop(first);
    },
    async stop() {
      running = false;
      stopPause?.();
      await loop;
      loop = undefined;
      await inFlight?.catch(() => {});
    },
    wake() {
      if (endPause) endPause();
      else woken = true;
    },
    runNow,
    isRunning: () => running,
    failures: () => failures,
  };
}
