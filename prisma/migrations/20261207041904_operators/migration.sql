-- AlterTable
ALTER TABLE "audit_events" ADD COLUMN     "operator_id" INTEGER,
ADD COLUMN     "operator_name" TEXT;

-- CreateTable
CREATE TABLE "operators" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "token_prefix" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "operators_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "operators_token_hash_key" ON "operators"("token_hash");

-- CreateIndex
CREATE INDEX "audit_events_operator_id_id_idx" ON "audit_events"("operator_id", "id");
