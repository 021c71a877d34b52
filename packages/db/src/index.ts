// @apimon/db: the Prisma client (generated from prisma/schema.prisma by `pnpm db:generate`),
// the migration runner and database error classification.
export {
  type AuditActorFields,
  type AuditChanges,
  type AuditEntry,
  type AuditValue,
  auditChanges,
  auditValue,
  recordAudit,
  recordAudits,
} from "./audit";
export { createPrismaClient, type PrismaClientOptions } from "./client";
export { createDatabase, dropDatabase, withDatabaseName } from "./databases";
export { isRetriableDbError, isRowDataError, shouldRetryDbError } from "./errors";
export {
  type Alert,
  type AlertEvent,
  AlertEventKind,
  type AlertSettings,
  AlertSeverity,
  AlertStatus,
  AlertType,
  type ApiKey,
  type ApiUsage,
  type AuditEvent,
  type ConsumerOffset,
  DeliveryStatus,
  type NotificationChannel,
  NotificationChannelType,
  type NotificationDelivery,
  type Operator,
  type Outbox,
  Prisma,
  PrismaClient,
  type Silence,
  type User,
} from "./generated/client";
export { type DbErrorMessages, describeDbError } from "./http-errors";
export { escapeLike } from "./like";
export { type LockableTable, lockRowForUpdate } from "./locks";
export {
  DEFAULT_MIGRATIONS_DIR,
  MIGRATION_ADVISORY_LOCK_KEY,
  type MigrateLogger,
  type MigrateOptions,
  type MigrateResult,
  MigrationError,
  type MigrationErrorCode,
  migrate,
  readMigrations,
  resolveSchema,
} from "./migrate";
export { runMigrateCli } from "./migrate-cli";
export {
  createOperatorDirectory,
  newOperatorToken,
  type OperatorIdentity,
  operatorTokenHash,
} from "./operators";
export { databaseReadiness } from "./readiness";
