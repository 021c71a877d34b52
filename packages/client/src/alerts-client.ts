import { type AdminClientOptions, createAdminCall } from "./admin-http";
import type { Page } from "./keys-client";

/** What the alerts API answers for a notification channel. */
export interface ChannelView {
  id: number;
  name: string;
  type: "email" | "slack" | "webhook";
  target: string;
  minSeverity: "info" | "warning" | "critical";
  enabled: boolean;
}

/** The part of the alerts service's admin API that operators script: notification channels. */
export function createAlertsClient({ baseUrl, adminToken, fetch: doFetch = fetch }: AdminClientOptions) {
  const call = createAdminCall({ service: "the alerts service", baseUrl, adminToken, fetch: doFetch });
  return {
    listChannels: (cursor?: string) =>
      call<Page<ChannelView>>(
        "GET",
        `/api/v1/alerts/channels${cursor ? `?${new URLSearchParams({ cursor, limit: "100" })}` : "?limit=100"}`,
      ),
    createChannel: (input: {
      name?: string;
      type: ChannelView["type"];
      target: string;
      minSeverity?: ChannelView["minSeverity"];
    }) => call<ChannelView>("POST", "/api/v1/alerts/channels", input),
  };
}

export type AlertsClient = ReturnType<typeof createAlertsClient>;
