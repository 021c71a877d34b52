import type { HandlerContext } from "@apimon/kafka";

/**
 * Waits for a partition's state rebuild (undefined: none under way), heartbeating meanwhile: a
 * long replay must not cost the consumer its group membership (kafkajs heartbeats only when asked).
 */
export async function awaitRebuild(
  rebuilt: Promise<void> | undefined,
  context: HandlerContext,
  everyMs = 3000,
): Promise<void> {
  if (rebuilt === undefined) return;
  let done = false;
  void rebuilt.finally(() => {
    done = true;
  });
  while (!done) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([rebuilt, new Promise((r) => (timer = setTimeout(r, everyMs)))]);
    clearTimeout(timer);
    if (!done) await context.heartbeat();
  }
}
