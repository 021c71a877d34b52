import { isRetriableDbError, Prisma } from "@apimon/db";
import { conflict, HttpError, notFound } from "@apimon/http";

const NOT_FOUND: Record<string, string> = {
  Alert: "Alert not found",
  NotificationChannel: "Channel not found",
};

/**
 * The one place where database errors become HTTP errors: a missing row is 404, a foreign key
 * that vanished under a concurrent change 409, a database that is down or overloaded 503.
 * Anything else is returned unchanged (and ends up as a 500).
 */
export function toHttpError(error: unknown): unknown {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    const model = typeof error.meta?.modelName === "string" ? error.meta.modelName : "";
    switch (error.code) {
      case "P2025":
        return notFound(NOT_FOUND[model] ?? "Not found");
      case "P2003":
        return conflict("A referenced record changed concurrently; try again");
      case "P2002":
        return conflict("A record with these values already exists");
    }
  }
  if (!(error instanceof HttpError) && isRetriableDbError(error)) {
    return new HttpError(503, "Database unavailable; try again");
  }
  return error;
}
