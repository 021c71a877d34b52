-- AlterEnum
ALTER TYPE "alert_event_kind" ADD VALUE 'grouped';

-- AlterTable
ALTER TABLE "alert_settings" ADD COLUMN     "group_interval_seconds" INTEGER NOT NULL DEFAULT 300;

-- AlterTable
ALTER TABLE "alerts" ADD COLUMN     "held_until" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "notification_deliveries" ADD COLUMN     "other_alert_ids" INTEGER[] DEFAULT ARRAY[]::INTEGER[];

-- CreateIndex
CREATE INDEX "alerts_type_endpoint_last_notified_at_idx" ON "alerts"("type", "endpoint", "last_notified_at");

-- CreateIndex
CREATE INDEX "notification_deliveries_other_alert_ids_idx" ON "notification_deliveries" USING GIN ("other_alert_ids");
