import { spawnTsx, stopAllSpawned, waitFor } from "@apimon/testkit";

const entry = "services/demo-upstream/src/main.ts";

describe("demo upstream process", () => {
  it("starts from its composition root, serves, and shuts down in order on SIGTERM", async () => {
    const port = 18_000 + Math.floor(Math.random() * 2000);
    const upstream = spawnTsx(entry, { ...process.env, DEMO_UPSTREAM_PORT: String(port), LOG_LEVEL: "info" });

    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
      timeoutMs: 30_000,
      what: "readiness",
    });
    expect(await (await fetch(`http://127.0.0.1:${port}/api/users/3`)).json()).toEqual({
      id: 3,
      name: "Alan Turing",
      email: "alan@example.com",
    });
    expect(await upstream.stop("SIGTERM")).toBe(0);

    const lines = upstream
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { msg: string; service: string; level: string });
    expect(lines.map((l) => l.msg)).toEqual([
      "demo upstream listening",
      "shutting down",
      "shutdown complete",
    ]);
    expect(lines.every((l) => l.service === "demo-upstream" && l.level === "info")).toBe(true);
  });

  it("refuses to start with a bad variable, naming it", async () => {
    const upstream = spawnTsx(entry, { ...process.env, DEMO_UPSTREAM_PORT: "eighty", LOG_LEVEL: "loud" });
    expect(await upstream.exited).toBe(1);
    const stderr = upstream.stderr();
    expect(stderr).toContain("Invalid configuration:");
    expect(stderr).toContain("DEMO_UPSTREAM_PORT:");
    expect(stderr).toContain("LOG_LEVEL:");
  });

  it("is stopped by the test harness when a test leaves it running", async () => {
    const port = 18_000 + Math.floor(Math.random() * 2000);
    const upstream = spawnTsx(entry, { ...process.env, DEMO_UPSTREAM_PORT: String(port) });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
      timeoutMs: 30_000,
      what: "readiness",
    });
    await stopAllSpawned();
    expect(await upstream.exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
