export {
  type AlertCountsView,
  type AlertDetailView,
  type AlertFilters,
  type AlertReportView,
  type AlertsClient,
  type AlertView,
  type AuditEventView,
  type AuditFilters,
  type ChannelInput,
  type ChannelView,
  type CreateChannelInput,
  type CreateSilenceInput,
  createAlertsClient,
  type DeliveryView,
  type SettingsView,
  type SilenceInput,
  type SilenceView,
  type TestDeliveryView,
} from "./alerts-client";
export { type ApiClientOptions, ApiError } from "./api-call";
export { type KeptDemoKey, keepDemoKey, keptDemoKey } from "./demo-key-store";
export {
  type ApiKeyView,
  type CallerView,
  type CreateOperatorInput,
  createKeysClient,
  type KeysClient,
  type KeyUsageView,
  type NewOperatorView,
  type OperatorView,
  type Page,
  type UpdateOperatorInput,
  type UsageSummaryView,
  type UsageView,
  type UserView,
} from "./keys-client";
export { type DemoSeed, seedDemo, seedReport } from "./seed";
