import { type AlertSettings, alertSettingsSchema, DEFAULT_ALERT_SETTINGS } from "@apimon/config";
import type { Prisma, PrismaClient } from "@apimon/db";
import type { Logger } from "@apimon/observability";

/** The settings in force and when they were last changed (null: never, the defaults apply). */
export interface EffectiveSettings {
  settings: AlertSettings;
  updatedAt: Date | null;
}

type Db = Pick<PrismaClient, "alertSettings"> | Prisma.TransactionClient;

/** The transaction-scoped advisory lock that orders changes of the alert settings. */
const SETTINGS_WRITE_LOCK_KEY = 72_707_400n;

/**
 * Makes changes of the settings take turns until each commits: two saves based on one version
 * cannot both pass the version check, and a change made by reading and rewriting them (a deleted
 * channel leaving the escalation policy) neither undoes a save nor records a stale "from" in the
 * audit log. A row lock would not do: before the first save there is no row.
 */
export async function lockSettings(tx: Prisma.TransactionClient): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SETTINGS_WRITE_LOCK_KEY})`;
}

/**
 * Reads the single alert_settings row. No row means the defaults. A row that no longer parses
 * (written by another version, or by hand) is logged and replaced by the defaults, rather than
 * stopping reminders and escalation altogether.
 */
export async function readSettings(db: Db, logger?: Logger): Promise<EffectiveSettings> {
  const row = await db.alertSettings.findUnique({ where: { id: 1 } });
  if (!row) return { settings: DEFAULT_ALERT_SETTINGS, updatedAt: null };
  const parsed = alertSettingsSchema.safeParse({
    alertThresholds: row.alertThresholds,
    repeatIntervalSeconds: row.repeatIntervalSeconds,
    groupIntervalSeconds: row.groupIntervalSeconds,
    escalation: row.escalation,
  });
  if (!parsed.success) {
    logger?.error(
      { issues: parsed.error.issues.slice(0, 5) },
      "alert_settings row is invalid; using the default settings",
    );
    return { settings: DEFAULT_ALERT_SETTINGS, updatedAt: row.updatedAt };
  }
  return { settings: parsed.data, updatedAt: row.updatedAt };
}

/** Replaces the settings row (every field: what PUT takes is the whole document). */
export async function writeSettings(db: Db, settings: AlertSettings): Promise<EffectiveSettings> {
  const data = {
    alertThresholds: settings.alertThresholds as unknown as Prisma.InputJsonObject,
    repeatIntervalSeconds: settings.repeatIntervalSeconds,
    groupIntervalSeconds: settings.groupIntervalSeconds,
    escalation: settings.escalation as unknown as Prisma.InputJsonObject,
  };
  const row = await db.alertSettings.upsert({ where: { id: 1 }, create: { id: 1, ...data }, update: data });
  return { settings, updatedAt: row.updatedAt };
}
