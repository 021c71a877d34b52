import { isRowDataError } from "./write-errors";

/** The shape of a Prisma raw-query error from the pg driver adapter. */
const prismaError = (cause: Record<string, unknown>) =>
  Object.assign(new Error("Raw query failed"), { code: "P2010", meta: { driverAdapterError: { cause } } });

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
