import { isRowDataError, shouldRetryDbError } from "./errors";

/** The shape of a Prisma raw-query error from the pg driver adapter. */
const prismaError = (cause: Record<string, unknown>) =>
  Object.assign(new Error("Raw query failed"), {
    name: "PrismaClientKnownRequestError",
    code: "P2010",
    meta: { driverAdapterError: { cause } },
  });

describe("row data errors", () => {
  it("recognises values the database refuses, however wrapped", () => {
    expect(isRowDataError(prismaError({ originalCode: "22003", kind: "ValueOutOfRange" }))).toBe(true);
    expect(isRowDataError(prismaError({ originalCode: "22021", kind: "postgres", code: "22021" }))).toBe(
      true,
    );
    expect(isRowDataError({ code: "23502" })).toBe(true);
    expect(isRowDataError(new Error("wrapped", { cause: { code: "22P02" } }))).toBe(true);
  });

  it("treats outages, missing tables and unknown errors as not the rows' fault", () => {
    expect(isRowDataError(prismaError({ kind: "DatabaseNotReachable", host: "db", port: 5432 }))).toBe(false);
    expect(isRowDataError(prismaError({ originalCode: "42P01", kind: "TableDoesNotExist" }))).toBe(false);
    expect(isRowDataError(prismaError({ originalCode: "57P01", kind: "postgres" }))).toBe(false);
    expect(isRowDataError(Object.assign(new Error("connect"), { code: "ECONNREFUSED" }))).toBe(false);
    expect(isRowDataError(new Error("Connection terminated unexpectedly"))).toBe(false);
    expect(isRowDataError(undefined)).toBe(false);
  });
});

describe("the consumers' retry policy for database errors", () => {
  it("retries outages, missing tables and revoked privileges until the database answers", () => {
    expect(shouldRetryDbError(prismaError({ kind: "DatabaseNotReachable", host: "db", port: 5432 }))).toBe(
      true,
    );
    expect(shouldRetryDbError(prismaError({ originalCode: "42P01", kind: "TableDoesNotExist" }))).toBe(true);
    expect(shouldRetryDbError(prismaError({ originalCode: "42501", kind: "postgres" }))).toBe(true);
    expect(
      shouldRetryDbError(
        Object.assign(new Error("permission denied for table api_keys"), {
          name: "DatabaseError",
          severity: "ERROR",
          code: "42501",
        }),
      ),
    ).toBe(true);
    expect(shouldRetryDbError(Object.assign(new Error("connect"), { code: "ECONNREFUSED" }))).toBe(true);
  });

  it("does not retry what the row caused, nor errors that do not come from the database", () => {
    expect(shouldRetryDbError(prismaError({ originalCode: "22003", kind: "ValueOutOfRange" }))).toBe(false);
    expect(
      shouldRetryDbError(prismaError({ originalCode: "23505", kind: "UniqueConstraintViolation" })),
    ).toBe(false);
    expect(shouldRetryDbError(new TypeError("cannot read properties of undefined"))).toBe(false);
    expect(
      shouldRetryDbError(
        Object.assign(new Error("Argument `id` is missing."), { name: "PrismaClientValidationError" }),
      ),
    ).toBe(false);
    expect(shouldRetryDbError(undefined)).toBe(false);
  });
});
