import { Prisma } from "./generated/client";

/** The tables whose rows an admin change locks before reading them. */
export type LockableTable = "users" | "api_keys" | "notification_channels" | "silences" | "operators";

/**
 * Locks the row of `table` with this id until the transaction ends, so that concurrent changes
 * to it take turns and what a change reads of it (its checks, its audit row's "from") cannot go
 * stale. False when there is no such row. Prisma has no FOR UPDATE; read the row after this.
 */
export async function lockRowForUpdate(
  tx: Prisma.TransactionClient,
  table: LockableTable,
  id: number,
): Promise<boolean> {
  const rows = await tx.$queryRaw<unknown[]>`SELECT 1 FROM ${Prisma.raw(table)} WHERE id = ${id} FOR UPDATE`;
  return rows.length > 0;
}
