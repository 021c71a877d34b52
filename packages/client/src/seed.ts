import { DEFAULT_PORTS } from "@apimon/config";
import type { AlertsClient, ChannelView } from "./alerts-client";
import type { KeysClient } from "./keys-client";

export interface DemoSeed {
  email: string;
  userId: number;
  /** The key's plaintext: it exists only here, or where the caller kept it (the service keeps a hash). */
  key: string;
  keyId: number;
  /** The key the caller kept was still the demo user's and active, so no key was added. */
  reused: boolean;
  /** The email channel to the demo inbox, when an alerts client was given. */
  channel?: ChannelView;
}

/** How many pages of users or channels are searched for an existing demo entry. */
const MAX_PAGES = 100;

const DEMO_CHANNEL_NAME = "Demo inbox (mail catcher)";

/**
 * Whether a key the caller kept is still the demo user's, and accepted by the edge: the stored
 * key of that id carries the plaintext's display prefix (a database reset reuses ids), belongs
 * to the user and is active.
 */
async function stillUsable(
  keys: KeysClient,
  kept: { keyId: number; key: string },
  userId: number,
): Promise<boolean> {
  try {
    const stored = await keys.getKey(kept.keyId);
    return (
      stored.userId === userId &&
      stored.state === "active" &&
      stored.prefix.length > 0 &&
      kept.key.startsWith(stored.prefix)
    );
  } catch {
    // Gone (404) or not readable: a new key is the answer either way.
    return false;
  }
}

/**
 * Makes sure the demo user exists and has an API key and, with an alerts client, makes sure an
 * email channel to `channelEmail` exists. Safe to run again: the user and the channel are found,
 * not duplicated. A key's plaintext cannot be read back, so a run adds a key unless it is given
 * one it kept (`kept`) that is still the user's and active.
 */
export async function seedDemo({
  keys,
  alerts,
  email = "demo@example.com",
  channelEmail = "alerts@example.com",
  kept,
  now = () => new Date(),
}: {
  keys: KeysClient;
  alerts?: AlertsClient;
  email?: string;
  channelEmail?: string;
  kept?: { keyId: number; key: string };
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
  let seed: DemoSeed;
  if (kept !== undefined && (await stillUsable(keys, kept, userId))) {
    seed = { email, userId, key: kept.key, keyId: kept.keyId, reused: true };
  } else {
    const created = await keys.createKey({ userId, name: `demo ${now().toISOString()}` });
    seed = { email, userId, key: created.key as string, keyId: created.id, reused: false };
  }
  if (!alerts) return seed;

  // An email channel to the inbox, else the demo channel by its name (channel names are unique;
  // someone may have pointed it elsewhere, which is theirs to do), else a new one.
  let named: ChannelView | undefined;
  for (let cursor: string | undefined, page = 0; seed.channel === undefined && page < MAX_PAGES; page++) {
    const channels = await alerts.listChannels({ cursor, limit: 100 });
    seed.channel = channels.items.find((c) => c.type === "email" && c.target === channelEmail);
    named ??= channels.items.find((c) => c.name === DEMO_CHANNEL_NAME);
    if (!channels.nextCursor) break;
    cursor = channels.nextCursor;
  }
  seed.channel ??=
    named ??
    (await alerts.createChannel({
      name: DEMO_CHANNEL_NAME,
      type: "email",
      target: channelEmail,
      minSeverity: "warning",
    }));
  return seed;
}

/** The lines `apimon seed` prints: the key, then where to use it and where to look. */
export function seedReport(
  seed: {
    email: string;
    userId: number;
    key: string;
    keyId: number;
    reused?: boolean;
    channel?: { id: number; target: string };
  },
  env: NodeJS.ProcessEnv,
): string[] {
  const edge = env.EDGE_PUBLIC_URL ?? `http://127.0.0.1:${DEFAULT_PORTS.edge}`;
  const alerts = env.ALERTS_PUBLIC_URL ?? `http://127.0.0.1:${DEFAULT_PORTS.alerts}`;
  const lines = [
    `demo user:      ${seed.email} (id ${seed.userId})`,
    seed.reused
      ? `demo API key:   ${seed.key}   (key id ${seed.keyId}; the one an earlier seed kept in ${env.SEED_KEY_FILE})`
      : env.SEED_KEY_FILE
        ? `demo API key:   ${seed.key}   (key id ${seed.keyId}; stored as a hash, and kept in ${env.SEED_KEY_FILE} for the next seed)`
        : `demo API key:   ${seed.key}   (key id ${seed.keyId}; shown only here, stored as a hash)`,
    `try it:         curl -i -H "X-API-Key: ${seed.key}" ${edge}/api/users`,
    `a slow call:    curl -i -H "X-API-Key: ${seed.key}" "${edge}/api/slow?ms=1500"   (raises a response-time alert)`,
  ];
  if (seed.channel)
    lines.push(`email channel:  ${seed.channel.target} (id ${seed.channel.id}), alerts of warning and above`);
  lines.push(
    `console:        ${env.CONSOLE_PUBLIC_URL ?? `http://127.0.0.1:${DEFAULT_PORTS.console}`}   (sign in with the admin token)`,
    `alerts API:     ${alerts}/api/v1/alerts`,
  );
  if (env.MAIL_PUBLIC_URL) lines.push(`mail catcher:   ${env.MAIL_PUBLIC_URL}`);
  return lines;
}
