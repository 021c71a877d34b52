import type { AlertsClient, ChannelView } from "./alerts-client";
import type { KeysClient } from "./keys-client";
import { seedDemo, seedReport } from "./seed";

/** In-memory keys and alerts APIs with the paging the real ones have. */
function fakeApis(
  existing: {
    users?: Array<{ id: number; email: string }>;
    channels?: ChannelView[];
    stored?: Array<{ id: number; userId: number; prefix: string; state: string }>;
  } = {},
) {
  const users = (existing.users ?? []).map((u) => ({
    ...u,
    name: "x",
    createdAt: "2026-01-01T00:00:00.000Z",
  }));
  const channels = [...(existing.channels ?? [])];
  const keys: string[] = [];
  const page = <T>(items: T[], cursor?: string) => {
    const start = Number(cursor ?? 0);
    const next = start + 2 < items.length ? String(start + 2) : null;
    return { items: items.slice(start, start + 2), nextCursor: next };
  };
  const keysClient = {
    listUsers: async ({ cursor }: { cursor?: string } = {}) => page(users, cursor),
    createUser: async ({ email, name }: { email: string; name: string }) => {
      const user = { id: users.length + 1, email, name, createdAt: "2026-01-01T00:00:00.000Z" };
      users.push(user);
      return user;
    },
    getKey: async (id: number) => {
      const found = existing.stored?.find((k) => k.id === id);
      if (!found) throw new Error("404 Not found");
      return found;
    },
    createKey: async ({ userId, name }: { userId: number; name: string }) => {
      keys.push(name);
      return { id: 40 + keys.length, userId, name, key: `ak_demo${keys.length}` };
    },
  } as unknown as KeysClient;
  const alertsClient = {
    listChannels: async ({ cursor }: { cursor?: string } = {}) => page(channels, cursor),
    createChannel: async (
      input: Omit<ChannelView, "id" | "enabled" | "name" | "minSeverity"> & Partial<ChannelView>,
    ) => {
      const channel = {
        id: channels.length + 1,
        enabled: true,
        name: "",
        minSeverity: "warning",
        ...input,
      } as ChannelView;
      channels.push(channel);
      return channel;
    },
  } as unknown as AlertsClient;
  return { keysClient, alertsClient, users, channels, keys };
}

function channel(id: number, type: ChannelView["type"], target: string): ChannelView {
  const at = "2026-01-01T00:00:00.000Z";
  return {
    id,
    name: `${type} ${id}`,
    type,
    target,
    hasSecret: false,
    minSeverity: "critical",
    alertTypes: [],
    endpoints: [],
    userIds: [],
    enabled: true,
    createdAt: at,
    updatedAt: at,
  };
}

const now = () => new Date("2026-12-03T10:00:00.000Z");

