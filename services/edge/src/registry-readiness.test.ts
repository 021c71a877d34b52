import { registryReadiness } from "./registry-readiness";

function table(state: { loaded: boolean; lagMs: number | null; size?: number; following?: boolean }) {
  return {
    isLoaded: () => state.loaded,
    isFollowing: () => state.following ?? true,
    size: () => state.size ?? 3,
    lagMs: () => state.lagMs,
  };
}

describe("edge key table readiness", () => {
  it("is ready while the table is loaded and at most the allowed lag behind its topic", async () => {
    const check = registryReadiness({ keys: table({ loaded: true, lagMs: 60_000 }), maxLagMs: 60_000 });
    expect(await check()).toEqual({
      ok: true,
      detail: { keys: 3, lagMs: 60_000, maxLagMs: 60_000, following: true },
    });
  });

  it("fails once the table may be further behind than allowed, and reports the lag", async () => {
    const check = registryReadiness({ keys: table({ loaded: true, lagMs: 60_001 }), maxLagMs: 60_000 });
    expect(await check()).toEqual({
      ok: false,
      detail: { keys: 3, lagMs: 60_001, maxLagMs: 60_000, following: true },
    });
  });

  it("stays ready while the consumer is not following, and says so", async () => {
    const check = registryReadiness({
      keys: table({ loaded: true, lagMs: 2_000, following: false }),
      maxLagMs: 60_000,
    });
    expect(await check()).toEqual({
      ok: true,
      detail: { keys: 3, lagMs: 2_000, maxLagMs: 60_000, following: false },
    });
  });

  it("fails before the first load and after the registry stopped", async () => {
    expect(await registryReadiness({ keys: table({ loaded: false, lagMs: null }), maxLagMs: 1 })()).toEqual({
      ok: false,
      detail: { keys: 3, lagMs: null, maxLagMs: 1, following: true },
    });
    expect(
      await registryReadiness({ keys: table({ loaded: false, lagMs: 0 }), maxLagMs: 1 })(),
    ).toMatchObject({
      ok: false,
    });
  });
});
