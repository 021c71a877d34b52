// The AlertsApi over today's alerts client in @apimon/client, whose methods have other names.
// Delete this file once that client offers the AlertsApi methods itself.
import { createAlertsClient } from "@apimon/client";
import type { AlertFilter, AlertsApi } from "./alerts-api";

export function createAlertsFetchAdapter(options: { baseUrl: string; adminToken: string }): AlertsApi {
  const client = createAlertsClient(options);
  const api: AlertsApi = {
    listAlerts: (filter) => client.listActive(filter),
    async *iterateAlerts(filter: AlertFilter) {
      for (let cursor = filter.cursor; ; ) {
        const page = await client.listActive({ ...filter, cursor });
        yield* page.items;
        if (!page.nextCursor) return;
        cursor = page.nextCursor;
      }
    },
    getAlert: (id) => client.get(id),
    acknowledgeAlert: (id, note) => client.acknowledge(id, note === undefined ? {} : { note }),
    alertCounts: () => client.counts(),
    alertReport: (params) => client.report(params),
    getSettings: () => client.getSettings(),
    putSettings: (doc) => client.putSettings(doc),
    listChannels: (params) => client.listChannels(params),
    createChannel: (doc) => client.createChannel(doc),
    updateChannel: (id, doc) => client.updateChannel(id, doc),
    deleteChannel: (id) => client.deleteChannel(id),
    testChannel: (id) => client.testChannel(id),
  };
  return api;
}
