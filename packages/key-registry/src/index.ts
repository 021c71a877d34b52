export {
  KEY_STATES,
  type KeyState,
  keyStateAt,
  keyStatus,
  type LookupResult,
  type RegistryEntry,
  registryEntry,
} from "./key-status";
export { API_KEY_PREFIX, displayPrefix, generateApiKey, hashApiKey } from "./keys";
export { createKeyRegistry, type KeyRegistry, type KeyRegistryOptions } from "./registry";
