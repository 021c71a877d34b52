import { captureLogger, testLogger } from "@apimon/testkit";
import type { Logger } from "./logger";
import { createPeriodicTask, type PeriodicTaskOptions } from "./periodic";

/** The task under test, named demo; its log lines go nowhere unless the test passes a logger to read. */
function demoTask<R>({
  logger = testLogger(),
  ...options
}: Omit<PeriodicTaskOptions<R>, "name" | "logger"> & { logger?: Logger }) {
  return createPeriodicTask({ name: "demo", logger, ...options });
}

/** A task each of whose runs stays in flight until the test calls `held.release()`. */
function heldRunsTask(intervalMs: number) {
  const held = { runs: 0, release: () => {} };
  const task = demoTask({
    intervalMs,
    run: () => {
      held.runs++;
      return new Promise<void>((resolve) => {
        held.release = resolve;
      });
    },
  });
  return { task, held };
}

describe("periodic task", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it("runs after each pause, never two runs at once, and stops after the run in flight", async () => {
    const { task, held } = heldRunsTask(100);
    await task.start();
    expect(held.runs).toBe(0);
    await jest.advanceTimersByTimeAsync(100);
    expect(held.runs).toBe(1);
    // The run is still in flight: pauses pass without a second run.
    await jest.advanceTimersByTimeAsync(1000);
    expect(held.runs).toBe(1);
    const stopped = task.stop();
    let done = false;
    void stopped.then(() => {
      done = true;
    });
    await jest.advanceTimersByTimeAsync(0);
    expect(done).toBe(false);
    held.release();
    await stopped;
    expect(task.isRunning()).toBe(false);
    await jest.advanceTimersByTimeAsync(1000);
    expect(held.runs).toBe(1);
  });

  it("waits for the first run inside start() when asked to, and takes the pause a run returns", async () => {
    const starts: number[] = [];
    const task = demoTask({
      intervalMs: 1000,
      firstRun: "await",
      run: () => {
        starts.push(Date.now());
        return 10;
      },
    });
    const t0 = Date.now();
    await task.start();
    expect(starts).toEqual([t0]);
    await jest.advanceTimersByTimeAsync(10);
    expect(starts).toEqual([t0, t0 + 10]);
    await task.stop();
  });

  it("leaves a failure to onError and backs off as it says", async () => {
    const { logger, lines } = captureLogger();
    let fail = true;
    let runs = 0;
    const backoffs: number[] = [];
    const task = demoTask({
      logger,
      intervalMs: 100,
      firstRun: "now",
      run: () => {
        runs++;
        if (fail) throw new Error("boom");
      },
      onError: (error, failures) => {
        logger.warn({ err: error, failures }, "demo failed");
        backoffs.push(failures);
        return 500;
      },
    });
    await task.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    expect(task.failures()).toBe(1);
    // A wake does not cut a backoff short.
    task.wake();
    await jest.advanceTimersByTimeAsync(499);
    expect(runs).toBe(1);
    fail = false;
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toBe(2);
    expect(task.failures()).toBe(0);
    expect(backoffs).toEqual([1]);
    expect(lines.map((l) => l.msg)).toEqual(["demo failed"]);
    await task.stop();
  });

  it("logs failures itself without onError, counting them in a row, and the recovery", async () => {
    const { logger, lines } = captureLogger();
    let runs = 0;
    const task = demoTask({
      logger,
      intervalMs: 100,
      firstRun: "now",
      run: () => {
        if (++runs <= 2) throw new Error("boom");
      },
    });
    await task.start();
    await jest.advanceTimersByTimeAsync(200);
    await task.stop();
    expect(lines.map((l) => [l.msg, l.failures, l.task])).toEqual([
      ["demo failed; trying again", 1, "demo"],
      ["demo failed; trying again", 2, "demo"],
      ["demo recovered", 2, "demo"],
    ]);
  });

  it("cuts a pause short on wake, and skips the next pause when woken during a run", async () => {
    const { task, held } = heldRunsTask(60_000);
    await task.start();
    task.wake();
    await jest.advanceTimersByTimeAsync(0);
    expect(held.runs).toBe(1);
    task.wake();
    held.release();
    await jest.advanceTimersByTimeAsync(0);
    expect(held.runs).toBe(2);
    held.release();
    await jest.advanceTimersByTimeAsync(0);
    expect(held.runs).toBe(2);
    await task.stop();
  });

  it("shares runNow with the run in flight and passes its error on", async () => {
    let runs = 0;
    const task = demoTask({
      intervalMs: 100,
      run: async () => {
        runs++;
        if (runs === 2) throw new Error("second");
        return runs;
      },
    });
    const [a, b] = await Promise.all([task.runNow(), task.runNow()]);
    expect([a, b, runs]).toEqual([1, 1, 1]);
    await expect(task.runNow()).rejects.toThrow("second");
  });
});
