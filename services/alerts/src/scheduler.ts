import type { AlertSettings } from "@apimon/config";
import {
  type Alert,
  type AlertEventKind,
  type NotificationChannel,
  Prisma,
  type PrismaClient,
} from "@apimon/db";
import { counter, createPeriodicTask, type Logger, type Registry } from "@apimon/observability";
import type { AlertLog } from "./alert-log";
import { channelTakesAlertScope } from "./domain/endpoints";
import { groupAlerts, groupsInLockOrder, takesSeverity } from "./domain/grouping";
import {
  escalationChannels,
  escalationCutoff,
  isEscalationDue,
  isReminderDue,
  reminderCutoff,
} from "./domain/routing";
import { silencedAt } from "./domain/silences";
import { groupLastTold } from "./groups";
import { enabledChannels, type JobReason, notifyGroup, type Tx } from "./notifications";
import { readSettings } from "./settings";

/** A batch of up to `batchSize` alerts, a few statements each, in one transaction. */
const TRANSACTION = { timeout: 30_000, maxWait: 10_000 };

export interface SchedulerRun {
  /** Alerts reminded about, or notified for the first time (after a silence, or held for their group). */
  reminders: number;
  /** Alerts the escalation policy sent to its channels. */
  escalations: number;
  /** Resolutions told, held back for their group until now. */
  resolutions: number;
  /** Rises in severity told, held back for their group until now. */
  rises: number;
}

export interface Scheduler {
  /** Starts the loop in the background and returns at once. */
  start(): void;
  /** Lets the run in flight finish, then stops. */
  stop(): Promise<void>;
  /** One pass: reminders, the escalation policy, then held rises and resolutions (tests call it with their own clock). */
  runOnce(): Promise<SchedulerRun>;
  /** Running, and fewer than three passes in a row have failed. */
  isHealthy(): boolean;
}

export interface SchedulerDeps {
  prisma: PrismaClient;
  logger: Logger;
  alertLog: AlertLog;
  consoleUrl: string;
  intervalMs: number;
  registry?: Registry;
  clock?: () => Date;
  /** Alerts locked and handled per transaction. */
  batchSize?: number;
  /** Called after a transaction that queued notification jobs (wakes the outbox relay). */
  onJobsQueued?: () => void;
}

/**
 * Reminders and the escalation policy, on a timer:
 * - a firing (unacknowledged) alert whose last notification is older than the repeat interval
 *   gets a reminder on every channel that routes its severity; acknowledging stops them;
 * - a firing alert never notified (it opened under a silence) is notified once no silence
 *   matches it (a `released` event);
 * - a firing alert held back for its group (another alert of its type and endpoint was notified
 *   less than the group interval ago) is notified once the hold is over (a `grouped` event);
 * - the alerts of one type and endpoint due in one pass go in one message per channel, first
 *   notifications and reminders each in their own;
 * - rises in severity and resolutions held back for their group go, once the hold is over, in
 *   one message per group and channel (a `grouped` event);
 * - an alert an active silence matches gets neither, until the silence is over;
 * - a critical alert still firing unacknowledged `escalation.afterSeconds` after it became
 *   critical goes, once, to the escalation channels, with the others of its group due then; a
 *   group the policy took less than the group interval ago waits for the interval.
 * Safe with several replicas: each pass locks the due alerts with FOR UPDATE SKIP LOCKED and
 * moves them out of the due set (last_notified_at, escalated_at) in the same transaction as
 * their jobs, so another replica either skips them or no longer finds them due.
 */
