-- AlterTable
ALTER TABLE "alerts" ADD COLUMN     "resolution_notified_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "alerts_type_endpoint_resolution_notified_at_idx" ON "alerts"("type", "endpoint", "resolution_notified_at");

-- CreateIndex
CREATE INDEX "alerts_held_until_idx" ON "alerts"("held_until") WHERE (held_until IS NOT NULL);
