import { Writable } from "node:stream";
import { createLogger } from "@apimon/observability";
import { databaseReadiness } from "./readiness";

function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ service: "test", destination }), lines };
}

describe("database readiness", () => {
  it("is ready when the database answers", async () => {
    const { logger } = captureLogger();
    const check = databaseReadiness({ $queryRaw: async () => [{ "?column?": 1 }] }, logger);
    expect(await check()).toEqual({ ok: true });
  });

  it("is not ready when it does not, and keeps the error's text out of the answer", async () => {
    const { logger, lines } = captureLogger();
    const check = databaseReadiness(
      {
        $queryRaw: async () => {
          throw new Error("connect ECONNREFUSED db.internal:5432 as user apimon");
        },
      },
      logger,
    );
    expect(await check()).toEqual({ ok: false, detail: "database unreachable" });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "warn", msg: "database readiness check failed" });
  });
});