export function createScheduler({
  prisma,
  logger,
  alertLog,
  consoleUrl,
  intervalMs,
  registry,
  clock = () => new Date(),
  batchSize = 100,
  onJobsQueued,
}: SchedulerDeps): Scheduler {
  const log = logger.child({ component: "scheduler" });
  const runs = counter(registry, "alerts_scheduler_runs_total", "Scheduler passes, by result (ok, error)", [
    "result",
  ]);
  const sent = counter(
    registry,
    "alerts_scheduled_notifications_total",
    "Alerts reminded about, escalated or told risen in severity or resolved by the scheduler, by kind (reminder, escalation, rise, resolution)",
    ["kind"],
  );

  /**
   * Tells of one group of alerts in one message per channel that takes them (`takes`; default:
   * every one), marks them told (`told`) and records each one's timeline event, of `kind`, naming
   * its channels; answers, per alert id, those channels.
   */
  async function tellGroup(
    tx: Tx,
    group: readonly Alert[],
    { channels, now }: { channels: readonly NotificationChannel[]; now: Date },
    reason: JobReason,
    told: Prisma.AlertUpdateManyMutationInput,
    kind: (alert: Alert) => AlertEventKind,
    takes?: (channel: NotificationChannel, alert: Alert) => boolean,
  ): Promise<Map<number, number[]>> {
    const notified = await notifyGroup(tx, group, channels, reason, consoleUrl, takes);
    await tx.alert.updateMany({ where: { id: { in: group.map((alert) => alert.id) } }, data: told });
    await tx.alertEvent.createMany({
      data: group.map((alert) => ({
        alertId: alert.id,
        kind: kind(alert),
        severity: alert.severity,
        channelIds: notified.get(alert.id) ?? [],
        occurredAt: now,
      })),
    });
    return notified;
  }

  /**
   * Tells of `alerts` in one message per group (type and endpoint; each alone when grouping is
   * off) and channel that takes them by severity, marks them told (`told`; nothing held any
   * more) and records each one's timeline event, of `kind`, naming its channels.
   */
  async function tellInGroups(
    tx: Tx,
    alerts: readonly Alert[],
    { channels, groupingOff, now }: { channels: NotificationChannel[]; groupingOff: boolean; now: Date },
    reason: JobReason,
    told: Prisma.AlertUpdateManyMutationInput,
    kind: (alert: Alert) => AlertEventKind,
  ): Promise<void> {
    for (const group of groupingOff ? alerts.map((alert) => [alert]) : groupAlerts(alerts)) {
      await tellGroup(
        tx,
        group,
        { channels, now },
        reason,
        { ...told, heldUntil: null },
        kind,
        takesSeverity,
      );
    }
  }

  async function remind(
    now: Date,
    {
      repeatIntervalSeconds,
      groupIntervalSeconds,
    }: Pick<AlertSettings, "repeatIntervalSeconds" | "groupIntervalSeconds">,
  ): Promise<number> {
    const cutoff = reminderCutoff(now, repeatIntervalSeconds);
    const groupingOff = groupIntervalSeconds === 0;
    let total = 0;
    for (;;) {
      const { locked, reminded } = await prisma.$transaction(async (tx) => {
        const due = await tx.$queryRaw<{ id: number }[]>`
          SELECT id FROM alerts
          WHERE status = 'firing'
            AND ((last_notified_at IS NULL AND (held_until IS NULL OR held_until <= ${now} OR ${groupingOff}))
                 OR last_notified_at <= ${cutoff})
            AND NOT ${silencedAt(now)}
          ORDER BY id LIMIT ${batchSize}
          FOR UPDATE SKIP LOCKED`;
        if (due.length === 0) return { locked: 0, reminded: 0 };
        const alerts = (
          await tx.alert.findMany({ where: { id: { in: due.map((d) => d.id) } }, orderBy: { id: "asc" } })
        ).filter((alert) => isReminderDue(alert, now, repeatIntervalSeconds, groupIntervalSeconds));
        const channels = await enabledChannels(tx);
        // Never notified: their first notification ("firing"); else a reminder. Each kind goes
        // in one message per group and channel, unless grouping is off.
        for (const released of [true, false]) {
          await tellInGroups(
            tx,
            alerts.filter((alert) => (alert.lastNotifiedAt === null) === released),
            { channels, groupingOff, now },
            released ? "firing" : "reminder",
            { lastNotifiedAt: now },
            (alert) => (!released ? "reminded" : alert.heldUntil !== null ? "grouped" : "released"),
          );
        }
        return { locked: due.length, reminded: alerts.length };
      }, TRANSACTION);
      if (reminded > 0) onJobsQueued?.();
      total += reminded;
      // A full batch that was all handled may have more behind it; anything else ends the pass.
      if (locked < batchSize || reminded < locked) return total;
    }
  }

  /**
   * The news held back for its group that the scheduler tells once the hold is over: which held
   * alerts it is about (an open alert people heard of holds a rise in severity; a resolved one its
   * resolution), the reason it goes with and what marks it told.
   */
  const HELD_NEWS = {
    rise: {
      // Held rises wait for a silence like any other news; a resolution told meanwhile replaces them.
      where: (now: Date) =>
        Prisma.sql`status <> 'resolved' AND last_notified_at IS NOT NULL AND NOT ${silencedAt(now)}`,
      reason: "escalated",
      told: (now: Date): Prisma.AlertUpdateManyMutationInput => ({
        lastNotifiedAt: now,
        riseNotifiedAt: now,
      }),
    },
    resolution: {
      // Silences are not looked at again: the resolution was decided while none matched.
      where: () => Prisma.sql`status = 'resolved' AND resolution_notified_at IS NULL`,
      reason: "resolved",
      told: (now: Date): Prisma.AlertUpdateManyMutationInput => ({ resolutionNotifiedAt: now }),
    },
  } as const satisfies Record<
    string,
    {
      where: (now: Date) => Prisma.Sql;
      reason: JobReason;
      told: (now: Date) => Prisma.AlertUpdateManyMutationInput;
    }
  >;

  /**
   * Tells the rises in severity or the resolutions held back for their group whose hold is over,
   * one message per group and channel.
   */
  async function tellHeld(
    now: Date,
    news: keyof typeof HELD_NEWS,
    groupIntervalSeconds: number,
  ): Promise<number> {
    const groupingOff = groupIntervalSeconds === 0;
    const { where, reason, told } = HELD_NEWS[news];
    let total = 0;
    for (;;) {
      const count = await prisma.$transaction(async (tx) => {
        const due = await tx.$queryRaw<{ id: number }[]>`
          SELECT id FROM alerts
          WHERE held_until IS NOT NULL AND ${where(now)}
            AND (held_until <= ${now} OR ${groupingOff})
          ORDER BY id LIMIT ${batchSize}
          FOR UPDATE SKIP LOCKED`;
        if (due.length === 0) return 0;
        const alerts = await tx.alert.findMany({
          where: { id: { in: due.map((d) => d.id) } },
          orderBy: { id: "asc" },
        });
        const channels = await enabledChannels(tx);
        await tellInGroups(tx, alerts, { channels, groupingOff, now }, reason, told(now), () => "grouped");
        return alerts.length;
      }, TRANSACTION);
      if (count > 0) onJobsQueued?.();
      total += count;
      if (count < batchSize) return total;
    }
  }

  /**
   * The escalation policy: each critical alert firing unacknowledged `afterSeconds` goes to the
   * policy's channels once. Those of one group (type and endpoint) due in one pass go in one
   * message per channel; a group the policy took an alert of less than the group interval ago
   * waits until the interval is over, its alerts falling due meanwhile then going together.
   */
  async function escalate(
    now: Date,
    policy: AlertSettings["escalation"],
    groupIntervalSeconds: number,
  ): Promise<number> {
    if (!policy.enabled || policy.channelIds.length === 0) return 0;
    const cutoff = escalationCutoff(now, policy.afterSeconds);
    const groupingOff = groupIntervalSeconds === 0;
    const since = new Date(now.getTime() - groupIntervalSeconds * 1000);
    let total = 0;
    for (;;) {
      const { locked, escalated } = await prisma.$transaction(async (tx) => {
        const done: { alert: Alert; channelIds: number[] }[] = [];
        const channels = escalationChannels(policy, await enabledChannels(tx));
        // Without an enabled channel there is nowhere to escalate to: leave the alerts
        // unescalated, so that they go out once a channel is enabled. Likewise an alert none of
        // the policy's channels is for (by type and endpoint) stays unescalated.
        if (channels.length === 0) return { locked: 0, escalated: done };
        const due = await tx.$queryRaw<{ id: number }[]>`
          SELECT id FROM alerts
          WHERE status = 'firing' AND severity = 'critical' AND escalated_at IS NULL
            AND critical_at <= ${cutoff} AND NOT ${silencedAt(now)}
            AND EXISTS (
              SELECT 1 FROM notification_channels c
              WHERE c.id = ANY(${channels.map((c) => c.id)}::int[]) AND ${channelTakesAlertScope})
            AND (${groupingOff} OR NOT EXISTS (
              SELECT 1 FROM alerts g
              WHERE g.type = alerts.type AND g.endpoint IS NOT DISTINCT FROM alerts.endpoint
                AND g.escalated_at > ${since}))
          ORDER BY id LIMIT ${batchSize}
          FOR UPDATE SKIP LOCKED`;
        if (due.length === 0) return { locked: 0, escalated: done };
        const alerts = (
          await tx.alert.findMany({ where: { id: { in: due.map((d) => d.id) } }, orderBy: { id: "asc" } })
        ).filter((alert) => isEscalationDue(alert, now, policy));
        // Groups are locked in one order by every replica, so that two never wait on each other.
        const groups = groupingOff ? alerts.map((alert) => [alert]) : groupsInLockOrder(alerts);
        for (const group of groups) {
          // Another replica may have taken an alert of the group since the query above: then
          // this pass leaves the group to the next interval.
          if (!groupingOff && (await groupLastTold(tx, group[0] as Alert, "escalation", since)) !== null) {
            continue;
          }
          // The policy's channels take every alert it sends, whatever their minimum severity.
          const notified = await tellGroup(
            tx,
            group,
            { channels, now },
            "escalated",
            { escalatedAt: now },
            () => "escalation_policy",
          );
          for (const alert of group) {
            done.push({ alert: { ...alert, escalatedAt: now }, channelIds: notified.get(alert.id) ?? [] });
          }
        }
        return { locked: due.length, escalated: done };
      }, TRANSACTION);
      if (escalated.length > 0) onJobsQueued?.();
      for (const { alert, channelIds } of escalated) alertLog.escalationPolicy(alert, channelIds);
      total += escalated.length;
      if (locked < batchSize || escalated.length < locked) return total;
    }
  }

  async function runOnce(): Promise<SchedulerRun> {
    const now = clock();
    const { settings } = await readSettings(prisma, log);
    const reminders = await remind(now, settings);
    const escalations = await escalate(now, settings.escalation, settings.groupIntervalSeconds);
    const rises = await tellHeld(now, "rise", settings.groupIntervalSeconds);
    const resolutions = await tellHeld(now, "resolution", settings.groupIntervalSeconds);
    if (reminders > 0) sent.inc({ kind: "reminder" }, reminders);
    if (escalations > 0) sent.inc({ kind: "escalation" }, escalations);
    if (rises > 0) sent.inc({ kind: "rise" }, rises);
    if (resolutions > 0) sent.inc({ kind: "resolution" }, resolutions);
    if (reminders + escalations + rises + resolutions > 0) {
      log.info({ reminders, escalations, rises, resolutions }, "scheduled notifications queued");
    }
    return { reminders, escalations, resolutions, rises };
  }

  const task = createPeriodicTask({
    name: "scheduler",
    logger: log,
    intervalMs,
    firstRun: "now",
    keepAlive: true,
    run: async () => {
      await runOnce();
      runs.inc({ result: "ok" });
      if (task.failures() > 0) log.info({ failures: task.failures() }, "scheduler recovered");
    },
    onError: (error, failures) => {
      runs.inc({ result: "error" });
      log.warn({ err: error, failures }, "scheduler pass failed; trying again at the next tick");
      return undefined;
    },
  });

  return {
    start() {
      if (task.isRunning()) return;
      log.info({ intervalMs }, "scheduler started");
      // The first pass starts at once, in the background.
      void task.start();
    },
    async stop() {
      if (!task.isRunning()) return;
      await task.stop();
      log.info("scheduler stopped");
    },
    runOnce,
    isHealthy: () => task.isRunning() && task.failures() < 3,
  };
}
