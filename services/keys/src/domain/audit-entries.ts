// The audit rows of this service's changes: what each one says about a user or a key. A key's
// rows name it by its display prefix, which is not secret; no field list below holds keyHash,
// and the plaintext key never reaches this module.
import { type ApiKey, type AuditEntry, auditChanges, type Operator, type User } from "@apimon/db";

/** What a key's creation sets; a field left unset (null: no description, the default limit, never expires) is not listed. */
const KEY_CREATED_FIELDS = [
  "name",
  "description",
  "userId",
  "rateLimitMinute",
  "rateLimitHour",
  "rateLimitDay",
  "expiresAt",
] as const;
/** What `PATCH /keys/{id}` can change. */
const KEY_UPDATED_FIELDS = [
  "name",
  "description",
  "isActive",
  "expiresAt",
  "rateLimitMinute",
  "rateLimitHour",
  "rateLimitDay",
] as const;
/** Enough of a deleted key to recognise it in the log. */
const KEY_DELETED_FIELDS = ["name", "keyPrefix", "userId"] as const;
const USER_FIELDS = ["email", "name"] as const;

/** A key as its deletion's audit row describes it. */
export type KeyIdentity = Pick<ApiKey, "id" | "name" | "keyPrefix" | "userId">;
export type UserIdentity = Pick<User, "id" | "email" | "name">;

/** `"billing" (ak_Xy12…)`: the name as JSON quotes it, so that any name stays on one line. */
function keyLabel(key: Pick<ApiKey, "name" | "keyPrefix">): string {
  return `${JSON.stringify(key.name)} (${key.keyPrefix}…)`;
}

function userLabel(user: UserIdentity): string {
  return `user ${user.id} ${JSON.stringify(user.name)} (${user.email})`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** A grace period in the largest unit that divides it: `1 hour`, `90 seconds`, `30 days`. */
export function graceText(seconds: number): string {
  if (seconds > 0 && seconds % 86_400 === 0) return plural(seconds / 86_400, "day");
  if (seconds > 0 && seconds % 3600 === 0) return plural(seconds / 3600, "hour");
  if (seconds > 0 && seconds % 60 === 0) return plural(seconds / 60, "minute");
  return plural(seconds, "second");
}

export function userCreated(user: UserIdentity): AuditEntry {
  return {
    action: "user.created",
    targetType: "user",
    targetId: user.id,
    summary: `created ${userLabel(user)}`,
    changes: auditChanges(null, user, USER_FIELDS),
  };
}

/** Null when the update gave the user the values they already had: nothing changed to record. */
export function userUpdated(before: UserIdentity, after: UserIdentity): AuditEntry | null {
  const changes = auditChanges(before, after, USER_FIELDS);
  const changed = Object.keys(changes);
  if (changed.length === 0) return null;
  return {
    action: "user.updated",
    targetType: "user",
    targetId: after.id,
    summary: `updated ${userLabel(after)}: ${changed.join(", ")}`,
    changes,
  };
}

export function userDeleted(user: UserIdentity, keyCount: number): AuditEntry {
  const keys = keyCount === 0 ? "no keys" : `their ${plural(keyCount, "key")}`;
  return {
    action: "user.deleted",
    targetType: "user",
    targetId: user.id,
    summary: `deleted ${userLabel(user)} with ${keys}`,
    changes: auditChanges(user, null, USER_FIELDS),
  };
}

/** A new key; `rotatedFromId` when it is the successor a rotation issued. */
export function keyCreated(key: ApiKey, rotatedFromId: number | null = null): AuditEntry {
  const how = rotatedFromId === null ? "" : ` by rotating key ${rotatedFromId}`;
  return {
    action: "key.created",
    targetType: "key",
    targetId: key.id,
    summary: `created key ${keyLabel(key)} for user ${key.userId}${how}`,
    changes: auditChanges(null, key, KEY_CREATED_FIELDS),
  };
}

/**
 * `key.deactivated` or `key.reactivated` when the update turned the key off or on, else
 * `key.updated`. Null when the update gave the key the values it already had: the log records
 * changes, and this was none.
 */
export function keyUpdated(before: ApiKey, after: ApiKey): AuditEntry | null {
  const changes = auditChanges(before, after, KEY_UPDATED_FIELDS);
  const changed = Object.keys(changes);
  if (changed.length === 0) return null;
  const label = keyLabel(after);
  if (changes.isActive === undefined) {
    return {
      action: "key.updated",
      targetType: "key",
      targetId: after.id,
      summary: `updated key ${label}: ${changed.join(", ")}`,
      changes,
    };
  }
  const verb = after.isActive ? "reactivated" : "deactivated";
  const others = changed.filter((field) => field !== "isActive");
  const also = others.length === 0 ? "" : `, also changing ${others.join(", ")}`;
  return {
    action: after.isActive ? "key.reactivated" : "key.deactivated",
    targetType: "key",
    targetId: after.id,
    summary: `${verb} key ${label}${also}`,
    changes,
  };
}

/** The old key of a rotation, whose life the rotation shortened to the grace period (or left, if shorter). */
export function keyRotated(
  before: ApiKey,
  after: ApiKey,
  successor: Pick<ApiKey, "id" | "keyPrefix">,
  graceSeconds: number,
): AuditEntry {
  return {
    action: "key.rotated",
    targetType: "key",
    targetId: after.id,
    summary:
      `rotated key ${keyLabel(after)} to key ${successor.id} (${successor.keyPrefix}…) ` +
      `with a grace period of ${graceText(graceSeconds)}`,
    changes: auditChanges(before, after, ["expiresAt"]),
  };
}

/** A deleted key; `withUser` when it went with its user's deletion. */
export function keyDeleted(key: KeyIdentity, { withUser = false } = {}): AuditEntry {
  const how = withUser ? `with user ${key.userId}` : `of user ${key.userId}`;
  return {
    action: "key.deleted",
    targetType: "key",
    targetId: key.id,
    summary: `deleted key ${keyLabel(key)} ${how}`,
    changes: auditChanges(key, null, KEY_DELETED_FIELDS),
  };
}

type OperatorIdentity = Pick<Operator, "id" | "name" | "role" | "tokenPrefix">;

function operatorLabel(operator: OperatorIdentity): string {
  return `operator ${operator.id} ${JSON.stringify(operator.name)} (${operator.role}, ${operator.tokenPrefix}…)`;
}

/** A new operator: its name and role; the token is never in the log, its hash neither. */
export function operatorCreated(operator: OperatorIdentity): AuditEntry {
  return {
    action: "operator.created",
    targetType: "operator",
    targetId: operator.id,
    summary: `created ${operatorLabel(operator)}`,
    changes: auditChanges(null, operator, ["name", "role", "tokenPrefix"]),
  };
}

/** An operator renamed or given another role; null when nothing changed. */
export function operatorUpdated(before: OperatorIdentity, after: OperatorIdentity): AuditEntry | null {
  const changes = auditChanges(before, after, ["name", "role"]);
  const changed = Object.keys(changes);
  if (changed.length === 0) return null;
  const role = changes.role ? `, now ${after.role}` : "";
  return {
    action: "operator.updated",
    targetType: "operator",
    targetId: after.id,
    summary: `updated ${operatorLabel(before)}: ${changed.join(", ")}${role}`,
    changes,
  };
}

export function operatorRevoked(operator: OperatorIdentity): AuditEntry {
  return {
    action: "operator.revoked",
    targetType: "operator",
    targetId: operator.id,
    summary: `revoked the token of ${operatorLabel(operator)}`,
  };
}
