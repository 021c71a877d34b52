import { captureLogger } from "@apimon/testkit";
import { databaseReadiness } from "./readiness";

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
