-- AlterTable
ALTER TABLE "notification_channels" ADD COLUMN     "user_ids" INTEGER[] DEFAULT ARRAY[]::INTEGER[];
