import { isRetriableDbError } from "./errors";
import { Prisma } from "./generated/client";

/** The product's wording of a service's database errors. */
export interface DbErrorMessages {
  /** By unique constraint (index) name: the conflict a client caused. */
  conflicts?: Record<string, string>;
  /** By Prisma model name: the resource that does not exist. */
  notFound?: Record<string, string>;
}

/**
 * What an HTTP API answers for a database error: a unique violation is 409, a missing row 404,
 * a foreign key that vanished under a concurrent change 409, a database that is down or
 * overloaded 503. Undefined for anything else (which ends up as a 500).
 */
export function describeDbError(
  error: unknown,
  { conflicts = {}, notFound = {} }: DbErrorMessages,
): { status: 404 | 409 | 503; detail: string } | undefined {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    const model = typeof error.meta?.modelName === "string" ? error.meta.modelName : "";
    switch (error.code) {
      case "P2002":
        return {
          status: 409,
          detail: conflicts[constraintOf(error) ?? ""] ?? "A record with these values already exists",
        };
      case "P2025":
        return { status: 404, detail: notFound[model] ?? "Not found" };
      case "P2003":
        return { status: 409, detail: "A referenced record changed concurrently; try again" };
    }
  }
  if (isRetriableDbError(error)) return { status: 503, detail: "Database unavailable; try again" };
  return undefined;
}

/** The constraint a Prisma error names, as the pg driver adapter reports it. */
function constraintOf(error: Prisma.PrismaClientKnownRequestError): string | undefined {
  const adapterError = error.meta?.driverAdapterError as
    | { cause?: { constraint?: { index?: unknown } } }
    | undefined;
  const index = adapterError?.cause?.constraint?.index;
  return typeof index === "string" ? index : undefined;
}
