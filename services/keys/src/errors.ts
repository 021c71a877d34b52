import { isRetriableDbError, Prisma } from "@apimon/db";
import { conflict, HttpError, notFound } from "@apimon/http";

/** Unique constraints whose violation is a client's conflict, with the product's message. */
const CONFLICTS: Record<string, string> = {
  users_email_key: "A user with this email already exists",
  api_keys_rotated_from_id_key: "API key was already rotated",
};

const NOT_FOUND: Record<string, string> = {
  User: "User not found",
  ApiKey: "API key not found",
};

/** The constraint a Prisma error names, as the pg driver adapter reports it. */
function constraintOf(error: Prisma.PrismaClientKnownRequestError): string | undefined {
  const adapterError = error.meta?.driverAdapterError as
    | { cause?: { constraint?: { index?: unknown } } }
    | undefined;
  const index = adapterError?.cause?.constraint?.index;
  return typeof index === "string" ? index : undefined;
}

/**
 * The one place where database errors become HTTP errors: a unique violation is 409, a
 * missing row 404, a foreign key that vanished under a concurrent change 409, a database that
 * is down or overloaded 503. Anything else is returned unchanged (and ends up as a 500).
 */
export function toHttpError(error: unknown): unknown {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    const model = typeof error.meta?.modelName === "string" ? error.meta.modelName : "";
    switch (error.code) {
      case "P2002":
        return conflict(CONFLICTS[constraintOf(error) ?? ""] ?? "A record with these values already exists");
      case "P2025":
        return notFound(NOT_FOUND[model] ?? "Not found");
      case "P2003":
        return conflict("A referenced record changed concurrently; try again");
    }
  }
  if (!(error instanceof HttpError) && isRetriableDbError(error)) {
    return new HttpError(503, "Database unavailable; try again");
  }
  return error;
}
