export { ApiError } from "./admin-http";
export { type AlertsClient, type ChannelView, createAlertsClient } from "./alerts-client";
export { APIMON_USAGE, apimonMain, seedReport } from "./apimon-cli";
export { keysCliMain, runKeysCommand, USAGE, UsageError } from "./keys-cli";
export {
  type ApiKeyView,
  createKeysClient,
  type KeysClient,
  type KeyUsageView,
  type Page,
  type UsageSummaryView,
  type UserView,
} from "./keys-client";
export { type DemoSeed, seedDemo } from "./seed";