describe("demo seed", () => {
  it("creates the demo user, a key and an email channel on a fresh stack", async () => {
    const apis = fakeApis();
    const seed = await seedDemo({ keys: apis.keysClient, alerts: apis.alertsClient, now });
    expect(seed).toEqual({
      email: "demo@example.com",
      userId: 1,
      key: "ak_demo1",
      keyId: 41,
      reused: false,
      channel: {
        id: 1,
        enabled: true,
        name: "Demo inbox (mail catcher)",
        type: "email",
        target: "alerts@example.com",
        minSeverity: "warning",
      },
    });
    expect(apis.keys).toEqual(["demo 2026-12-03T10:00:00.000Z"]);
  });

  it("finds the user and the channel on a later page instead of duplicating them, and adds one key", async () => {
    const apis = fakeApis({
      users: [
        { id: 1, email: "a@example.com" },
        { id: 2, email: "b@example.com" },
        { id: 3, email: "ops@example.com" },
      ],
      channels: [
        channel(1, "webhook", "https://x"),
        channel(2, "slack", "https://y"),
        channel(3, "email", "oncall@example.com"),
      ],
    });
    const seed = await seedDemo({
      keys: apis.keysClient,
      alerts: apis.alertsClient,
      email: "ops@example.com",
      channelEmail: "oncall@example.com",
      now,
    });
    expect(seed.userId).toBe(3);
    expect(seed.channel?.id).toBe(3);
    expect(apis.users).toHaveLength(3);
    expect(apis.channels).toHaveLength(3);
    expect(apis.keys).toHaveLength(1);
  });

  it("takes the demo channel by its name when it was pointed elsewhere, rather than failing on the name", async () => {
    const renamed = { ...channel(2, "email", "me@example.com"), name: "Demo inbox (mail catcher)" };
    const apis = fakeApis({ channels: [channel(1, "webhook", "https://x"), renamed] });
    const seed = await seedDemo({ keys: apis.keysClient, alerts: apis.alertsClient, now });
    expect(seed.channel).toEqual(renamed);
    expect(apis.channels).toHaveLength(2);
  });

  it("gives back the key it is handed when that key is still the demo user's and active, and adds none", async () => {
    const apis = fakeApis({
      users: [{ id: 1, email: "demo@example.com" }],
      stored: [{ id: 7, userId: 1, prefix: "ak_Kept1234", state: "active" }],
    });
    const seed = await seedDemo({ keys: apis.keysClient, now, kept: { keyId: 7, key: "ak_Kept1234rest" } });
    expect(seed).toMatchObject({ userId: 1, key: "ak_Kept1234rest", keyId: 7, reused: true });
    expect(apis.keys).toEqual([]);
  });

  it("adds a key when the one it is handed is gone, deactivated, another user's or another key of that id", async () => {
    const stored = [
      { id: 7, userId: 1, prefix: "ak_Kept1234", state: "deactivated" },
      { id: 8, userId: 2, prefix: "ak_Kept1234", state: "active" },
      { id: 9, userId: 1, prefix: "ak_Other123", state: "active" },
      { id: 10, userId: 1, prefix: "ak_Kept1234", state: "expired" },
    ];
    for (const keyId of [6, 7, 8, 9, 10]) {
      const apis = fakeApis({ users: [{ id: 1, email: "demo@example.com" }], stored });
      const seed = await seedDemo({ keys: apis.keysClient, now, kept: { keyId, key: "ak_Kept1234rest" } });
      expect(seed).toMatchObject({ key: "ak_demo1", keyId: 41, reused: false });
      expect(apis.keys).toHaveLength(1);
    }
  });

  it("skips the channel when no alerts client is given", async () => {
    const apis = fakeApis();
    const seed = await seedDemo({ keys: apis.keysClient, now });
    expect(seed.channel).toBeUndefined();
    expect(apis.channels).toEqual([]);
  });

  it("prints the key once with the URLs to try it, as seen from the host", () => {
    const lines = seedReport(
      {
        email: "demo@example.com",
        userId: 1,
        key: "ak_x",
        keyId: 41,
        channel: { id: 1, target: "alerts@example.com" },
      },
      { MAIL_PUBLIC_URL: "http://127.0.0.1:8025", CONSOLE_PUBLIC_URL: "http://127.0.0.1:8087" },
    );
    expect(lines).toEqual([
      "demo user:      demo@example.com (id 1)",
      "demo API key:   ak_x   (key id 41; shown only here, stored as a hash)",
      'try it:         curl -i -H "X-API-Key: ak_x" http://127.0.0.1:8080/api/users',
      'a slow call:    curl -i -H "X-API-Key: ak_x" "http://127.0.0.1:8080/api/slow?ms=1500"   (raises a response-time alert)',
      "email channel:  alerts@example.com (id 1), alerts of warning and above",
      "console:        http://127.0.0.1:8087   (sign in with the admin token)",
      "alerts API:     http://127.0.0.1:8081/api/v1/alerts",
      "mail catcher:   http://127.0.0.1:8025",
    ]);
  });
});
