import { Prisma } from "@apimon/db";
import { HttpError } from "@apimon/http";
import { toHttpError } from "./errors";

/** A Prisma error shaped as @prisma/adapter-pg reports it. */
function prismaError(code: string, meta: Record<string, unknown>) {
  return new Prisma.PrismaClientKnownRequestError("failed", { code, clientVersion: "7", meta });
}
const uniqueViolation = (index: string, modelName: string) =>
  prismaError("P2002", {
    modelName,
    driverAdapterError: { cause: { kind: "UniqueConstraintViolation", constraint: { index } } },
  });

describe("database errors as HTTP errors", () => {
  it.each([
    [uniqueViolation("users_email_key", "User"), 409, "A user with this email already exists"],
    [uniqueViolation("api_keys_rotated_from_id_key", "ApiKey"), 409, "API key was already rotated"],
    [uniqueViolation("api_keys_key_hash_key", "ApiKey"), 409, "A record with these values already exists"],
    [prismaError("P2025", { modelName: "ApiKey", operation: "an update" }), 404, "API key not found"],
    [prismaError("P2025", { modelName: "User" }), 404, "User not found"],
    [
      prismaError("P2003", { modelName: "ApiKey" }),
      409,
      "A referenced record changed concurrently; try again",
    ],
    [
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
      503,
      "Database unavailable; try again",
    ],
  ])("maps %s", (error, status, detail) => {
    const mapped = toHttpError(error);
    expect(mapped).toBeInstanceOf(HttpError);
    expect({ status: (mapped as HttpError).status, detail: (mapped as HttpError).detail }).toEqual({
      status,
      detail,
    });
  });

  it("leaves HTTP errors and unknown errors alone", () => {
    const notFound = new HttpError(404, "User not found");
    expect(toHttpError(notFound)).toBe(notFound);
    const bug = new TypeError("x is undefined");
    expect(toHttpError(bug)).toBe(bug);
  });
});
