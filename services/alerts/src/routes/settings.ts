import type { PrismaClient } from "@apimon/db";
import {
  type AppEnv,
  adminErrorResponses,
  BODY_TOO_LARGE,
  badRequest,
  describeRoute,
  jsonBody,
  jsonResponse,
  OpenAPIHono,
  readJson,
} from "@apimon/http";
import type { Logger } from "@apimon/observability";
import { putSettingsSchema } from "../schemas";
import { readSettings, writeSettings } from "../settings";
import { settingsSchema, settingsView } from "../views";

const tags = ["Settings"];

/**
 * `/alerts/settings`: the thresholds (the spec's `alert_thresholds` shape, which the anomaly
 * detector applies live), the reminder interval and the escalation policy. GET answers the
 * settings in force (the defaults while nothing was saved); PUT replaces the whole document,
 * every omitted field taking its default, and takes what GET answered (`updatedAt` ignored).
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
        "and keys. The anomaly detector applies new thresholds without a restart. Escalation channels must exist.",
      tags,
      request: { body: jsonBody(putSettingsSchema) },
      responses: {
        200: jsonResponse(settingsSchema, "The saved settings"),
        ...adminErrorResponses({
          400: "Invalid body, or an escalation channel that does not exist (`errors` lists the fields)",
          413: BODY_TOO_LARGE,
        }),
      },
    },
    async (c) => {
      const settings = await readJson(c, putSettingsSchema);
      const saved = await prisma.$transaction(async (tx) => {
        const ids = settings.escalation.channelIds;
        if (ids.length > 0) {
          const found = new Set(
            (await tx.notificationChannel.findMany({ where: { id: { in: ids } }, select: { id: true } })).map(
              (ch) => ch.id,
            ),
          );
          const missing = ids.flatMap((id, i) =>
            found.has(id)
              ? []
              : [{ field: `escalation.channelIds.${i}`, message: `no channel with id ${id}` }],
          );
          if (missing.length > 0) throw badRequest("Invalid body", missing);
        }
        return writeSettings(tx, settings);
      });
      c.get("logger").info(
        { repeatIntervalSeconds: settings.repeatIntervalSeconds, escalation: settings.escalation },
        "alert settings updated",
      );
      return c.json(settingsView(saved.settings, saved.updatedAt));
    },
  );

  return routes;
}
