import type { AlertsClient, ChannelView } from "./alerts-client";
import type { KeysClient } from "./keys-client";

export interface DemoSeed {
  email: string;
  userId: number;
  /** A fresh key; its plaintext exists only here (the service keeps a hash). */
  key: string;
  keyId: number;
  /** The email channel to the demo inbox, when an alerts client was given. */
  channel?: ChannelView;
}

/** How many pages of users or channels are searched for an existing demo entry. */
const MAX_PAGES = 100;

/**
 * Makes sure the demo user exists, gives it a fresh API key and, with an alerts client, makes
 * sure an email channel to `channelEmail` exists. Safe to run again: the user and the channel are
 * found, not duplicated; each run adds one key (a key's plaintext cannot be shown twice).
 */
export async function seedDemo({
  keys,
  alerts,
  email = "demo@example.com",
  channelEmail = "alerts@example.com",
  now = () => new Date(),
}: {
  keys: KeysClient;
  alerts?: AlertsClient;
  email?: string;
  channelEmail?: string;
  now?: () => Date;
}): Promise<DemoSeed> {
  let userId: number | undefined;
  for (let cursor: string | undefined, page = 0; userId === undefined && page < MAX_PAGES; page++) {
    const users = await keys.listUsers({ cursor, limit: 100 });
    userId = users.items.find((u) => u.email === email)?.id;
    if (!users.nextCursor) break;
    cursor = users.nextCursor;
  }
  userId ??= (await keys.createUser({ email, name: "Demo user" })).id;
  const created = await keys.createKey({ userId, name: `demo ${now().toISOString()}` });
  const seed: DemoSeed = { email, userId, key: created.key as string, keyId: created.id };
  if (!alerts) return seed;

  for (let cursor: string | undefined, page = 0; seed.channel === undefined && page < MAX_PAGES; page++) {
    const channels = await alerts.listChannels({ cursor, limit: 100 });
    seed.channel = channels.items.find((c) => c.type === "email" && c.target === channelEmail);
    if (!channels.nextCursor) break;
    cursor = channels.nextCursor;
  }
  seed.channel ??= await alerts.createChannel({
    name: "Demo inbox (mail catcher)",
    type: "email",
    target: channelEmail,
    minSeverity: "warning",
  });
  return seed;
}
