import type { AlertSettings } from "@apimon/config";
import { type PrismaClient, recordAudit } from "@apimon/db";
import {
  type AppEnv,
  adminErrorResponses,
  auditActor,
  BODY_TOO_LARGE,
  badRequest,
  conflict,
  describeRoute,
  jsonBody,
  jsonResponse,
  OpenAPIHono,
  readJson,
} from "@apimon/http";
import type { Logger } from "@apimon/observability";
import { settingsUpdated } from "../domain/audit-entries";
import type { Tx } from "../notifications";
import { putSettingsSchema } from "../schemas";
import { lockSettings, readSettings, writeSettings } from "../settings";
import { settingsSchema, settingsView } from "../views";

const tags = ["Settings"];

/** The API keys the overrides name. */
function overrideKeyIds(overrides: AlertSettings["alertThresholds"]["overrides"]): number[] {
  return overrides.flatMap((o) => (o.apiKeyId === undefined ? [] : [o.apiKeyId]));
}

/**
 * The overrides naming a key that does not exist, so that a mistyped id is refused rather than
 * kept and never matched. A key already named by the `saved` overrides stays allowed after it is
 * deleted, so that the settings can still be saved; its override matches nothing any more.
 */
async function unknownOverrideKeys(
  tx: Tx,
  overrides: AlertSettings["alertThresholds"]["overrides"],
  saved: AlertSettings,
): Promise<{ field: string; message: string }[]> {
  const named = [...new Set(overrideKeyIds(overrides))];
  if (named.length === 0) return [];
  const known = new Set([
    ...overrideKeyIds(saved.alertThresholds.overrides),
    ...(await tx.apiKey.findMany({ where: { id: { in: named } }, select: { id: true } })).map((k) => k.id),
  ]);
  return overrides.flatMap((o, i) =>
    o.apiKeyId === undefined || known.has(o.apiKeyId)
      ? []
      : [{ field: `alertThresholds.overrides.${i}.apiKeyId`, message: `no API key with id ${o.apiKeyId}` }],
  );
}

/**
 * `/alerts/settings`: the thresholds (the spec's `alert_thresholds` shape, which the anomaly
 * detector applies live), the reminder interval and the escalation policy. GET answers the
 * settings in force (the defaults while nothing was saved); PUT replaces the whole document,
 * every omitted field taking its default, and takes what GET answered: its `updatedAt` guards
 * against overwriting a change saved in between.
 */
export function createSettingsRoutes({
  prisma,
  logger,
}: {
  prisma: PrismaClient;
  logger: Logger;
}): OpenAPIHono<AppEnv> {
  const routes = new OpenAPIHono<AppEnv>();

  describeRoute(
    routes,
    {
      method: "get",
      path: "/",
      summary: "The alert settings in force (the defaults until saved)",
      tags,
      responses: { 200: jsonResponse(settingsSchema, "The settings"), ...adminErrorResponses({}) },
    },
    async (c) => {
      const { settings, updatedAt } = await readSettings(prisma, logger);
      return c.json(settingsView(settings, updatedAt));
    },
  );

  describeRoute(
    routes,
    {
      method: "put",
      path: "/",
      summary: "Replace the alert settings",
      description:
        "Thresholds keep the spec's `alert_thresholds` shape; every omitted field takes its default. " +
        "`alertThresholds.overrides` sets response_time and error_rate thresholds for particular endpoints " +
        "and keys. The anomaly detector applies new thresholds without a restart. Escalation channels must exist, and so " +
        "must a key an override names (one the saved overrides named already may have been deleted since).",
      tags,
      request: { body: jsonBody(putSettingsSchema) },
      responses: {
        200: jsonResponse(settingsSchema, "The saved settings"),
        ...adminErrorResponses({
          400: "Invalid body, an escalation channel or a newly named override key that does not exist (`errors` lists the fields)",
          409: "The settings were saved since the `updatedAt` given: read them again and redo the change",
          413: BODY_TOO_LARGE,
        }),
      },
    },
    async (c) => {
      const { settings, basedOn } = await readJson(c, putSettingsSchema);
      const saved = await prisma.$transaction(async (tx) => {
        // Saves take turns until each commits, so two PUTs based on the same version cannot both
        // pass the check below.
        await lockSettings(tx);
        if (basedOn !== undefined) {
          const [row] = await tx.$queryRaw<{ updated_at: Date }[]>`
            SELECT updated_at FROM alert_settings WHERE id = 1`;
          const current = row ? row.updated_at.toISOString() : null;
          if (current !== basedOn) {
            throw conflict(
              `The settings were changed at ${current ?? "(never saved)"} since the version this change was based on (${basedOn ?? "the defaults"}): read them again and redo the change`,
            );
          }
        }
        const missing: { field: string; message: string }[] = [];
        const ids = settings.escalation.channelIds;
        if (ids.length > 0) {
          const found = new Set(
            (await tx.notificationChannel.findMany({ where: { id: { in: ids } }, select: { id: true } })).map(
              (ch) => ch.id,
            ),
          );
          const unknownChannels = ids.flatMap((id, i) =>
            found.has(id)
              ? []
              : [{ field: `escalation.channelIds.${i}`, message: `no channel with id ${id}` }],
          );
          missing.push(...unknownChannels);
        }
        // Read under the lock, so that the audit log's "from" is what this save replaced.
        const { settings: before } = await readSettings(tx);
        missing.push(...(await unknownOverrideKeys(tx, settings.alertThresholds.overrides, before)));
        if (missing.length > 0) throw badRequest("Invalid body", missing);
        const written = await writeSettings(tx, settings);
        // A save that changed nothing is not a change: no audit row (see domain/audit-entries.ts).
        const entry = settingsUpdated(before, settings);
        if (entry) await recordAudit(tx, auditActor(c), entry);
        return written;
      });
      c.get("logger").info(
        {
          repeatIntervalSeconds: settings.repeatIntervalSeconds,
          groupIntervalSeconds: settings.groupIntervalSeconds,
          escalation: settings.escalation,
        },
        "alert settings updated",
      );
      return c.json(settingsView(saved.settings, saved.updatedAt));
    },
  );

  return routes;
}
