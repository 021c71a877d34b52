import { waitFor } from "./wait";

/** Per-window request limits of a key; a window left out keeps the default. */
export interface KeyRateLimits {
  minute?: number;
  hour?: number;
  day?: number;
}

/** What a test needs of the keys service's admin client (@apimon/client's KeysClient has it). */
export interface KeyAdmin {
  createUser(input: { email: string; name: string }): Promise<{ id: number }>;
  createKey(input: {
    userId: number;
    name: string;
    rateLimits?: KeyRateLimits;
  }): Promise<{ id: number; key: string }>;
}

/**
 * A maker of fresh keys: each call creates a user of its own (named after `label` and the call)
 * and an active key for it, then waits with `afterCreate(n)` (n: keys made so far) until the
 * components under test know it. Returns the plaintext key and its id.
 */
export function keyMaker(
  keys: KeyAdmin,
  {
    label,
    userName,
    afterCreate,
  }: { label: string; userName: string; afterCreate?: (count: number) => Promise<void> },
): (rateLimits?: KeyRateLimits) => Promise<{ key: string; id: number }> {
  let made = 0;
  return async (rateLimits) => {
    made += 1;
    const user = await keys.createUser({
      email: `${label}-${made}-${Date.now()}@example.com`,
      name: userName,
    });
    const created = await keys.createKey({ userId: user.id, name: `key-${made}`, rateLimits });
    await afterCreate?.(made);
    return { key: created.key, id: created.id };
  };
}

/**
 * Waits until the edge whose admin port is `adminUrl` holds at least `count` keys. A probe
 * request would count against the key's limits, so this watches the registry's size in /readyz.
 */
export async function waitForEdgeKeys(
  adminUrl: string,
  count: number,
  what = `the edge to know ${count} keys`,
) {
  await waitFor(
    async () => {
      const body = (await (await fetch(`${adminUrl}/readyz`)).json()) as {
        checks?: { keyRegistry?: { detail?: { keys?: number } } };
      };
      return (body.checks?.keyRegistry?.detail?.keys ?? 0) >= count;
    },
    { timeoutMs: 15_000, intervalMs: 10, what },
  );
}
