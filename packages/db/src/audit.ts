import type { AuditAction, AuditTargetType } from "@apimon/config";
import type { Prisma } from "./generated/client";

/** A field's value before and after a change (null before a creation and after a deletion). */
export type AuditChanges = Record<string, { from: AuditValue; to: AuditValue }>;
export type AuditValue = string | number | boolean | null | AuditValue[] | { [field: string]: AuditValue };

/** Who asked for a change (the admin APIs' `AuditActor`). */
export interface AuditActorFields {
  source: string;
  clientAddress: string | null;
  userAgent: string | null;
  requestId: string | null;
  /** The operator whose token made the change; null for the admin token. */
  operator: { id: number; name: string } | null;
}

export interface AuditEntry {
  action: AuditAction;
  targetType: AuditTargetType;
  targetId?: number | null;
  summary: string;
  changes?: AuditChanges;
}

/** A value as the audit log keeps it: dates as ISO text, undefined as null, the rest as JSON has it. */
export function auditValue(value: unknown): AuditValue {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(auditValue);
  if (typeof value === "object") {
    const out: Record<string, AuditValue> = {};
    for (const [field, inner] of Object.entries(value)) out[field] = auditValue(inner);
    return out;
  }
  if (typeof value === "bigint") return value.toString();
  return value as string | number | boolean;
}

/**
 * The fields of `fields` whose value differs between `before` and `after`, as the audit log
 * keeps them. A creation passes `null` as `before`, a deletion `null` as `after`.
 */
export function auditChanges<T extends object>(
  before: T | null,
  after: T | null,
  fields: readonly (keyof T & string)[],
): AuditChanges {
  const changes: AuditChanges = {};
  for (const field of fields) {
    const from = before === null ? null : auditValue(before[field]);
    const to = after === null ? null : auditValue(after[field]);
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[field] = { from, to };
  }
  return changes;
}

/**
 * Writes the audit row of a change in the change's own transaction: it commits with the change
 * or not at all.
 */
export async function recordAudit(
  tx: Prisma.TransactionClient,
  actor: AuditActorFields,
  entry: AuditEntry,
): Promise<void> {
  await recordAudits(tx, actor, [entry]);
}

/** The audit rows of the changes one request made, in one statement, in its transaction. */
export async function recordAudits(
  tx: Prisma.TransactionClient,
  actor: AuditActorFields,
  entries: readonly AuditEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  await tx.auditEvent.createMany({
    data: entries.map((entry) => ({
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId ?? null,
      summary: entry.summary,
      changes: entry.changes === undefined ? undefined : (entry.changes as Prisma.InputJsonValue),
      source: actor.source,
      clientAddress: actor.clientAddress,
      userAgent: actor.userAgent,
      requestId: actor.requestId,
      operatorId: actor.operator?.id ?? null,
      operatorName: actor.operator?.name ?? null,
    })),
  });
}
