import type { Alert, PrismaClient, Silence } from "@apimon/db";
import type { AlertSignal } from "@apimon/events";
import type { Logger, Registry } from "@apimon/observability";
import { counter } from "@apimon/observability";
import type { AlertLog } from "./alert-log";
import { groupHoldUntil } from "./domain/grouping";
import { nameKeyInMessage } from "./domain/key-names";
import { decideSignal, type SignalDecision } from "./domain/lifecycle";
import { channelsFor } from "./domain/routing";
import type { Severity } from "./domain/severity";
import { activeSilences, silenceFor } from "./domain/silences";
import { type AlertGroup, type GroupNews, groupLastTold } from "./groups";
import { enabledChannels, notifyChannels, type Tx } from "./notifications";
import { readSettings } from "./settings";

export interface SignalOutcome {
  decision: SignalDecision;
  /** The alert after the signal (null when the signal was ignored with nothing open). */
  alert: Alert | null;
  /** The severity before an escalation. */
  previousSeverity?: Severity;
  /** Channels that notification jobs were queued for. */
  channelIds: number[];
  /** The active silence that held back the notifications, if one matched. */
  silenceId?: number;
  /** An alert opened, risen in severity or resolved whose notification is held back for its group until then. */
  heldUntil?: Date;
}

/** Where a signal came from: its Kafka message, for exactly-once application. */
export interface SignalPosition {
  groupId: string;
  /** The topic's name on the broker (with any prefix). */
  topic: string;
  partition: number;
  offset: string;
}

export interface SignalProcessor {
  /**
   * Applies one signal in one transaction, with its notification jobs and, given its position,
   * the partition's next offset: a message at an offset already applied changes nothing.
   */
  apply(signal: AlertSignal, position?: SignalPosition): Promise<SignalOutcome>;
}

export interface SignalProcessorDeps {
  prisma: PrismaClient;
  alertLog: AlertLog;
  logger: Logger;
  consoleUrl: string;
  registry?: Registry;
  /** The service's clock: created_at, last_notified_at, critical_at. Signal times come from signals. */
  clock?: () => Date;
}

/** How `alerts_signals_held_total` names what was held, by the signal's decision. */
const HELD_OUTCOMES = {
  open: "opened",
  update: "escalated",
  resolve: "resolved",
  ignore: "ignored",
} as const;

/** Concurrent openers of one fingerprint: the loser re-reads the winner's alert. Twice suffices. */
const MAX_ROUNDS = 3;

/**
 * Applies alert signals to the alerts table, each exactly once: the consumer's position is
 * stored with the change (consumer_offsets), so a redelivered message is skipped. Per
 * fingerprint, at most one alert is open: the
 * partial unique index alerts_open_fingerprint_key enforces it, the open alert's row lock
 * (SELECT … FOR UPDATE) serialises every change to it, and a new alert is inserted with
 * INSERT … ON CONFLICT DO NOTHING, so that two replicas opening the same fingerprint at once
 * end with one alert, the loser applying its signal to the winner's row.
 */
