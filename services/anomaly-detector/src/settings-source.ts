import { type AlertThresholdSettings, alertThresholdsSchema, DEFAULT_ALERT_SETTINGS } from "@apimon/config";
import type { PrismaClient } from "@apimon/db";
import { counter, createPeriodicTask, gauge, type Logger, type Registry } from "@apimon/observability";

/** Where the settings row is read from; a seam so unit tests need no database. */
export interface SettingsStore {
  /** The row's updated_at, or null when there is no row: a cheap change check. */
  readVersion(): Promise<Date | null>;
  /** The row's thresholds document (unparsed) and updated_at, or null when there is no row. */
  readThresholds(): Promise<{ thresholds: unknown; updatedAt: Date } | null>;
}

/** The `alert_settings` row (id 1) through Prisma. */
export function createPrismaSettingsStore(prisma: PrismaClient): SettingsStore {
  return {
    async readVersion() {
      const row = await prisma.alertSettings.findUnique({ where: { id: 1 }, select: { updatedAt: true } });
      return row?.updatedAt ?? null;
    },
    async readThresholds() {
      const row = await prisma.alertSettings.findUnique({
        where: { id: 1 },
        select: { alertThresholds: true, updatedAt: true },
      });
      return row && { thresholds: row.alertThresholds, updatedAt: row.updatedAt };
    },
  };
}

export interface SettingsSource {
  /** The thresholds in force: the row's, the defaults while there is none. */
  current(): AlertThresholdSettings;
  /** Loads once (failing soft: defaults until a load succeeds), then polls every pollMs. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** One poll now; resolves true when the thresholds changed. */
  refresh(): Promise<boolean>;
  /** A load has succeeded at least once and the last poll reached the database. */
  isHealthy(): boolean;
  /** The updated_at of the row in force (null: defaults). */
  version(): Date | null;
}

/**
 * Reads the alert thresholds from `alert_settings` and keeps them current: every `pollMs` it
 * compares the row's updated_at (one indexed primary-key read) and reloads only on a change, so
 * an edit through the alerts API applies within a poll interval, without a restart. A document
 * that fails the schema is logged and ignored: the previous thresholds stay in force.
 */
export function createSettingsSource({
  store,
  logger,
  pollMs,
  registry,
}: {
  store: SettingsStore;
  logger: Logger;
  pollMs: number;
  registry?: Registry;
}): SettingsSource {
  const log = logger.child({ component: "settings" });
  const reloads = counter(
    registry,
    "detector_settings_reloads_total",
    "Alert settings loads, by outcome (applied, invalid, error)",
    ["outcome"],
  );
  const appliedAt = gauge(
    registry,
    "detector_settings_updated_at_seconds",
    "updated_at of the alert settings in force (0 while the defaults apply)",
  );
  let thresholds: AlertThresholdSettings = DEFAULT_ALERT_SETTINGS.alertThresholds;
  let version: Date | null = null;
  let loaded = false;
  let reachable = false;

  async function poll(): Promise<boolean> {
    try {
      const latest = await store.readVersion();
      reachable = true;
      if (loaded && latest?.getTime() === version?.getTime()) return false;
      if (latest === null) {
        const changed = version !== null || !loaded;
        thresholds = DEFAULT_ALERT_SETTINGS.alertThresholds;
        version = null;
        loaded = true;
        appliedAt.set(0);
        if (changed) log.info("no alert_settings row: the default thresholds apply");
        return changed;
      }
      const row = await store.readThresholds();
      if (row === null) return false;
      const parsed = alertThresholdsSchema.safeParse(row.thresholds);
      // Remember the version either way, so an invalid row is reported once, not every poll.
      version = row.updatedAt;
      loaded = true;
      if (!parsed.success) {
        reloads.inc({ outcome: "invalid" });
        log.error(
          { issues: parsed.error.issues.slice(0, 10), updatedAt: row.updatedAt },
          "alert_settings.alert_thresholds fails its schema; keeping the thresholds in force",
        );
        return false;
      }
      thresholds = parsed.data;
      reloads.inc({ outcome: "applied" });
      appliedAt.set(row.updatedAt.getTime() / 1000);
      log.info({ updatedAt: row.updatedAt, thresholds }, "alert thresholds applied");
      return true;
    } catch (err) {
      reachable = false;
      reloads.inc({ outcome: "error" });
      log.warn({ err }, "could not read alert settings; keeping the thresholds in force");
      return false;
    }
  }

  const task = createPeriodicTask({
    name: "settings poll",
    logger: log,
    intervalMs: pollMs,
    firstRun: "await",
    run: poll,
  });

  return {
    current: () => thresholds,
    start: () => task.start(),
    stop: () => task.stop(),
    refresh: () => task.runNow(),
    isHealthy: () => loaded && reachable,
    version: () => version,
  };
}
