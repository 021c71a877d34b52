export { runKeysCommand, USAGE, UsageError } from "./keys-cli";
export {
  ApiError,
  type ApiKeyView,
  createKeysClient,
  type KeysClient,
  type KeyUsageView,
  type Page,
  type UsageSummaryView,
  type UserView,
} from "./keys-client";
