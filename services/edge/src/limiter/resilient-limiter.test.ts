import { Registry } from "@apimon/observability";
import { type Decision, decide, type Limits } from "../domain/rate-limit";
import type { Limiter } from "./limiter";
import { createMemoryLimiter } from "./memory-limiter";
import { createResilientLimiter } from "./resilient-limiter";

const LIMITS: Limits = { minute: 2, hour: 10, day: 100 };
const NOW = Date.parse("2026-03-04T10:20:30.000Z");

/** A primary whose behaviour a test switches: answer, fail, or never answer. */
function fakePrimary() {
  let mode: "ok" | "fail" | "hang" = "ok";
  const calls: string[] = [];
  const limiter: Limiter = {
    check(apiKeyId: string, limits: Limits): Promise<Decision> {
      calls.push(apiKeyId);
      if (mode === "fail") return Promise.reject(new Error("ECONNREFUSED"));
      if (mode === "hang") return new Promise<Decision>(() => {});
      return Promise.resolve(decide(limits, { minute: 0, hour: 0, day: 0 }, NOW));
    },
  };
  return {
    limiter,
    calls,
    set: (m: typeof mode) => {
      mode = m;
    },
  };
}

async function fallbackCount(registry: Registry, reason: string): Promise<number> {
  const metric = await registry.getSingleMetric("edge_limiter_fallback_total")?.get();
  return metric?.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

function setup(options: { failureMode?: "open" | "closed" } = {}) {
  let now = NOW;
  const clock = () => now;
  const primary = fakePrimary();
  const registry = new Registry();
  const changes: boolean[] = [];
  const limiter = createResilientLimiter({
    primary: primary.limiter,
    fallback: createMemoryLimiter({ clock }),
    timeoutMs: 5,
    retryIntervalMs: 1000,
    clock,
    registry,
    onDegradedChange: (degraded) => changes.push(degraded),
    ...options,
  });
  return {
    limiter,
    primary,
    registry,
    changes,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("resilient limiter", () => {
  it("answers from the primary while it is healthy", async () => {
    const { limiter, primary, registry } = setup();
    const decision = await limiter.check("k", LIMITS);
    expect(decision.allowed).toBe(true);
    expect(primary.calls).toEqual(["k"]);
    expect(limiter.isDegraded()).toBe(false);
    expect(await fallbackCount(registry, "error")).toBe(0);
  });

  it("falls back to memory when the primary fails, and reports degraded", async () => {
    const { limiter, primary, registry, changes } = setup();
    primary.set("fail");
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await limiter.check("k", LIMITS));
    // The memory limiter enforces the limits on its own.
    expect(results.map((d) => d.allowed)).toEqual([true, true, false]);
    expect(limiter.isDegraded()).toBe(true);
    expect(changes).toEqual([true]);
    expect(await fallbackCount(registry, "error")).toBe(1);
    // While degraded it does not wait on the primary for every request.
    expect(primary.calls).toHaveLength(1);
    expect(await fallbackCount(registry, "degraded")).toBe(2);
  });

  it("passes a request that must not count on to the fallback uncounted", async () => {
    const { limiter, primary } = setup();
    primary.set("fail");
    await limiter.check("k", LIMITS);
    for (let i = 0; i < 3; i++)
      expect((await limiter.check("k", LIMITS, { count: false })).allowed).toBe(true);
    expect((await limiter.check("k", LIMITS)).windows.minute.remaining).toBe(0);
  });

  it("falls back when the primary does not answer before the deadline", async () => {
    const { limiter, primary, registry } = setup();
    primary.set("hang");
    const decision = await limiter.check("k", LIMITS);
    expect(decision.allowed).toBe(true);
    expect(limiter.isDegraded()).toBe(true);
    expect(await fallbackCount(registry, "timeout")).toBe(1);
  });

  it("gives each decision its own deadline: a late answer falls back, one in time does not", async () => {
    // The first decision's answer is held until the test releases it, well past the deadline;
    // the second comes 1 ms after it was asked. (A delay for the late one would race the
    // deadline on a machine that stalls this process for longer than that delay.)
    let releaseLate: () => void = () => {};
    const registry = new Registry();
    const answer = (limits: Limits) => decide(limits, { minute: 0, hour: 0, day: 0 }, NOW);
    const answers: ((limits: Limits) => Promise<Decision>)[] = [
      (limits) =>
        new Promise((resolve) => {
          releaseLate = () => resolve(answer(limits));
        }),
      (limits) => new Promise((resolve) => setTimeout(() => resolve(answer(limits)), 1)),
    ];
    const limiter = createResilientLimiter({
      primary: { check: (_key, limits) => (answers.shift() as (l: Limits) => Promise<Decision>)(limits) },
      fallback: createMemoryLimiter({ clock: () => NOW }),
      timeoutMs: 5,
      clock: () => NOW,
      registry,
    });
    const first = await Promise.all([limiter.check("a", LIMITS), limiter.check("b", LIMITS)]);
    expect(first.map((d) => d.allowed)).toEqual([true, true]);
    expect(await fallbackCount(registry, "timeout")).toBe(1);
    // Degraded now: the next decisions within the retry interval come from memory at once.
    expect(limiter.isDegraded()).toBe(true);
    // The late answer, when it comes, changes nothing.
    releaseLate();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await fallbackCount(registry, "timeout")).toBe(1);
    expect(await fallbackCount(registry, "error")).toBe(0);
  });

  it("tries the primary again after the retry interval and recovers", async () => {
    const { limiter, primary, changes, advance } = setup();
    primary.set("fail");
    await limiter.check("k", LIMITS);
    primary.set("ok");
    await limiter.check("k", LIMITS);
    expect(primary.calls).toHaveLength(1);
    advance(1000);
    await limiter.check("k", LIMITS);
    expect(primary.calls).toHaveLength(2);
    expect(limiter.isDegraded()).toBe(false);
    expect(changes).toEqual([true, false]);
  });

  it("in failure mode closed answers unavailable instead of guessing", async () => {
    const { limiter, primary, registry } = setup({ failureMode: "closed" });
    primary.set("fail");
    const decision = await limiter.check("k", LIMITS);
    expect(decision).toMatchObject({ allowed: false, unavailable: true, retryAfter: 1 });
    expect(limiter.isDegraded()).toBe(true);
    expect(await fallbackCount(registry, "error")).toBe(1);
  });
});
