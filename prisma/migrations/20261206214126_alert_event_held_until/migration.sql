-- AlterTable
ALTER TABLE "alert_events" ADD COLUMN     "held_until" TIMESTAMPTZ(3);
