// The one place that decides whether a database error is worth retrying. Errors reach callers
// in several wrappings: a pg error (SQLSTATE in `code`), a Node socket error (`ECONNREFUSED`),
// pg's own "Connection terminated" errors (no code at all), Prisma errors (`P1001`...) that
// carry the driver adapter's error in `meta.driverAdapterError` (with `cause.kind` and
// `cause.originalCode`), and any of these as the `cause` of another error. So every layer is
// inspected.

/**
 * SQLSTATEs after which the same statement or transaction may succeed when tried again:
 * serialization failure, deadlock, lock timeout, server shutting down or starting, connection
 * exceptions and running out of connections.
 */
const RETRIABLE_SQLSTATES = new Set([
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "55P03", // lock_not_available (lock_timeout)
  "57P01", // admin_shutdown (pg_terminate_backend, fast shutdown)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, recovering)
  "53300", // too_many_connections
  "53400", // configuration_limit_exceeded
  "08000", // connection_exception
  "08001", // sqlclient_unable_to_establish_sqlconnection
  "08003", // connection_does_not_exist
  "08004", // sqlserver_rejected_establishment_of_sqlconnection
  "08006", // connection_failure
]);

/** Node socket and DNS errors of a server that is down, restarting or out of reach for now. */
const RETRIABLE_NODE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

/**
 * Prisma error codes of the same kinds: P1001 can't reach the server, P1002 / P1008 timed
 * out, P1017 server closed the connection, P2024 connection pool timeout, P2028 transaction
 * could not start or expired, P2034 write conflict or deadlock, P2037 too many connections.
 */
const RETRIABLE_PRISMA_CODES = new Set([
  "P1001",
  "P1002",
  "P1008",
  "P1017",
  "P2024",
  "P2028",
  "P2034",
  "P2037",
]);

/** The driver adapter's error kinds (`meta.driverAdapterError.cause.kind`) that say the same. */
const RETRIABLE_ADAPTER_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TransactionWriteConflict",
  "TooManyConnections",
]);

/** pg and pg-pool report lost or unobtainable connections with messages only. */
const RETRIABLE_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error and is not queryable/i,
  /Client was closed and is not queryable/i,
  /terminating connection due to administrator command/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /Can't reach database server/i,
  /Server has closed the connection/i,
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function layerIsRetriable(layer: Record<string, unknown>): boolean {
  for (const key of ["code", "originalCode", "errorCode", "kind"] as const) {
    const value = layer[key];
    if (
      typeof value === "string" &&
      (RETRIABLE_SQLSTATES.has(value) ||
        RETRIABLE_NODE_CODES.has(value) ||
        RETRIABLE_PRISMA_CODES.has(value) ||
        RETRIABLE_ADAPTER_KINDS.has(value))
    ) {
      return true;
    }
  }
  const message = layer.message;
  return typeof message === "string" && RETRIABLE_MESSAGES.some((pattern) => pattern.test(message));
}

/** Walks an error's layers (itself, `cause`, Prisma's `meta.driverAdapterError`, `errors`) until `test` holds. */
function someLayer(error: unknown, test: (layer: Record<string, unknown>) => boolean): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.size < 20) {
    const layer = queue.shift();
    if (!isRecord(layer) || seen.has(layer)) continue;
    seen.add(layer);
    if (test(layer)) return true;
    queue.push(layer.cause);
    if (isRecord(layer.meta)) queue.push(layer.meta.driverAdapterError);
    // AggregateError, e.g. from a dual-stack connect that failed on every address.
    if (Array.isArray(layer.errors)) queue.push(...layer.errors);
  }
  return false;
}

/**
 * True when a database error is transient (connection refused, reset or terminated, server
 * shutting down, too many connections, serialization failure, deadlock, pool timeout...), so
 * that the operation may be retried. Constraint violations, bad SQL and the like are false.
 */
export function isRetriableDbError(error: unknown): boolean {
  return someLayer(error, layerIsRetriable);
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation). */
const ROW_DATA_SQLSTATE = /^2[23][0-9A-Z]{3}$/;

/**
 * True when the database refused the data itself (a value out of range, a NUL byte in a text,
 * a constraint), so that the same rows would fail again however often they are retried.
 */
export function isRowDataError(error: unknown): boolean {
  return someLayer(error, (layer) =>
    (["originalCode", "code"] as const).some((key) => {
      const value = layer[key];
      return typeof value === "string" && ROW_DATA_SQLSTATE.test(value);
    }),
  );
}

/**
 * True when the error came from the database or its client: Prisma's request and connection
 * errors, the driver adapter's, or pg's (a SQLSTATE with a severity). Not Prisma's validation
 * errors, which are bugs in the query, not answers of the database.
 */
function isDatabaseError(error: unknown): boolean {
  return someLayer(error, (layer) => {
    const name = typeof layer.name === "string" ? layer.name : "";
    if (name === "PrismaClientValidationError") return false;
    return (
      name.startsWith("PrismaClient") ||
      name === "DriverAdapterError" ||
      name === "DatabaseError" ||
      (typeof layer.severity === "string" &&
        typeof layer.code === "string" &&
        /^[0-9A-Z]{5}$/.test(layer.code))
    );
  });
}

/**
 * The consumers' retry policy for database errors: retry until the database answers, whether
 * it was down, a table is missing or a privilege was revoked, since the same message succeeds
 * once that is mended and dead-lettering it would lose it for good; except errors the row
 * itself caused (data exceptions, constraint violations), which go to the DLQ per message.
 */
export function shouldRetryDbError(error: unknown): boolean {
  return isRetriableDbError(error) || (isDatabaseError(error) && !isRowDataError(error));
}
