export { runKeysCommand, USAGE, UsageError } from "./keys-cli";
export {
  ApiError,
  type ApiKeyView,
  createKeysClient,
  type KeysClient,
  type Page,
  type UserView,
} from "./keys-client";
