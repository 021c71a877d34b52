import type { PrismaClient } from "@apimon/db";
import type { ChannelInfo } from "../senders/sender";

/** Channel settings that are not in the job (the webhook secret, whether it is still enabled). */
export interface ChannelDirectory {
  /** The channel, or null when it no longer exists. */
  get(id: number): Promise<ChannelInfo | null>;
}

/**
 * Reads notification_channels by id with a short cache: a burst of jobs for one channel costs
 * one query, and a disabled or deleted channel stops receiving within `ttlMs`.
 */
export function createChannelDirectory({
  prisma,
  ttlMs,
  now = () => Date.now(),
}: {
  prisma: Pick<PrismaClient, "notificationChannel">;
  ttlMs: number;
  now?: () => number;
}): ChannelDirectory {
  const cache = new Map<number, { at: number; channel: ChannelInfo | null }>();
  return {
    async get(id) {
      const hit = cache.get(id);
      if (hit && now() - hit.at < ttlMs) return hit.channel;
      const row = await prisma.notificationChannel.findUnique({
        where: { id },
        select: { id: true, type: true, enabled: true, secret: true },
      });
      const channel = row && { id: row.id, type: row.type, enabled: row.enabled, secret: row.secret };
      if (ttlMs > 0) {
        // Bounded: a stream of distinct ids cannot grow it; the next lookups simply refill it.
        if (cache.size >= 10_000) cache.clear();
        cache.set(id, { at: now(), channel });
      }
      return channel;
    },
  };
}