export function createSignalProcessor({
  prisma,
  alertLog,
  logger,
  consoleUrl,
  registry,
  clock = () => new Date(),
}: SignalProcessorDeps): SignalProcessor {
  const signals = counter(
    registry,
    "alerts_signals_total",
    "Alert signals applied, by outcome (opened, updated, escalated, resolved, ignored, redelivered)",
    ["outcome"],
  );

  const silencedSignals = counter(
    registry,
    "alerts_signals_silenced_total",
    "Alert signals applied whose notifications an active silence held back",
  );

  const heldSignals = counter(
    registry,
    "alerts_signals_held_total",
    "Alert signals applied whose notification waits for the alert's group (type and endpoint), by outcome (opened, escalated, resolved)",
    ["outcome"],
  );

  /** Inserts the fingerprint's new alert unless another transaction just did; its id or undefined. */
  async function insertIfAbsent(
    tx: Tx,
    signal: AlertSignal,
    now: Date,
    held: { silenced: boolean; until: Date | null },
  ): Promise<number | undefined> {
    const observedAt = new Date(signal.observedAt);
    const criticalAt = signal.severity === "critical" ? now : null;
    // Never notified while held back: null is how the scheduler knows to notify it later.
    const notifiedAt = held.silenced || held.until !== null ? null : now;
    const rows = await tx.$queryRaw<{ id: number }[]>`
      INSERT INTO alerts (fingerprint, type, severity, status, api_key_id, endpoint, client_ip, message,
                          observed_value, threshold, occurrences, first_seen_at, last_seen_at,
                          last_notified_at, held_until, critical_at, created_at, updated_at)
      VALUES (${signal.fingerprint}, ${signal.type}::alert_type, ${signal.severity}::alert_severity,
              'firing', ${signal.scope.apiKeyId ?? null}::integer, ${signal.scope.endpoint ?? null},
              ${signal.scope.clientIp ?? null}, ${signal.message}, ${signal.observedValue}, ${signal.threshold},
              ${signal.occurrences ?? 1}, ${observedAt}, ${observedAt}, ${notifiedAt}::timestamptz, ${held.until}::timestamptz, ${criticalAt}, ${now}, ${now})
      ON CONFLICT (fingerprint) WHERE status <> 'resolved' DO NOTHING
      RETURNING id`;
    return rows[0]?.id;
  }

  /**
   * Until when news of an alert is held back for its group (type and endpoint): while the group
   * was told of news of that kind less than the group interval ago. An opening alert waits while
   * another alert of the group was notified (its latest `last_notified_at`), a rise in severity
   * while another rise was told, a resolution while another resolution was. The group's lock
   * makes two alerts of one group told of at once come out as one told and one held.
   */
  async function groupHold(
    tx: Tx,
    group: AlertGroup,
    news: Exclude<GroupNews, "escalation">,
    now: Date,
  ): Promise<Date | null> {
    const { groupIntervalSeconds } = (await readSettings(tx, logger)).settings;
    if (groupIntervalSeconds === 0) return null;
    const since = new Date(now.getTime() - groupIntervalSeconds * 1000);
    return groupHoldUntil(await groupLastTold(tx, group, news, since), now, groupIntervalSeconds);
  }

  /**
   * The detector knows keys by id; people know them by name. The key's name and display prefix
   * go into the message (read from api_keys; a deleted key keeps the detector's wording).
   */
  async function withKeyNamed(signal: AlertSignal): Promise<AlertSignal> {
    const apiKeyId = signal.scope.apiKeyId;
    if (apiKeyId === undefined || apiKeyId === null) return signal;
    const key = await prisma.apiKey.findUnique({
      where: { id: apiKeyId },
      select: { name: true, keyPrefix: true },
    });
    if (!key) return signal;
    return {
      ...signal,
      message: nameKeyInMessage(signal.message, apiKeyId, { name: key.name, prefix: key.keyPrefix }),
    };
  }

  /**
   * Queues the alert's notifications to the enabled channels of its severity, unless `held`
   * (a silence, its group, or an alert nobody was told about), and records the timeline event
   * that names them, or until when its group holds it; answers those channels' ids.
   */
  async function notifyAndRecord(
    tx: Tx,
    alert: Alert,
    reason: "firing" | "escalated" | "resolved",
    event: { kind: "opened" | "escalated" | "resolved"; observedValue: number; occurredAt: Date },
    silence: Silence | undefined,
    held = silence !== undefined,
  ): Promise<number[]> {
    const channelIds = held
      ? []
      : await notifyChannels(
          tx,
          alert,
          channelsFor(alert.severity, await enabledChannels(tx)),
          reason,
          consoleUrl,
        );
    await tx.alertEvent.create({
      data: {
        alertId: alert.id,
        severity: alert.severity,
        channelIds,
        silenceId: silence?.id ?? null,
        // Held, and not by a silence: by its group, until the alert's hold is over.
        heldUntil: held && silence === undefined ? alert.heldUntil : null,
        ...event,
      },
    });
    return channelIds;
  }

  async function applyInTransaction(tx: Tx, signal: AlertSignal): Promise<SignalOutcome> {
    const now = clock();
    // A fingerprint's alerts share its type and scope, so one match serves every case below.
    const silence = silenceFor(
      {
        type: signal.type,
        apiKeyId: signal.scope.apiKeyId ?? null,
        endpoint: signal.scope.endpoint ?? null,
        clientIp: signal.scope.clientIp ?? null,
      },
      await activeSilences(tx, now),
    );
    const silenceId = silence?.id;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const [locked] = await tx.$queryRaw<{ id: number }[]>`
        SELECT id FROM alerts WHERE fingerprint = ${signal.fingerprint} AND status <> 'resolved' FOR UPDATE`;
      const open = locked ? await tx.alert.findUniqueOrThrow({ where: { id: locked.id } }) : null;
      let resolvedLastSeenAt: Date | null = null;
      if (open === null && signal.state === "firing") {
        const resolved = await tx.alert.aggregate({
          where: { fingerprint: signal.fingerprint, status: "resolved" },
          _max: { lastSeenAt: true },
        });
        resolvedLastSeenAt = resolved._max.lastSeenAt;
      }
      const decision = decideSignal(
        open && {
          severity: open.severity,
          // The lock query selects open alerts only.
          status: open.status as "firing" | "acknowledged",
          occurrences: open.occurrences,
          lastSeenAt: open.lastSeenAt,
        },
        resolvedLastSeenAt,
        signal,
      );

      switch (decision.kind) {
        case "ignore":
          return { decision, alert: open, channelIds: [] };

        case "open": {
          // A silenced alert waits for its silence anyway; the group matters once it is over.
          const heldUntil =
            silence === undefined
              ? await groupHold(
                  tx,
                  { type: signal.type, endpoint: signal.scope.endpoint ?? null },
                  "opening",
                  now,
                )
              : null;
          const id = await insertIfAbsent(tx, signal, now, {
            silenced: silence !== undefined,
            until: heldUntil,
          });
          // Another transaction opened this fingerprint meanwhile (and has committed: ON CONFLICT
          // waited for it). Go round again: the signal now applies to that alert.
          if (id === undefined) continue;
          const alert = await tx.alert.findUniqueOrThrow({ where: { id } });
          const channelIds = await notifyAndRecord(
            tx,
            alert,
            "firing",
            { kind: "opened", observedValue: alert.observedValue, occurredAt: alert.firstSeenAt },
            silence,
            silence !== undefined || heldUntil !== null,
          );
          return { decision, alert, channelIds, silenceId, ...(heldUntil !== null && { heldUntil }) };
        }

        case "update": {
          const current = open as Alert;
          const { update, escalated } = decision;
          // Never notified (it opened silenced, or is held for its group): the scheduler tells
          // of it, at its new severity. A rise of an alert people heard of, less than the group
          // interval after another rise of its group was told, is held to go with the others
          // rising meanwhile; one already held stays held until then.
          const heard = current.lastNotifiedAt !== null;
          const alreadyHeld = heard ? current.heldUntil : null;
          const riseHeldUntil =
            escalated && silence === undefined && heard
              ? (alreadyHeld ?? (await groupHold(tx, current, "rise", now)))
              : null;
          const held = silence !== undefined || !heard || riseHeldUntil !== null;
          const alert = await tx.alert.update({
            where: { id: current.id },
            data: {
              ...update,
              ...(escalated && {
                ...(!held && { lastNotifiedAt: now, riseNotifiedAt: now }),
                ...(riseHeldUntil !== null && { heldUntil: riseHeldUntil }),
                ...(update.severity === "critical" && current.criticalAt === null && { criticalAt: now }),
              }),
            },
          });
          if (!escalated) return { decision, alert, channelIds: [] };
          const channelIds = await notifyAndRecord(
            tx,
            alert,
            "escalated",
            {
              kind: "escalated",
              observedValue: update.observedValue,
              occurredAt: new Date(signal.observedAt),
            },
            silence,
            held,
          );
          return {
            decision,
            alert,
            previousSeverity: current.severity,
            channelIds,
            silenceId,
            ...(riseHeldUntil !== null && alreadyHeld === null && { heldUntil: riseHeldUntil }),
          };
        }

        case "resolve": {
          const current = open as Alert;
          // Nobody heard of an alert never notified (silenced all along, or held for its group):
          // nothing to resolve for them. A resolution told shortly after another of its group is
          // held, to go with the others resolving meanwhile.
          const heard = silence === undefined && current.lastNotifiedAt !== null;
          const heldUntil = heard ? await groupHold(tx, current, "resolution", now) : null;
          const alert = await tx.alert.update({
            where: { id: current.id },
            data: {
              status: "resolved",
              resolvedAt: decision.resolvedAt,
              ...(decision.occurrences !== undefined && { occurrences: decision.occurrences }),
              heldUntil,
              ...(heard && heldUntil === null && { resolutionNotifiedAt: now }),
            },
          });
          const channelIds = await notifyAndRecord(
            tx,
            alert,
            "resolved",
            { kind: "resolved", observedValue: signal.observedValue, occurredAt: decision.resolvedAt },
            silence,
            !heard || heldUntil !== null,
          );
          return { decision, alert, channelIds, silenceId, ...(heldUntil !== null && { heldUntil }) };
        }
      }
    }
    throw new Error(`fingerprint ${signal.fingerprint}: the open alert kept changing; giving up this round`);
  }

  /**
   * Locks the partition's row in consumer_offsets (creating it on first use) and answers the
   * next offset to apply. A second consumer of the partition (a replica during a rebalance)
   * waits here, then sees the offset this transaction stores.
   */
  async function lockNextOffset(tx: Tx, { groupId, topic, partition }: SignalPosition): Promise<bigint> {
    const [row] = await tx.$queryRaw<{ next_offset: bigint }[]>`
      INSERT INTO consumer_offsets (group_id, topic, partition, next_offset, updated_at)
      VALUES (${groupId}, ${topic}, ${partition}, 0, now())
      ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = consumer_offsets.next_offset
      RETURNING next_offset`;
    return BigInt(row?.next_offset ?? 0);
  }

  return {
    async apply(received, position) {
      const signal = await withKeyNamed(received);
      const outcome = await prisma.$transaction(
        async (tx): Promise<SignalOutcome> => {
          if (position === undefined) return applyInTransaction(tx, signal);
          const offset = BigInt(position.offset);
          if (offset < (await lockNextOffset(tx, position))) {
            return { decision: { kind: "ignore", reason: "redelivered" }, alert: null, channelIds: [] };
          }
          const applied = await applyInTransaction(tx, signal);
          await tx.$executeRaw`
            UPDATE consumer_offsets SET next_offset = ${offset + 1n}, updated_at = now()
            WHERE group_id = ${position.groupId} AND topic = ${position.topic} AND partition = ${position.partition}`;
          return applied;
        },
        { timeout: 15_000, maxWait: 10_000 },
      );
      // Logged after the commit, so a line never announces a change that rolled back.
      const { decision, alert } = outcome;
      if (outcome.silenceId !== undefined && decision.kind !== "ignore") silencedSignals.inc();
      if (outcome.heldUntil !== undefined) {
        heldSignals.inc({ outcome: HELD_OUTCOMES[decision.kind] });
      }
      switch (decision.kind) {
        case "open":
          signals.inc({ outcome: "opened" });
          if (alert) alertLog.firing(alert, outcome.silenceId);
          break;
        case "update":
          signals.inc({ outcome: decision.escalated ? "escalated" : "updated" });
          if (alert && decision.escalated && outcome.previousSeverity)
            alertLog.escalated(alert, outcome.previousSeverity, outcome.silenceId);
          else logger.debug({ alertId: alert?.id, occurrences: alert?.occurrences }, "alert repeated");
          break;
        case "resolve":
          signals.inc({ outcome: "resolved" });
          if (alert) alertLog.resolved(alert);
          break;
        case "ignore":
          signals.inc({ outcome: decision.reason === "redelivered" ? "redelivered" : "ignored" });
          logger.debug({ fingerprint: signal.fingerprint, reason: decision.reason }, "alert signal ignored");
          break;
      }
      return outcome;
    },
  };
}
