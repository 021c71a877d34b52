// Debian's docker-compose 1.29 over the project's compose files; `config` needs no engine.
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { join } from "node:path";

export const repo = join(__dirname, "..", "..");

/** A `docker-compose` over these compose files of the repository, with a valid admin token. */
export function composeOver(...files: string[]) {
  const fileArgs = files.flatMap((file) => ["-f", join(repo, file)]);
  return (...args: string[]): SpawnSyncReturns<string> =>
    spawnSync("docker-compose", [...fileArgs, ...args], {
      cwd: repo,
      encoding: "utf8",
      env: { ...process.env, ADMIN_TOKEN: "a-test-admin-token-long-enough" },
    });
}

/** `config -q` ran, said nothing and exited 0. */
export function expectValidConfig(result: SpawnSyncReturns<string>): void {
  expect(result.error).toBeUndefined();
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
}
