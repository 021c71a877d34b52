import type { PrismaClient } from "@apimon/db";
import { attemptDeliveryId } from "@apimon/events";

export type AttemptStatus = "succeeded" | "failed" | "retrying";

export interface AttemptRow {
  /** The job's deliveryId on the final attempt's row, a derived id on the others. */
  deliveryId: string;
  alertId: number | null;
  /** The other alerts a grouped message names (the job's others). */
  otherAlertIds?: readonly number[];
  channelId: number;
  attempt: number;
  status: AttemptStatus;
  responseCode: number | null;
  error: string | null;
  latencyMs: number | null;
}

export interface JobProgress {
  /** The final status when the job was already delivered or given up. */
  final: "succeeded" | "failed" | null;
  /** The highest attempt already logged (0 for none). */
  lastAttempt: number;
}

/** notification_deliveries: one row per attempt, written idempotently. */
export interface DeliveryLog {
  /** What earlier runs of this job (a redelivery after a crash or rebalance) already did. */
  progress(deliveryId: string, maxAttempts: number): Promise<JobProgress>;
  /** Writes an attempt's row once; false when it was there already or the channel is gone. */
  record(row: AttemptRow): Promise<boolean>;
  /**
   * Makes a failed delivery's final row (attempt `attempt`) an earlier attempt's, under its
   * derived id and still `failed`, so that the job can be delivered again: a dead letter replayed.
   */
  reopen(deliveryId: string, attempt: number): Promise<void>;
}

const MAX_ERROR_LENGTH = 2000;

export function createDeliveryLog({ prisma }: { prisma: PrismaClient }): DeliveryLog {
  return {
    async progress(deliveryId, maxAttempts) {
      const ids = [deliveryId];
      for (let attempt = 1; attempt <= maxAttempts; attempt++)
        ids.push(attemptDeliveryId(deliveryId, attempt));
      const rows = await prisma.$queryRaw<Array<{ delivery_id: string; attempt: number; status: string }>>`
        SELECT delivery_id::text AS delivery_id, attempt, status::text AS status
        FROM notification_deliveries WHERE delivery_id = ANY(${ids}::uuid[])`;
      let final: JobProgress["final"] = null;
      let lastAttempt = 0;
      for (const row of rows) {
        if (row.delivery_id === deliveryId && (row.status === "succeeded" || row.status === "failed")) {
          final = row.status;
        }
        // A "pending" row under the job's id (written by whoever queued it) is not an attempt.
        if (row.status !== "pending") lastAttempt = Math.max(lastAttempt, row.attempt);
      }
      return { final, lastAttempt };
    },

    async record(row) {
      const error = row.error === null ? null : row.error.slice(0, MAX_ERROR_LENGTH);
      // INSERT ... SELECT FROM notification_channels: a deleted channel's rows are gone with it
      // (ON DELETE CASCADE), and inserting one would break its foreign key. An alert deleted
      // meanwhile leaves alert_id null for the same reason. ON CONFLICT: a redelivered job
      // logs each attempt once; only a "pending" placeholder under the job's id is completed.
      const written = await prisma.$executeRaw`
        INSERT INTO notification_deliveries
          (delivery_id, alert_id, other_alert_ids, channel_id, attempt, status, response_code, error, latency_ms)
        SELECT ${row.deliveryId}::uuid,
               (SELECT a.id FROM alerts a WHERE a.id = ${row.alertId}::int),
               ${[...(row.otherAlertIds ?? [])]}::int[],
               c.id, ${row.attempt}::int, ${row.status}::delivery_status,
               ${row.responseCode}::int, ${error}::text, ${row.latencyMs}::int
        FROM notification_channels c WHERE c.id = ${row.channelId}::int
        ON CONFLICT (delivery_id) DO UPDATE SET
          alert_id = EXCLUDED.alert_id, other_alert_ids = EXCLUDED.other_alert_ids, attempt = EXCLUDED.attempt, status = EXCLUDED.status,
          response_code = EXCLUDED.response_code, error = EXCLUDED.error,
          latency_ms = EXCLUDED.latency_ms, created_at = now()
        WHERE notification_deliveries.status = 'pending'`;
      return written > 0;
    },

    async reopen(deliveryId, attempt) {
      await prisma.$executeRaw`
        UPDATE notification_deliveries SET delivery_id = ${attemptDeliveryId(deliveryId, attempt)}::uuid
        WHERE delivery_id = ${deliveryId}::uuid AND status = 'failed'`;
    },
  };
}
