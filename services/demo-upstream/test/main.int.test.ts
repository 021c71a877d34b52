import { spawn } from "node:child_process";
import { join } from "node:path";
import { waitFor } from "@apimon/testkit";

const repo = join(__dirname, "..", "..", "..");

describe("demo upstream process", () => {
  it("starts from its composition root, serves, and shuts down in order on SIGTERM", async () => {
    const port = 18_000 + Math.floor(Math.random() * 2000);
    // tsx resolves @apimon/* through the root tsconfig's paths, so no build is needed.
    const child = spawn(
      join(repo, "node_modules", ".bin", "tsx"),
      [join(repo, "services/demo-upstream/src/main.ts")],
      {
        env: { ...process.env, DEMO_UPSTREAM_PORT: String(port), LOG_LEVEL: "info" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
      timeoutMs: 30_000,
      what: "readiness",
    });
    expect(await (await fetch(`http://127.0.0.1:${port}/api/users/3`)).json()).toEqual({
      id: 3,
      name: "Alan Turing",
      email: "alan@example.com",
    });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);

    const lines = output
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
    const child = spawn(
      join(repo, "node_modules", ".bin", "tsx"),
      [join(repo, "services/demo-upstream/src/main.ts")],
      {
        env: { ...process.env, DEMO_UPSTREAM_PORT: "eighty", LOG_LEVEL: "loud" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toContain("Invalid configuration:");
    expect(stderr).toContain("DEMO_UPSTREAM_PORT:");
    expect(stderr).toContain("LOG_LEVEL:");
  });
});
