-- AlterTable
ALTER TABLE "alerts" ADD COLUMN     "rise_notified_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "alerts_type_endpoint_rise_notified_at_idx" ON "alerts"("type", "endpoint", "rise_notified_at");

-- CreateIndex
CREATE INDEX "alerts_type_endpoint_escalated_at_idx" ON "alerts"("type", "endpoint", "escalated_at");
