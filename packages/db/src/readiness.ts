import type { Logger, ReadinessCheck } from "@apimon/observability";

/**
 * The readiness check of a service that needs its database: one round trip. The error may name
 * hosts or users, so it goes to the log and the unauthenticated probe only learns that it failed.
 */
export function databaseReadiness(
  prisma: { $queryRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<unknown> },
  logger: Logger,
): ReadinessCheck {
  return async () => {
    try {
      await prisma.$queryRaw`select 1`;
      return { ok: true };
    } catch (err) {
      logger.warn({ err }, "database readiness check failed");
      return { ok: false, detail: "database unreachable" };
    }
  };
}
