import type { PrismaClient } from "@apimon/db";
import { type AppEnv, badRequest, readJson } from "@apimon/http";
import type { Logger } from "@apimon/observability";
import { Hono } from "hono";
import { putSettingsSchema } from "../schemas";
import { readSettings, writeSettings } from "../settings";
import { settingsView } from "../views";

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
}): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  routes.get("/", async (c) => {
    const { settings, updatedAt } = await readSettings(prisma, logger);
    return c.json(settingsView(settings, updatedAt));
  });

  routes.put("/", async (c) => {
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
          found.has(id) ? [] : [{ field: `escalation.channelIds.${i}`, message: `no channel with id ${id}` }],
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
  });

  return routes;
}
