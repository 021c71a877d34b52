-- AlterTable
ALTER TABLE "notification_channels" ADD COLUMN     "alert_types" "alert_type"[] DEFAULT ARRAY[]::"alert_type"[],
ADD COLUMN     "endpoints" TEXT[] DEFAULT ARRAY[]::TEXT[];
