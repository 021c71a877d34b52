// The audit log's vocabulary, shared by the services that write it, the API that lists it and
// the console and CLI that read it.

/** What a change is about. */
export const auditTargetTypes = [
  "user",
  "key",
  "settings",
  "channel",
  "silence",
  "operator",
  "alert",
] as const;
export type AuditTargetType = (typeof auditTargetTypes)[number];

/** Who asked, as the caller says: the console, the CLI, or any other client of the API. */
export const auditSources = ["console", "cli", "api"] as const;
export type AuditSource = (typeof auditSources)[number];

/** Every change the audit log records, `<target>.<verb>`. */
export const auditActions = [
  "user.created",
  "user.updated",
  "user.deleted",
  "key.created",
  "key.updated",
  "key.deactivated",
  "key.reactivated",
  "key.rotated",
  "key.deleted",
  "settings.updated",
  "channel.created",
  "channel.updated",
  "channel.enabled",
  "channel.disabled",
  "channel.deleted",
  "silence.created",
  "silence.updated",
  "silence.ended",
  "operator.created",
  "operator.updated",
  "operator.revoked",
  "alert.acknowledged",
] as const satisfies readonly `${AuditTargetType}.${string}`[];
export type AuditAction = (typeof auditActions)[number];

/**
 * What an operator's token may do: `admin` everything the admin token may, `viewer` only read
 * (GET and HEAD).
 */
export const operatorRoles = ["admin", "viewer"] as const;
export type OperatorRole = (typeof operatorRoles)[number];

/**
 * How every operator token starts, so that a leaked one is recognisable (and scannable), and a
 * token that does not start so is no operator's without asking the database.
 */
export const OPERATOR_TOKEN_PREFIX = "apimon_op_";
