import { isRetriableDbError } from "./errors";

describe("isRetriableDbError", () => {
  it.each([
    ["a serialization failure", { code: "40001", message: "could not serialize access" }],
    ["a deadlock", { code: "40P01" }],
    ["an administrator shutdown", { code: "57P01" }],
    ["too many connections", { code: "53300" }],
    [
      "a refused connection",
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
    ],
    ["a reset connection", { code: "ECONNRESET" }],
    ["pg's terminated connection", new Error("Connection terminated unexpectedly")],
    ["pg-pool's connect timeout", new Error("timeout exceeded when trying to connect")],
    ["Prisma's unreachable server", { code: "P1001" }],
    ["Prisma's closed connection", { code: "P1017" }],
    ["Prisma's pool timeout", { code: "P2024" }],
    ["Prisma's write conflict", { code: "P2034" }],
    ["Prisma's initialization error", { errorCode: "P1001", message: "Can't reach database server" }],
    [
      "a Prisma database error carrying the driver's SQLSTATE",
      { code: "P2039", meta: { driverAdapterError: { cause: { kind: "postgres", originalCode: "57P01" } } } },
    ],
    [
      "a driver adapter error kind",
      { code: "P2010", meta: { driverAdapterError: { cause: { kind: "ConnectionClosed" } } } },
    ],
    ["an error caused by a retriable one", new Error("query failed", { cause: { code: "40001" } })],
    ["a failed dual-stack connect", new AggregateError([{ code: "ECONNREFUSED" }, { code: "ECONNREFUSED" }])],
  ])("retries %s", (_name, error) => {
    expect(isRetriableDbError(error)).toBe(true);
  });

  it.each([
    ["a unique violation", { code: "23505" }],
    ["Prisma's unique violation", { code: "P2002" }],
    ["a syntax error", { code: "42601" }],
    [
      "a Prisma database error carrying a constraint SQLSTATE",
      { code: "P2039", meta: { driverAdapterError: { cause: { kind: "postgres", originalCode: "23514" } } } },
    ],
    ["a plain error", new Error("boom")],
    ["undefined", undefined],
    ["a string", "ECONNREFUSED"],
  ])("does not retry %s", (_name, error) => {
    expect(isRetriableDbError(error)).toBe(false);
  });

  it("stops on a cycle of causes", () => {
    const a: { cause?: unknown } = {};
    const b = { cause: a };
    a.cause = b;
    expect(isRetriableDbError(a)).toBe(false);
  });
});
